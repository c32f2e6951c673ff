"""Deep readiness: the cloud answers for real, asked as the admin (credentials from the secrets
file, never printed). Each function returns a `probes.Check` for `probes.until`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hotstack.catalog import Catalog, Service
from hotstack.core import credentials as clouds
from hotstack.core.scope import Scope
from hotstack.probes import ovsdb_rpc
from hotstack.probes.basic import Check, Miss

REQUEST_TIMEOUT_S = 20
CLOCK_SLACK_S = 2.0  # service records keep whole seconds
CATALOG_MISSES = {"ServiceDisabledException", "EndpointNotFound", "EndpointException"}


class Admin:
    """One admin connection per run, made on first use and shared by probes and jobs."""

    def __init__(self, cat: Catalog) -> None:
        self.cat = cat
        self._conn: Any = None
        self._lock = threading.Lock()

    def conn(self) -> Any:
        with self._lock:
            if self._conn is None:
                self._conn = clouds.connect(self.cat.settings, self.cat.paths)
                self._conn.session.timeout = REQUEST_TIMEOUT_S  # no request may hang a probe
            return self._conn

    def forget(self) -> None:
        """Drop the connection: its token carries the service catalog as it was when it was
        issued, so after endpoints are added the next call must authenticate again."""
        with self._lock:
            self._conn = None

    def listing(self, what: Callable[[Any], Any]) -> list[Any]:
        """`what(conn)` as a list; a catalog without the service means a stale token: forget it."""
        try:
            return list(what(self.conn()))
        except Exception as exc:
            if type(exc).__name__ in CATALOG_MISSES:
                self.forget()
            raise


def token(cat: Catalog) -> Check:
    """A fresh password authentication each attempt: keystone must issue a new token."""
    def check(timeout: float) -> str:
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        auth = clouds.entries(cat.settings, cat.paths, with_user=False)[Scope(cat.settings.name).admin_cloud]["auth"]
        sess = session.Session(auth=v3.Password(**auth), timeout=timeout)
        if not sess.get_token():
            raise Miss("keystone answered without a token")
        return "keystone issued a token"
    return check


def api(admin: Admin, svc: Service) -> Check:
    """An authenticated GET of the probe's path through haproxy on brex_ip answers 2xx (a version
    root may say 300). Each service's path (catalog) is one its API answers from its database alone,
    with no RPC to a worker that may start later."""
    ep = svc.endpoint
    if ep is None:
        raise ValueError(f"{svc.name} has an api probe but no endpoint")
    brex = admin.cat.settings.network.brex_ip

    def check(timeout: float) -> str:
        conn = admin.conn()
        path = svc.probe.path
        if "{project_id}" in path:
            path = path.format(project_id=conn.current_project_id)
        resp = conn.session.get(f"http://{brex}:{ep.port}{path}", raise_exc=False, timeout=timeout,
                                connect_retries=0)
        if not (200 <= resp.status_code < 300 or (path == "/" and resp.status_code == 300)):
            raise Miss(f"GET {path} through haproxy answered {resp.status_code}")
        return f"GET {path} through haproxy → {resp.status_code}"
    return check


def reported_since(updated_at: str | None, since: float | None) -> bool:
    """Did a service record's heartbeat (`updated_at`, UTC without zone) come after `since`
    (unix time)? A record keeps saying "up" for a minute after its process is gone, so a fresh
    container's probe waits for the new process's own report."""
    if since is None:
        return True
    if not updated_at:
        return False
    when = datetime.fromisoformat(updated_at.replace(" ", "T")).replace(tzinfo=UTC)
    return when.timestamp() >= since - CLOCK_SLACK_S


def compute_service(admin: Admin, binary: str, host: str | None,
                    then: Callable[[float], str] | None = None, since: float | None = None) -> Check:
    """`binary` is up in nova's service list (on `host` when given) and has reported since the
    container started; then `then` (cell mapping)."""
    def check(timeout: float) -> str:
        found = [s for s in admin.listing(lambda c: c.compute.services(binary=binary))
                 if host is None or s.host == host]
        _require_up(found, binary, "nova's service list",
                    lambda s: s.state == "up" and reported_since(s.updated_at, since))
        return f"{binary} up" + (f"; {then(timeout)}" if then else "")
    return check


def network_agent(admin: Admin, binary: str) -> Check:
    def check(timeout: float) -> str:
        found = admin.listing(lambda c: c.network.agents(binary=binary))
        _require_up(found, binary, "neutron's agent list", lambda a: bool(a.is_alive))
        return f"{binary} alive"
    return check


def volume_service(admin: Admin, binary: str, since: float | None = None) -> Check:
    def check(timeout: float) -> str:
        found = admin.listing(lambda c: c.block_storage.services(binary=binary))
        _require_up(found, binary, "cinder's service list",
                    lambda s: s.state == "up" and reported_since(s.updated_at, since))
        return f"{binary} up"
    return check


def _require_up(found: list[Any], binary: str, where: str, is_up: Callable[[Any], bool]) -> None:
    if not found:
        raise Miss(f"{binary} is not in {where} yet")
    if not any(is_up(item) for item in found):
        raise Miss(f"{binary} is in {where} but not up (since its container started)")


def chassis(sb_host: str, sb_port: int, hostname: str) -> Check:
    """ovn-controller registered this host in the southbound DB (Chassis and Chassis_Private)."""
    def check(timeout: float) -> str:
        rows = ovsdb_rpc.select(sb_host, sb_port, "OVN_Southbound", "Chassis", ["name", "hostname"],
                                timeout=timeout)
        mine = [r for r in rows if str(r.get("hostname", "")).split(".")[0] == hostname]
        if not mine:
            raise Miss(f"no Chassis row for host {hostname} in the southbound DB")
        name = str(mine[0]["name"])
        private = ovsdb_rpc.select(sb_host, sb_port, "OVN_Southbound", "Chassis_Private", ["name"],
                                   where=[["name", "==", name]], timeout=timeout)
        if not private:
            raise Miss(f"chassis {name} has no Chassis_Private row yet")
        return f"chassis {name} registered"
    return check
