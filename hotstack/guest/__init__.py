"""hotstack's tiny offline guest image: kernel and busybox from the host or Debian packages, an
initramfs with the init script and markers the smoke test reads, a FAT disk with SYSLINUX.

Imports only `core`.
"""
