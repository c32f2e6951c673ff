"""The dashboard: Horizon (Debian's openstack-dashboard) under uwsgi, behind haproxy at
`http://dashboard.<domain>/` (`ports.http`) and on `ports.horizon`; on by default
(`horizon.enabled`)."""

from __future__ import annotations

from hotstack.catalog.model import ConfigFile, Probe, Service
from hotstack.catalog.services.common import Ctx

PROJECT = "horizon"
HTTP_PORT = 8080  # uwsgi's plain HTTP in the container (unprivileged: it runs as horizon)
CONFIG_DIR = "/etc/openstack-dashboard"  # Debian's: the package links its local_settings.py here
LOGIN_PATH = "/auth/login/"
LOGIN_FORM = 'name="password"'  # the login page renders its form (not a 200 error page)
SECRET_KEY = "horizon_secret_key"  # Django's SECRET_KEY (sessions, CSRF tokens)


def services(c: Ctx) -> list[Service]:
    return [Service(
        "horizon", "horizon", ("uwsgi", "--ini", f"{CONFIG_DIR}/hotstack-uwsgi.ini"),
        # The lowest weight makes it the last to get CPU: on a busy machine (everything else
        # starting, or other work beside) it needs the longest (seen: 80 s to load Django).
        Probe("http", path=LOGIN_PATH, expect=LOGIN_FORM, deadline_s=240),
        depends_on=("keystone", "memcached"), slot=34, port=HTTP_PORT, user="horizon",
        # Nothing waits for the dashboard: on a busy start it yields the CPU to the services
        # on the critical path (a quarter of podman's default weight).
        cpu_shares=256,
        configs=(ConfigFile("horizon/local_settings.py", f"{CONFIG_DIR}/local_settings.py", "horizon"),
                 ConfigFile("horizon/hotstack-uwsgi.ini", f"{CONFIG_DIR}/hotstack-uwsgi.ini", "horizon")),
        endpoint=c.endpoint("dashboard", "dashboard", c.s.ports.http), frontend=c.s.ports.horizon,
        secrets=(SECRET_KEY,),
        profile="horizon",
    )]
