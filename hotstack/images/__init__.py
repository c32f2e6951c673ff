"""Container images: their content-hashed refs, the Debian trixie base (pulled, or debootstrap
offline), the parallel build, and the stage `up` runs (build what the services lack).

Imports `containers`, `catalog`, `core`.
"""
