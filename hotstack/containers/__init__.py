"""podman and podman-compose, and what podman says: the command lines (pure functions), the
container snapshot, exec/logs/remove, the labels hotstack sets, and removal for `clean`.

Imports only `catalog` and `core`.
"""
