"""Names derived from the catalog: each service's database user and every secret the rendered
files and the jobs need (stack and render both ask here, so neither names things itself)."""

from __future__ import annotations

from hotstack.catalog.model import Catalog, Service
from hotstack.core.credentials import tenant_secrets

# Secrets that belong to the deployment rather than to one service.
SHARED_SECRETS = ("admin_password", "rabbitmq_password", "metadata_secret", "heat_domain_admin_password",
                  "hotstack_user_password", "haproxy_stats_password")


def db_user(svc: Service) -> str:
    """The database user of a service: its project's (nova-api → nova), one per project."""
    return svc.project


def secret_names(cat: Catalog) -> list[str]:
    names = set(SHARED_SECRETS)
    for svc in cat:
        if svc.database or svc.db_privileges:
            names.add(f"db_{db_user(svc)}")
        if svc.keystone_user:
            names.add(f"keystone_{svc.keystone_user}")
        names.update(svc.secrets)
    names.update(tenant_secrets(cat.settings))  # the password-cost job sets them again too
    return sorted(names)
