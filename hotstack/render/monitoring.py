"""What Prometheus and hotstack's exporter are told, derived from the catalog: one scrape job per
`Service.metrics`, and every service's shallow check (the exporter's `hotstack_service_healthy`)."""

from __future__ import annotations

from typing import Any

from hotstack.catalog import Catalog, Service
from hotstack.catalog.services.monitoring import HOST_CGROUPS, IDS_DIR

CLOUD_INTERVAL_S = 60  # the cloud's usage: one pass over its APIs a minute


def scrape_jobs(cat: Catalog) -> list[dict[str, Any]]:
    """One job per service with a metrics endpoint: its address, path and interval."""
    return [{"job": svc.name, "target": f"{cat.ip(svc.name)}:{m.port}", "path": m.path,
             "interval": f"{m.interval_s}s"} for svc, m in cat.scrape_targets()]


def check(cat: Catalog, svc: Service) -> dict[str, Any]:
    """The exporter's check of a service, as `status` makes it (probes/health.py shallow_check):
    an HTTP probe's GET, else a connect where it listens, else "its container runs"."""
    p = svc.probe
    if p.kind == "http" and p.host:
        return {"kind": "http", "host": p.host, "port": p.port, "path": p.path, "statuses": list(p.statuses)}
    if p.host and p.port:
        return {"kind": "tcp", "host": p.host, "port": p.port}
    if svc.port and not svc.host_network:
        return {"kind": "tcp", "host": str(cat.ip(svc.name)), "port": svc.port}
    return {"kind": "running"}


def exporter_targets(cat: Catalog) -> dict[str, Any]:
    return {
        "services": [{"name": svc.name, "container": svc.container, "check": check(cat, svc)} for svc in cat],
        "cgroup_root": HOST_CGROUPS,
        "container_ids": f"{IDS_DIR}/{cat.paths.container_ids.name}",
        "cloud": "hotstack-exporter",
        "cloud_interval_s": CLOUD_INTERVAL_S,
    }
