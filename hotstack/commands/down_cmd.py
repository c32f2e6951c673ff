"""`hotstack down`: stop and remove the containers, dependents first; all data stays."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.commands import data
from hotstack.commands.progress import QUIET, Progress
from hotstack.containers import control
from hotstack.core import graph, runlock
from hotstack.core.errors import HotstackError
from hotstack.core.graph import GraphRun
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.nodes import converge
from hotstack.stack.bringup import stop_timeout


@dataclass(frozen=True)
class DownReport:
    removed: list[str]
    elapsed_s: float
    data_dir: str
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "elapsed_s": round(self.elapsed_s, 1), "removed": self.removed}


def stop_all(cat: Catalog, progress: Progress = QUIET) -> GraphRun[None]:
    """Remove every existing container, each once the services depending on it are gone."""
    present = control.snapshot()
    deps = {svc.name: svc.depends_on for svc in cat}
    rev = graph.reverse(deps)
    todo = {name: rev[name] for name in deps if cat[name].container in present}

    def stop(name: str) -> None:
        progress.service(name, "stopping", "")
        container = cat[name].container
        control.remove(container, timeout=stop_timeout(cat[name]), stale=present[container].state == control.STALE)
        progress.service(name, "stopped", "")

    return graph.run_graph(todo, stop)


def down(settings: Settings, progress: Progress = QUIET) -> DownReport:
    started = time.monotonic()
    paths = Paths(settings.data_dir)
    cat = catalog.build(settings, paths)
    data.ensure(settings, paths)  # the run lock lives there
    with runlock.exclusive(paths, "down"):
        converge.stop_pods(cat, progress.line)  # the nodes here first: they lean on the control plane
        run = stop_all(cat, progress)
    if not run.ok:
        name, exc = next(iter(run.failed.items()))
        raise HotstackError(f"could not remove {cat[name].container}: {exc}",
                            hint="`podman ps -a` shows what is left; run `hotstack down` again")
    return DownReport(sorted(run.results), time.monotonic() - started, str(settings.data_dir))
