"""`hotstack clean --yes`: remove everything hotstack put on this host, and nothing else."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotstack import catalog
from hotstack.cloud.clouds_yaml import remove_clouds_yaml
from hotstack.commands import data
from hotstack.commands.progress import QUIET, Progress
from hotstack.containers import cleanup
from hotstack.core import runlock
from hotstack.core.errors import BadInput, HotstackError
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import plan
from hotstack.host.step import remove_plan
from hotstack.host.system import Host
from hotstack.nodes import removal


@dataclass
class CleanReport:
    changes: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "changes": self.changes, "errors": self.errors}


def mounts_under(root: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> list[str]:
    return [f.split()[4] for f in mountinfo.read_text().splitlines()
            if Path(f.split()[4]).is_relative_to(root)]


def remove_data(paths: Paths) -> list[str]:
    if not paths.data_dir.exists():
        return []
    left = mounts_under(paths.data_dir)
    if left:
        raise HotstackError(f"{paths.data_dir} still has mounts: {', '.join(left)}",
                            hint="unmount them, then run clean again")
    shutil.rmtree(paths.data_dir)
    return [f"removed {paths.data_dir}"]


def remove_credentials(settings: Settings, paths: Paths) -> list[str]:
    return [f"removed this deployment's entries from {c}" for c in remove_clouds_yaml(settings, paths)]


def clean(settings: Settings, yes: bool, images: bool, progress: Progress = QUIET,
          host: Host | None = None) -> CleanReport:
    if not yes:
        raise BadInput("clean deletes hotstack's containers, data, bridges and host settings",
                       hint="run `hotstack clean --yes` to confirm")
    paths = Paths(settings.data_dir)
    data.removable(settings, paths)  # before any removal step: a foreign data_dir stops it all
    cat = catalog.build(settings, paths)
    report = CleanReport()

    def phase(step_id: str, fn: Callable[[], list[str]]) -> None:
        try:
            done = fn()
        except HotstackError as exc:
            report.errors.append(exc.message)
            progress.step(step_id, "failed", [exc.message])
            return
        progress.step(step_id, "removed" if done else "ok", done)
        report.changes.extend({"step": step_id, "change": d} for d in done)

    with runlock.exclusive(paths, "clean"):
        for entry in cat.nodes:  # pod nodes first: their links hang on the host's underlay bridge
            if entry.kind == "pod":
                phase(f"node-{entry.name}", functools.partial(removal.take_down, cat, entry))
        phase("containers", lambda: cleanup.remove_containers(paths))
        phase("podman-network", lambda: cleanup.remove_network(settings))
        if images:
            phase("images", cleanup.remove_images)
        removed = remove_plan(plan.steps(cat, host), progress.step)
        report.changes += removed["changes"]
        report.errors += removed["errors"]
        phase("credentials", lambda: remove_credentials(settings, paths))
    phase("data-dir", lambda: remove_data(paths))  # also the run lock's state/ when there was none
    return report
