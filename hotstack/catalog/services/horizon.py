"""The dashboard: Horizon under Debian's Apache site (the optional `horizon` profile)."""

from __future__ import annotations

from hotstack.catalog.model import ConfigFile, Probe, Service
from hotstack.catalog.services.common import Ctx

PROJECT = "horizon"
APACHE_PORT = 80  # Debian's Apache site in the container; haproxy fronts it on ports.horizon


def services(c: Ctx) -> list[Service]:
    s = c.s
    return [Service(
        "horizon", "horizon", ("apache2ctl", "-D", "FOREGROUND"),
        Probe("http", path="/", statuses=(200, 302), deadline_s=90),
        depends_on=("keystone", "memcached"), slot=34, port=APACHE_PORT,
        configs=(ConfigFile("horizon/local_settings.py", "/etc/openstack-dashboard/local_settings.py", "root", 0o644),),
        endpoint=c.endpoint("dashboard", "horizon", s.ports.horizon), profile="horizon",
    )]
