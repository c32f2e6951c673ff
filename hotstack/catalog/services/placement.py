"""Placement: the resource-provider API under uwsgi."""

from __future__ import annotations

from hotstack.catalog.model import Probe, Service
from hotstack.catalog.services.common import Ctx, conf, keystone, run, sql, uwsgi

PROJECT = "placement"


def services(c: Ctx) -> list[Service]:
    s = c.s
    return [Service(
        "placement", "placement", uwsgi("placement"), Probe("api", path="/resource_providers", deadline_s=90),
        depends_on=("mariadb", "memcached", "keystone"), slot=22, user="placement",
        configs=(conf("placement", "placement.conf"), conf("placement", "hotstack-uwsgi.ini")),
        **c.api("placement", "placement", s.ports.placement), database=("placement",),
        keystone_user="placement",
        jobs=(sql("placement"), run("placement-db-sync", "placement-manage", "db", "sync"),
              keystone("placement")),
    )]
