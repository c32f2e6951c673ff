"""The clouds.yaml files: hotstack's own copy under data_dir and its entries in the system file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hotstack.core.credentials import entries
from hotstack.core.errors import HotstackError
from hotstack.core.fsutil import write_if_changed
from hotstack.core.paths import Paths
from hotstack.core.scope import Scope
from hotstack.core.settings import Settings


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


def remove_clouds_yaml(settings: Settings, paths: Paths) -> list[Path]:
    """Drop this deployment's entries (and no other's) from the system clouds.yaml and delete its
    own copy; the files changed."""
    scope = Scope(settings.name)
    changed = [paths.clouds_yaml] if paths.clouds_yaml.exists() else []
    paths.clouds_yaml.unlink(missing_ok=True)
    merged = _read_clouds(paths.system_clouds_yaml)
    clouds = merged.get("clouds", {})
    if [clouds.pop(name) for name in (scope.admin_cloud, scope.user_cloud) if name in clouds]:
        write_if_changed(paths.system_clouds_yaml, yaml.safe_dump(merged, sort_keys=True), mode=0o600)
        changed.append(paths.system_clouds_yaml)
    return changed


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


def has_user_cloud(settings: Settings, paths: Paths) -> bool:
    """Did post-setup already add the user's entry (keep it when rewriting the file)?"""
    try:
        data = yaml.safe_load(paths.clouds_yaml.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and Scope(settings.name).user_cloud in (data.get("clouds") or {})
