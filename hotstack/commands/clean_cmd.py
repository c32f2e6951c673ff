"""`hotstack clean --yes`: remove everything hotstack put on this host, and nothing else."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from hotstack.cli.main import emit_json
from hotstack.cli.steps import console_progress
from hotstack.containers import cleanup
from hotstack.core.errors import EXIT_FAILURE, EXIT_OK, BadInput, HotstackError
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import plan
from hotstack.host.step import remove_plan
from hotstack.host.system import Host


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


def clean(settings: Settings, yes: bool, images: bool, as_json: bool, host: Host | None = None) -> int:
    if not yes:
        raise BadInput("clean deletes hotstack's cleanup, data, bridges and host settings",
                       hint="run `hotstack clean --yes` to confirm")
    paths = Paths(settings.data_dir)
    console, progress = console_progress(as_json)
    changes: list[dict[str, str]] = []
    errors: list[str] = []

    def phase(step_id: str, fn: Callable[[], list[str]]) -> None:
        try:
            done = fn()
        except HotstackError as exc:
            errors.append(exc.message)
            progress(step_id, "failed", [exc.message])
            return
        progress(step_id, "removed" if done else "ok", done)
        changes.extend({"step": step_id, "change": d} for d in done)

    phase("containers", lambda: cleanup.remove_containers(paths))
    phase("podman-network", lambda: cleanup.remove_network(settings))
    if images:
        phase("images", cleanup.remove_images)
    result = remove_plan(plan.steps(settings, paths, host), progress)
    changes += result["changes"]
    errors += result["errors"]
    phase("data-dir", lambda: remove_data(paths))
    ok = not errors
    if as_json:
        emit_json({"ok": ok, "changes": changes, "errors": errors})
    else:
        console.print(f"cleaned: {len(changes)} removal(s)" + (f", {len(errors)} error(s)" if errors else ""))
    return EXIT_OK if ok else EXIT_FAILURE
