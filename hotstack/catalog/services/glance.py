"""Images: glance-api under uwsgi, images on the data dir."""

from __future__ import annotations

from hotstack.catalog.model import Probe, Service
from hotstack.catalog.services.common import Ctx, conf, keystone, run, sql, uwsgi

PROJECT = "glance"


def services(c: Ctx) -> list[Service]:
    s = c.s
    return [Service(
        # Like every api probe: a GET the API answers from its database alone.
        "glance", "glance", uwsgi("glance"), Probe("api", path="/v2/images?limit=1", deadline_s=90),
        depends_on=("mariadb", "memcached", "keystone"), slot=21, user="glance",
        volumes=(c.data("glance/images", "/var/lib/glance/images"),),
        configs=(conf("glance", "glance-api.conf"), conf("glance", "hotstack-uwsgi.ini")),
        **c.api("image", "glance", s.ports.glance), database=("glance",), keystone_user="glance",
        jobs=(sql("glance"), run("glance-db-sync", "glance-manage", "db_sync"), keystone("glance")),
    )]
