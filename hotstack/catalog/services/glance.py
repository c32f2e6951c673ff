"""Images: glance-api under uwsgi, images on the data dir."""

from __future__ import annotations

import dataclasses

from hotstack.catalog.model import Service
from hotstack.catalog.services.common import Ctx, conf, wsgi_api

PROJECT = "glance"


def services(c: Ctx) -> list[Service]:
    # Like every api probe: a GET the API answers from its database alone.
    glance = wsgi_api(c, "glance", PROJECT, 21, c.api("image", "glance", c.s.ports.glance), "/v2/images?limit=1",
                      ("mariadb", "memcached", "keystone"), (conf("glance", "glance-api.conf"),),
                      ("glance-manage", "db_sync"))
    return [dataclasses.replace(glance, volumes=(c.data("glance/images", "/var/lib/glance/images"),))]
