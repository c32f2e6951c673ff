"""`hotstack prepare`: make the host ready (OVS, address, libvirt, NFS, firewall, podman)."""

from __future__ import annotations

import time

from hotstack.cli.main import emit_json
from hotstack.cli.steps import console_progress
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import plan
from hotstack.host.step import run_plan
from hotstack.host.system import Host


def prepare(settings: Settings, dry_run: bool, as_json: bool, host: Host | None = None) -> int:
    started = time.monotonic()
    console, progress = console_progress(as_json)
    steps = plan.steps(settings, Paths(settings.data_dir), host)
    result = run_plan(steps, dry_run, progress)
    if as_json:
        emit_json(result)
        return 0
    took = time.monotonic() - started
    if not result["changes"]:
        console.print(f"host already prepared: nothing to do ({took:.1f} s)")
    elif dry_run:
        console.print(f"dry run: {len(result['changes'])} change(s) would be made; nothing was changed")
    else:
        console.print(f"host prepared: {len(result['changes'])} change(s) in {took:.1f} s")
    return 0
