"""`hotstack status`: every service's container, state, health, uptime and endpoint."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from hotstack import catalog
from hotstack.catalog import Catalog, Service
from hotstack.cli.main import emit_json
from hotstack.containers import control
from hotstack.containers.control import Container
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.probes import health
from hotstack.render.configs import HASHES_FILE


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, hours = int(seconds // 60), int(seconds // 3600)
    return f"{hours}h{minutes % 60:02d}m" if hours else (f"{minutes}m" if minutes else f"{int(seconds)}s")


def rendered_hashes(paths: Paths) -> dict[str, str]:
    try:
        data = json.loads((paths.rendered / HASHES_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def rows(cat: Catalog, snapshot: dict[str, Container]) -> list[dict[str, Any]]:
    """One entry per service; health is the shallow probe (a connect, or "running")."""
    hashes = rendered_hashes(cat.paths)

    def row(svc: Service) -> dict[str, Any]:
        found = snapshot.get(svc.container)
        running = found is not None and found.running
        healthy = running and health.shallow(cat, svc, lambda _c: running).ok
        return {"name": svc.name, "container": svc.container, "state": found.state if found else "missing",
                "healthy": healthy, "uptime_s": round(found.uptime_s() or 0) if running and found else None,
                "endpoint": cat.public_url(svc.name) if svc.endpoint else None,
                "config_current": bool(found and found.config_hash == hashes.get(svc.name))}

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(row, list(cat)))


def status(settings: Settings, as_json: bool) -> int:
    """`hotstack status [--json]`: exit 0 when every service is running and answering, else 1."""
    cat = catalog.build(settings, Paths(settings.data_dir))
    found = rows(cat, control.snapshot())
    if as_json:
        emit_json({"services": found})
    else:
        table = Table(box=None, header_style="bold")
        for column in ("service", "container", "state", "healthy", "uptime", "endpoint"):
            table.add_column(column)
        for r in found:
            state = r["state"] + ("" if r["config_current"] or r["state"] == "missing" else " (config changed)")
            mark = "[green]yes[/]" if r["healthy"] else "[red]no[/]"
            table.add_row(r["name"], r["container"], state, mark, _uptime(r["uptime_s"]), r["endpoint"] or "")
        Console().print(table)
        if not all(r["healthy"] for r in found):
            click.echo("not everything is healthy: `hotstack up` starts what is missing, "
                       "`hotstack logs NAME` shows why one fails", err=True)
    return 0 if all(r["healthy"] for r in found) else 1
