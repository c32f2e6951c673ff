"""Identity: keystone under uwsgi, its fernet and credential keys, the bootstrap of the admin."""

from __future__ import annotations

from hotstack.catalog.model import Job, Probe, Service
from hotstack.catalog.services.common import Ctx, conf, run, sql, uwsgi

PROJECT = "keystone"


def services(c: Ctx) -> list[Service]:
    s = c.s
    keys = (c.data("keystone/fernet-keys", "/etc/keystone/fernet-keys"),
            c.data("keystone/credential-keys", "/etc/keystone/credential-keys"))
    admin_url = f"http://{s.network.brex_ip}:{s.ports.keystone}/v3"
    owner = ("--keystone-user", "keystone", "--keystone-group", "keystone")
    return [Service(
        "keystone", "keystone", uwsgi("keystone"),
        Probe("token", deadline_s=120), depends_on=("mariadb", "memcached", "haproxy"), slot=20, user="keystone",
        volumes=keys, configs=(conf("keystone", "keystone.conf"), conf("keystone", "hotstack-uwsgi.ini")),
        **c.api("identity", "keystone", s.ports.keystone, "/v3"), database=("keystone",),
        jobs=(
            sql("keystone"),
            run("keystone-db-sync", "keystone-manage", "db_sync"),
            run("keystone-fernet", "keystone-manage", "fernet_setup", *owner),
            run("keystone-credential", "keystone-manage", "credential_setup", *owner),
            run("keystone-bootstrap", "keystone-manage", "bootstrap", "--bootstrap-username", "admin",
                "--bootstrap-project-name", "admin", "--bootstrap-role-name", "admin",
                "--bootstrap-service-name", "keystone", "--bootstrap-region-id", s.region,
                "--bootstrap-admin-url", admin_url, "--bootstrap-internal-url", admin_url,
                "--bootstrap-public-url", admin_url,
                env=(("OS_BOOTSTRAP_PASSWORD", "admin_password"),)),
            # Once per hash cost: passwords made before at another cost are stored again at this one.
            # Before the endpoints job on a new cloud: its catalog is still bootstrap's brex_ip URLs.
            Job(f"keystone-password-cost-{s.keystone.password_hash_rounds}", "keystone", ("password-cost",),
                after_start=True),
            Job("keystone-endpoints", "keystone", ("service",), after_start=True),
        ),
    )]
