"""Credentials for the cloud, from the secrets file: clouds.yaml entries and openstacksdk connections.

Used by the probes, the one-shot jobs and the cloud room alike; the clouds.yaml files
themselves are written by hotstack.cloud.clouds_yaml."""

from __future__ import annotations

from typing import Any

from hotstack.core.paths import Paths
from hotstack.core.scope import Scope
from hotstack.core.secrets import Secrets
from hotstack.core.settings import Settings

USER_NAME = "hotstack"
USER_PROJECT = "hotstack"


def auth_url(settings: Settings) -> str:
    # The address, not the DNS name: clouds.yaml must work before /etc/hosts knows the names.
    return f"http://{settings.network.brex_ip}:{settings.ports.keystone}/v3"


def cloud_entry(settings: Settings, user: str, project: str, password: str) -> dict[str, Any]:
    return {
        "auth": {"auth_url": auth_url(settings), "username": user, "password": password,
                 "project_name": project, "user_domain_name": "Default", "project_domain_name": "Default"},
        "region_name": settings.region, "interface": "public", "identity_api_version": 3,
    }


def tenant_secret(user: str) -> str:
    """The secrets file's name of a tenant user's password (one keystone user per name, however
    many tenants list it)."""
    return f"tenant_user_{user}_password"


def tenant_secrets(settings: Settings) -> list[str]:
    return sorted({tenant_secret(u.name) for t in settings.tenants for u in t.users})


def entries(settings: Settings, paths: Paths, *, with_user: bool) -> dict[str, Any]:
    """The deployment's clouds.yaml entries by their names (see core/scope.py); with the user's,
    one for each user of each tenant of the settings."""
    scope = Scope(settings.name)
    names = ["admin_password", "hotstack_user_password", *(tenant_secrets(settings) if with_user else [])]
    secret = Secrets(paths.secrets_file).ensure(names)
    clouds = {scope.admin_cloud: cloud_entry(settings, "admin", "admin", secret["admin_password"])}
    if with_user:
        clouds[scope.user_cloud] = cloud_entry(settings, USER_NAME, USER_PROJECT, secret["hotstack_user_password"])
        for tenant in settings.tenants:
            for user in tenant.users:
                clouds[scope.tenant_cloud(tenant.name, user.name)] = cloud_entry(
                    settings, user.name, tenant.name, secret[tenant_secret(user.name)])
    return clouds


def connect(settings: Settings, paths: Paths, *, as_user: bool = False) -> Any:
    """An openstacksdk connection from the secrets (as admin, or as the deployment's own user),
    without reading any clouds.yaml."""
    scope = Scope(settings.name)
    return connect_entry(settings, entries(settings, paths, with_user=as_user)[
        scope.user_cloud if as_user else scope.admin_cloud])


def connect_entry(settings: Settings, entry: dict[str, Any]) -> Any:
    """An openstacksdk connection from one clouds.yaml entry (as `cloud_entry` makes them)."""
    import openstack  # slow to import: only when a command really talks to the cloud

    return openstack.connect(auth_type="password", auth=entry["auth"], region_name=settings.region,
                             interface="public", identity_api_version="3", load_yaml_config=False,
                             load_envvars=False)
