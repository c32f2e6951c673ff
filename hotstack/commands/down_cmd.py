"""`hotstack down`: stop and remove the control, dependents first; all data stays."""

from __future__ import annotations

import time

import click

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.cli.live import ServiceView
from hotstack.cli.main import emit_json
from hotstack.containers import control
from hotstack.core import graph, runlock
from hotstack.core.errors import HotstackError
from hotstack.core.graph import GraphRun
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.stack.bringup import stop_timeout


def _stop_all(cat: Catalog) -> GraphRun[None]:
    """Remove every existing container, each once the services depending on it are gone."""
    present = control.snapshot()
    deps = {svc.name: svc.depends_on for svc in cat}
    rev = graph.reverse(deps)
    todo = {name: rev[name] for name in deps if cat[name].container in present}
    with ServiceView(verb="down") as view:
        def stop(name: str) -> None:
            view.notify(name, "stopping")
            control.remove(cat[name].container, timeout=stop_timeout(cat[name]))
            view.notify(name, "stopped")

        return graph.run_graph(todo, stop)


def down(settings: Settings, as_json: bool) -> int:
    """`hotstack down [--json]`: exit 0 when every container is gone."""
    started = time.monotonic()
    paths = Paths(settings.data_dir)
    cat = catalog.build(settings, paths)
    with runlock.exclusive(paths, "down"):
        run = _stop_all(cat)
    elapsed = time.monotonic() - started
    if as_json:
        emit_json({"ok": run.ok, "elapsed_s": round(elapsed, 1), "removed": sorted(run.results)})
    elif run.ok:
        click.echo(f"{len(run.results)} containers removed in {elapsed:.1f} s; data kept in {settings.data_dir}")
    if not run.ok:
        name, exc = next(iter(run.failed.items()))
        raise HotstackError(f"could not remove {cat[name].container}: {exc}",
                            hint="`podman ps -a` shows what is left; run `hotstack down` again")
    return 0
