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
    before = own_entries(paths)  # a tenant's user dropped from the settings loses its entry
    changed = write_if_changed(paths.clouds_yaml, yaml.safe_dump({"clouds": ours}, sort_keys=True), mode=0o600)
    merged = _read_clouds(paths.system_clouds_yaml)
    clouds = merged.setdefault("clouds", {})
    for name in before - set(ours):
        clouds.pop(name, None)
    clouds.update(ours)
    text = yaml.safe_dump(merged, sort_keys=True)
    return write_if_changed(paths.system_clouds_yaml, text, mode=0o600) or changed


def remove_clouds_yaml(settings: Settings, paths: Paths) -> list[Path]:
    """Drop this deployment's entries (and no other's) from the system clouds.yaml and delete its
    own copy; the files changed."""
    scope = Scope(settings.name)
    names = own_entries(paths) | {scope.admin_cloud, scope.user_cloud}
    changed = [paths.clouds_yaml] if paths.clouds_yaml.exists() else []
    paths.clouds_yaml.unlink(missing_ok=True)
    merged = _read_clouds(paths.system_clouds_yaml)
    clouds = merged.get("clouds", {})
    if [clouds.pop(name) for name in sorted(names) if name in clouds]:
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


def own_entries(paths: Paths) -> set[str]:
    """The entry names of hotstack's own copy: exactly the ones it last wrote to the system file."""
    try:
        data = yaml.safe_load(paths.clouds_yaml.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return set()
    clouds = data.get("clouds") if isinstance(data, dict) else None
    return set(clouds) if isinstance(clouds, dict) else set()


def has_user_cloud(settings: Settings, paths: Paths) -> bool:
    """Did post-setup already add the user's entry (keep it when rewriting the file)?"""
    return Scope(settings.name).user_cloud in own_entries(paths)
