"""`hotstack prepare`: make the host ready (OVS, address, libvirt, NFS, firewall, podman)."""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from hotstack import catalog
from hotstack.commands import data
from hotstack.commands.progress import QUIET, Progress
from hotstack.core import runlock
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import plan
from hotstack.host.step import run_plan
from hotstack.host.system import Host


@dataclass(frozen=True)
class PrepareReport:
    changes: list[dict[str, str]]
    dry_run: bool
    elapsed_s: float
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "changes": self.changes}


def prepare(settings: Settings, dry_run: bool, progress: Progress = QUIET, host: Host | None = None) -> PrepareReport:
    """The whole plan under the run lock (a dry run changes nothing, so it takes none)."""
    started = time.monotonic()
    paths = Paths(settings.data_dir)
    if not dry_run:
        data.ensure(settings, paths)
    steps = plan.steps(catalog.build(settings, paths), host)
    with nullcontext() if dry_run else runlock.exclusive(paths, "prepare"):
        result = run_plan(steps, dry_run, progress.step)
    return PrepareReport(result["changes"], dry_run, time.monotonic() - started)
