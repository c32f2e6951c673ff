"""Health: the wire probes (tcp, http, MySQL greeting, AMQP handshake, OVSDB echo, exec), the
deep cloud probes (token, API, service lists, agents, chassis) and the dispatch from a
service's catalog probe to them.

Imports `containers`, `catalog` and `core`.
"""
