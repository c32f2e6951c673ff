"""Credentials for the cloud: clouds.yaml entries and openstacksdk connections built from secrets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hotstack.core.errors import HotstackError
from hotstack.core.fsutil import write_if_changed
from hotstack.core.paths import Paths
from hotstack.core.secrets import Secrets
from hotstack.core.settings import Settings

ADMIN_CLOUD = "hotstack-os-admin"
USER_CLOUD = "hotstack-os"
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


def entries(settings: Settings, paths: Paths, *, with_user: bool) -> dict[str, Any]:
    names = ["admin_password", "hotstack_user_password"]
    secret = Secrets(paths.secrets_file).ensure(names)
    clouds = {ADMIN_CLOUD: cloud_entry(settings, "admin", "admin", secret["admin_password"])}
    if with_user:
        clouds[USER_CLOUD] = cloud_entry(settings, USER_NAME, USER_PROJECT, secret["hotstack_user_password"])
    return clouds


def write_clouds_yaml(settings: Settings, paths: Paths, *, with_user: bool) -> bool:
    """Write `<data_dir>/clouds.yaml` and merge the same entries into the system clouds.yaml
    (other clouds there are kept), both 0600, so `openstack --os-cloud hotstack-os-admin` works
    from any directory. True when anything changed."""
    ours = entries(settings, paths, with_user=with_user)
    changed = write_if_changed(paths.clouds_yaml, yaml.safe_dump({"clouds": ours}, sort_keys=True), mode=0o600)
    merged = _read_clouds(paths.system_clouds_yaml)
    merged.setdefault("clouds", {}).update(ours)
    text = yaml.safe_dump(merged, sort_keys=True)
    return write_if_changed(paths.system_clouds_yaml, text, mode=0o600) or changed


def remove_clouds_yaml(paths: Paths) -> None:
    """Drop hotstack's entries from the system clouds.yaml and delete its own copy."""
    paths.clouds_yaml.unlink(missing_ok=True)
    merged = _read_clouds(paths.system_clouds_yaml)
    clouds = merged.get("clouds", {})
    if any(clouds.pop(name, None) for name in (ADMIN_CLOUD, USER_CLOUD)):
        write_if_changed(paths.system_clouds_yaml, yaml.safe_dump(merged, sort_keys=True), mode=0o600)


def _read_clouds(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        return {}
    except yaml.YAMLError as exc:
        raise HotstackError(f"{path} is not valid YAML ({exc}); hotstack will not overwrite it",
                            hint=f"fix or move {path}, then run the command again") from None
    if not isinstance(data, dict) or not isinstance(data.get("clouds", {}), dict):
        raise HotstackError(f"{path} has no clouds mapping; hotstack will not overwrite it")
    return data


def connect(settings: Settings, paths: Paths, cloud: str = ADMIN_CLOUD) -> Any:
    """An openstacksdk connection from the secrets, without reading any clouds.yaml."""
    import openstack  # slow to import: only when a command really talks to the cloud

    entry = entries(settings, paths, with_user=cloud == USER_CLOUD)[cloud]
    return openstack.connect(auth_type="password", auth=entry["auth"], region_name=settings.region,
                             interface="public", identity_api_version="3", load_yaml_config=False,
                             load_envvars=False)
