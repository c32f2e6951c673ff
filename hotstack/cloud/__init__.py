"""The cloud once it runs: post-setup (flavors, networks, quotas, the guest image, the cloud
images and their downloads, the user), the clouds.yaml files, the smoke test and its ICMP echo.

Imports `guest`, `catalog`, `core`.
"""
