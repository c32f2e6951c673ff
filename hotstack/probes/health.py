"""Which check answers "is this service healthy?": the full probe of its catalog entry, used
while a service starts, and a shallow one (a TCP connect, or just "running") that keeps a
no-op `up` and `status` fast."""

from __future__ import annotations

from collections.abc import Callable

from hotstack.catalog import Catalog, Service
from hotstack.probes import basic, deep
from hotstack.probes.basic import Check, ProbeResult
from hotstack.probes.deep import Admin

SHALLOW_DEADLINE_S = 1.0
_WIRE = {"tcp": basic.tcp, "mysql": basic.mysql, "amqp": basic.amqp, "ovsdb": basic.ovsdb}


def full_check(cat: Catalog, svc: Service, admin: Admin,
               map_compute_host: Callable[[float], str] | None = None, since: float | None = None) -> Check:
    """The catalog probe of `svc`; `map_compute_host` makes nova-compute's probe include the cell
    mapping (see JobRunner.map_compute_host); `since` (when its container was created) makes
    service-list probes wait for a report of the new process."""
    p = svc.probe
    if p.kind in _WIRE:
        return _WIRE[p.kind](p.host, p.port)
    if p.kind == "http":
        return basic.http(p.host, p.port, p.path, p.statuses, p.expect)
    if p.kind == "exec":
        return basic.exec_check(svc.container, p.command)
    if p.kind == "token":
        return deep.token(cat)
    if p.kind == "api":
        return deep.api(admin, svc)
    if p.kind == "compute_service":
        return deep.compute_service(admin, p.binary, (p.node_host or cat.settings.nova.host) if p.maps_cell else None,
                                    map_compute_host if p.maps_cell else None, since)
    if p.kind == "network_agent":
        return deep.network_agent(admin, p.binary)
    if p.kind == "volume_service":
        return deep.volume_service(admin, p.binary, since)
    if p.kind == "chassis":
        # Both: the chassis rows in `via`'s OVSDB, and the controller's own word (`command`).
        sb = cat[p.via].probe
        return basic.both(basic.exec_check(svc.container, p.command, expect=p.expect),
                          deep.chassis(sb.host, sb.port, p.binary or cat.settings.nova.host))
    raise ValueError(f"{svc.name}: unknown probe kind {p.kind!r}")


def describe(svc: Service) -> str:
    """How a probe is named in messages: `mysql <ip>:<port>`, `api`, `compute_service nova-compute`."""
    p = svc.probe
    where = f" {p.host}:{p.port}" if p.host else ""
    what = f" {p.binary}" if p.binary else (f" `{' '.join(p.command)}`" if p.command else "")
    return f"{p.kind}{where}{what}"


def shallow_check(cat: Catalog, svc: Service, is_running: Callable[[str], bool]) -> Check:
    """The cheapest sign of life: a TCP connect where the service listens, else "running"."""
    p = svc.probe
    if p.host and p.port:
        return basic.tcp(p.host, p.port)
    if svc.port and not svc.host_network:
        return basic.tcp(str(cat.ip(svc.name)), svc.port)
    return basic.running(svc.container, is_running)


def shallow(cat: Catalog, svc: Service, is_running: Callable[[str], bool]) -> ProbeResult:
    """One quick try, no retries to speak of: for services already running with the right config."""
    return basic.until(shallow_check(cat, svc, is_running), SHALLOW_DEADLINE_S, "shallow")
