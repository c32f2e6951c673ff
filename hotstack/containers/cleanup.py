"""hotstack's containers, network and images of one deployment, for `clean`.

A container belongs to this deployment when its compose working-directory label (set by `up`'s
`podman run`, as podman-compose sets it) is under data_dir, or when it mounts something from
data_dir (one-shot jobs). Other
deployments on the same host (a second data_dir, test runs) are left alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hotstack.catalog import IMAGE_REPOSITORY
from hotstack.containers import control, podman
from hotstack.containers.labels import IMAGE_LABEL, WORKDIR_LABEL
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings

IMAGES = f"{IMAGE_REPOSITORY}/*"


def _under(path: str, root: Path) -> bool:
    return Path(path).is_relative_to(root)


def ours(paths: Paths) -> list[str]:
    listed: list[dict[str, Any]] = json.loads(
        podman.run(["ps", "-a", "--filter", f"label={IMAGE_LABEL}", "--format", "json"]).stdout or "[]")
    names = []
    for c in listed:
        workdir = (c.get("Labels") or {}).get(WORKDIR_LABEL)
        name = c["Names"][0]
        if workdir is not None:
            if _under(workdir, paths.data_dir) or _under(workdir, paths.rendered):
                names.append(name)
        elif _mounts_from(name, paths.data_dir):
            names.append(name)
    return names


def _mounts_from(name: str, root: Path) -> bool:
    proc = podman.run(["inspect", "--format", "json", name], check=False)
    if proc.returncode != 0:
        return False
    data = json.loads(proc.stdout)[0]
    return any(_under(m.get("Source", "/"), root) for m in data.get("Mounts", []))


def remove_containers(paths: Paths) -> list[str]:
    names = ours(paths)
    if names:
        control.remove(*names, timeout=10)
    return [f"removed container {n}" for n in names]


def remove_network(s: Settings) -> list[str]:
    name = s.network.podman_network
    if podman.run(["network", "exists", name], check=False).returncode != 0:
        return []
    proc = podman.run(["network", "rm", name], check=False)
    return [f"removed podman network {name}"] if proc.returncode == 0 else [
        f"kept podman network {name}: {proc.stderr.strip()}"]


def remove_images() -> list[str]:
    refs = podman.run(["images", "--filter", f"reference={IMAGES}", "--format",
                       "{{.Repository}}:{{.Tag}}"]).stdout.split()
    if refs:
        podman.run(["rmi", "-f", *refs], check=False, timeout=600)
    return [f"removed image {r}" for r in refs]
