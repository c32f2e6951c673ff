# hotstack: the static files of this image, collected and compressed when it was built.
# In local_settings.d (run after the rendered local_settings.py), so the settings the files
# were compressed with are the ones the dashboard runs with.
STATIC_ROOT = "/var/lib/openstack-dashboard/static/"
COMPRESS_ENABLED = True
COMPRESS_OFFLINE = True
