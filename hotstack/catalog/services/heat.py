"""Orchestration: heat-api, heat-api-cfn (metadata and wait-condition signals) and heat-engine."""

from __future__ import annotations

import dataclasses

from hotstack.catalog.model import Job, Probe, Service
from hotstack.catalog.services.common import Ctx, api_deps, conf, uwsgi, wsgi_api

PROJECT = "heat"


def services(c: Ctx) -> list[Service]:
    s = c.s
    heat_conf = (conf("heat", "heat.conf"),)
    api = wsgi_api(c, "heat-api", PROJECT, 32, c.api("orchestration", "heat", s.ports.heat, "/v1/%(project_id)s"),
                   "/", api_deps(), heat_conf, ("heat-manage", "db_sync"))
    return [
        # heat-api forwards every other request to heat-engine, which may start later: its probe
        # asks for the version root. heat also needs its stack domain (a keystone job).
        dataclasses.replace(api, jobs=(*api.jobs, Job("heat-stack-domain", "keystone", ("stack-domain",)))),
        Service(
            # Servers in stacks get their metadata (and wait conditions their signals) here.
            "heat-api-cfn", "heat", uwsgi("heat", "hotstack-uwsgi-cfn.ini"),
            Probe("http", path="/", statuses=(200, 300), deadline_s=90),
            depends_on=api_deps(), after_jobs=("heat-api",), slot=35, user="heat",
            configs=(*heat_conf, conf("heat", "hotstack-uwsgi-cfn.ini")),
            **c.api("cloudformation", "heat-cfn", s.ports.heat_cfn, "/v1"), keystone_user="heat",
            jobs=(Job("heat-api-cfn-keystone", "keystone", ("service",)),),
        ),
        Service(
            "heat-engine", "heat", ("heat-engine", "--config-file", "/etc/heat/heat.conf"),
            Probe("exec", command=("sh", "-c", "pgrep -f heat-engine >/dev/null"), deadline_s=60),
            depends_on=api_deps(), after_jobs=("heat-api",), slot=33, user="heat", configs=heat_conf,
        ),
    ]
