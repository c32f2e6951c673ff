# hotstack: the settings `manage.py collectstatic` and `compress` run with while the image is
# built (removed afterwards; hotstack mounts the rendered local_settings.py). WEBROOT must be
# the rendered file's: the compressed CSS and the offline manifest embed the static URL.
SECRET_KEY = "image-build-only"
WEBROOT = "/"
# The angular template block sits in a {% cache %} tag: with Horizon's default cache (memcached
# on 127.0.0.1, absent here) `compress` silently skips it and the login page fails with
# OfflineGenerationError. The block's key does not depend on the backend.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
