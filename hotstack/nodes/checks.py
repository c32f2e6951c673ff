"""Is a node's compute role up? Asked of the cloud with the bundle's own service users (nova's
for the compute service, neutron's for the agents) — a node holds no admin password — and of
ovn-controller itself. Each returns a `probes.Check` for `probes.until`."""

from __future__ import annotations

from typing import Any

from hotstack.containers import control
from hotstack.core.credentials import connect_entry
from hotstack.core.settings import Settings
from hotstack.nodes.bundle import Bundle
from hotstack.probes.basic import Check, Miss
from hotstack.probes.deep import reported_since
from hotstack.stack.keystone_jobs import SERVICE_PROJECT

REQUEST_TIMEOUT_S = 20


def service_connection(settings: Settings, bundle: Bundle, user: str) -> Any:
    auth = {"auth_url": f"http://{bundle.control}:{settings.ports.keystone}/v3", "username": user,
            "password": bundle.service_password(user), "project_name": SERVICE_PROJECT,
            "user_domain_name": "Default", "project_domain_name": "Default"}
    conn = connect_entry(settings, {"auth": auth})
    conn.session.timeout = REQUEST_TIMEOUT_S
    return conn


def controller_connected(container: str) -> Check:
    def check(timeout: float) -> str:
        code, out = control.exec_in(container, ["ovn-appctl", "-t", "/run/ovn/ovn-controller.ctl",
                                                "connection-status"], timeout=max(timeout, 5), check=False)
        if code != 0 or out.strip() != "connected":
            raise Miss(f"ovn-controller says {out.strip() or 'nothing'} (not connected to the southbound DB)")
        return "connected to the southbound DB"
    return check


def agent_alive(conn: Any, binary: str, host: str) -> Check:
    def check(timeout: float) -> str:
        found = [a for a in conn.network.agents(binary=binary) if a.host == host]
        if not found or not any(a.is_alive for a in found):
            raise Miss(f"{binary} on {host} is not alive in neutron's agent list")
        return f"{binary} alive"
    return check


def compute_up(conn: Any, host: str, since: float | None) -> Check:
    def check(timeout: float) -> str:
        found = [s for s in conn.compute.services(binary="nova-compute") if s.host == host]
        if not any(s.state == "up" and reported_since(s.updated_at, since) for s in found):
            raise Miss(f"nova-compute on {host} has not reported up since it started")
        return "nova-compute up"
    return check


def hypervisor_up(conn: Any, host: str) -> Check:
    """Mapped to the cell: the hypervisor list (read through the cell mappings) has it, up."""
    def check(timeout: float) -> str:
        found = [h for h in conn.compute.hypervisors(details=True) if h.name.split(".")[0] == host]
        if not found:
            raise Miss(f"{host} is not in the hypervisor list yet (not mapped to the cell)")
        if found[0].state != "up":
            raise Miss(f"hypervisor {host} is {found[0].state}")
        return f"hypervisor {host} up"
    return check
