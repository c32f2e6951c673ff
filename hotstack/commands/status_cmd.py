"""`hotstack status`: every service's container, state, health, uptime and endpoint."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hotstack import catalog
from hotstack.catalog import Catalog, Service
from hotstack.containers import control
from hotstack.containers.control import Container
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import daemons
from hotstack.host.system import Host
from hotstack.probes import alerts, health
from hotstack.render.configs import HASHES_FILE


@dataclass(frozen=True)
class StatusReport:
    services: list[dict[str, Any]]
    daemons: list[dict[str, Any]]  # the host daemons the cloud relies on: OVS, libvirt
    # Firing alerts from Alertmanager (monitoring on); None when off, `alerts_error` when it did not answer.
    alerts: list[dict[str, Any]] | None = None
    alerts_error: str | None = None

    @property
    def ok(self) -> bool:
        return all(r["healthy"] for r in self.services) and all(d["running"] for d in self.daemons)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok, "services": self.services, "host_daemons": self.daemons}
        if self.alerts is not None or self.alerts_error:
            out["alerts"] = self.alerts or []
        if self.alerts_error:
            out["alerts_error"] = self.alerts_error
        return out


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


def daemon_rows(host: Host) -> list[dict[str, Any]]:
    return [{"name": d.name, "running": daemons.is_up(d)} for d in daemons.relied_on(host)]


def alert_rows(cat: Catalog) -> tuple[list[dict[str, Any]] | None, str | None]:
    """(firing alerts, why they could not be read): (None, None) with monitoring off."""
    if cat.alerting is None:
        return None, None
    try:
        return alerts.firing(cat.address(cat.alerting)), None
    except OSError as exc:
        return None, f"{cat.alerting} did not answer: {exc}"


def status(settings: Settings, host: Host | None = None) -> StatusReport:
    cat = catalog.build(settings, Paths(settings.data_dir))
    firing, error = alert_rows(cat)
    return StatusReport(rows(cat, control.snapshot()), daemon_rows(host or Host()), firing, error)
