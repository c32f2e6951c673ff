"""Placement: the resource-provider API under uwsgi."""

from __future__ import annotations

from hotstack.catalog.model import Service
from hotstack.catalog.services.common import Ctx, conf, wsgi_api

PROJECT = "placement"


def services(c: Ctx) -> list[Service]:
    return [wsgi_api(c, "placement", PROJECT, 22, c.api("placement", "placement", c.s.ports.placement),
                     "/resource_providers", ("mariadb", "memcached", "keystone"),
                     (conf("placement", "placement.conf"),), ("placement-manage", "db", "sync"))]
