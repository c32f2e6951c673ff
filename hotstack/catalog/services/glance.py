"""Images: glance-api under uwsgi, images on the data dir."""

from __future__ import annotations

import dataclasses

from hotstack.catalog.model import Service
from hotstack.catalog.services.common import Ctx, conf, run, wsgi_api

PROJECT = "glance"
METADEFS = "/etc/glance/metadefs"  # where Debian's glance-common puts them


def services(c: Ctx) -> list[Service]:
    # Like every api probe: a GET the API answers from its database alone.
    glance = wsgi_api(c, "glance", PROJECT, 21, c.api("image", "glance", c.s.ports.glance), "/v2/images?limit=1",
                      ("mariadb", "memcached", "keystone"), (conf("glance", "glance-api.conf"),),
                      ("glance-manage", "db_sync"))
    # The metadata definitions Debian ships (image, flavor and instance properties the dashboard's
    # "Update Metadata" dialogs offer) are loaded into the database once, after its schema.
    sql_job, db_sync, keystone_job = glance.jobs
    metadefs = run("glance-metadefs", "glance-manage", "db_load_metadefs", METADEFS)
    return [dataclasses.replace(glance, volumes=(c.data("glance/images", "/var/lib/glance/images"),),
                                jobs=(sql_job, db_sync, metadefs, keystone_job))]
