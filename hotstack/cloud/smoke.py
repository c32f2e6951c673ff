"""The smoke test: what the cloud's users need, done once as the `hotstack` user, timed.

server → console marker and metadata read → floating IP ping → TCP through the floating IP
→ volume attach/seen/detach → trunk with a VLAN subport → heat stack. Everything made is
removed at the end, even on failure (unless keep); what an earlier `--keep` run left is
removed before starting.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotstack.cloud.icmp import ping
from hotstack.cloud.post_setup import PRIVATE_NET, PUBLIC_NET
from hotstack.core.settings_cloud import GUEST_IMAGE, SMOKE_FLAVOR
from hotstack.guest.init import MARKER, TCP_GREETING, TCP_PORT

PREFIX = "hotstack-smoke"
Progress = Callable[[str], None]


@dataclass
class StepResult:
    ok: bool
    seconds: float
    detail: str


@dataclass
class Report:
    steps: dict[str, StepResult] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps.values())

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "elapsed_s": round(self.elapsed_s, 1),
                "steps": {k: {"ok": v.ok, "seconds": round(v.seconds, 1), "detail": v.detail}
                          for k, v in self.steps.items()}}


class StepFailed(Exception):
    pass


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """Poll `check` until it returns something truthy; StepFailed naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise StepFailed(f"{what}: not after {timeout:.0f} s")
        time.sleep(interval)


class Smoke:
    def __init__(self, conn: Any, progress: Progress, flavor: str = SMOKE_FLAVOR) -> None:
        self.conn, self.progress, self.flavor = conn, progress, flavor
        self.report = Report()
        self.cleanup: list[tuple[str, Callable[[], Any]]] = []
        self.server: Any = None
        self.fip: Any = None

    def step(self, name: str, fn: Callable[[], str]) -> None:
        self.progress(f"{name} ...")
        start = time.monotonic()
        try:
            detail, ok = fn(), True
        except Exception as exc:  # one failed step is reported, later ones still try what they can
            detail, ok = f"{type(exc).__name__}: {exc}", False
        self.report.steps[name] = StepResult(ok, time.monotonic() - start, detail)
        self.progress(f"{name}: {'ok' if ok else 'FAILED'} in {time.monotonic() - start:.1f} s — {detail}")
        if not ok:
            raise StepFailed(detail)

    def later(self, label: str, fn: Callable[[], Any]) -> None:
        self.cleanup.append((label, fn))

    # -- steps -------------------------------------------------------------------------------
    def server_active(self) -> str:
        net = self.conn.network
        private = net.find_network(PRIVATE_NET)
        trunk_net = net.create_network(name=f"{PREFIX}-vlan")
        self.later("vlan network", lambda: net.delete_network(trunk_net))
        net.create_subnet(network_id=trunk_net.id, ip_version=4, cidr="192.168.201.0/24", name=f"{PREFIX}-vlan")
        parent = net.create_port(network_id=private.id, name=f"{PREFIX}-parent")
        self.later("parent port", lambda: net.delete_port(parent, ignore_missing=True))
        self.trunk = net.create_trunk(name=f"{PREFIX}-trunk", port_id=parent.id)
        self.later("trunk", lambda: net.delete_trunk(self.trunk, ignore_missing=True))
        image = self.conn.image.find_image(GUEST_IMAGE)
        flavor = self.conn.compute.find_flavor(self.flavor)
        if image is None or flavor is None:
            raise StepFailed(f"image {GUEST_IMAGE} or flavor {self.flavor} missing: run `hotstack setup-cloud`")
        start = time.monotonic()
        self.server = self.conn.compute.create_server(
            name=f"{PREFIX}-server", image_id=image.id, flavor_id=flavor.id, networks=[{"port": parent.id}])
        self.later("server", self._delete_server)
        self.server = self.conn.compute.wait_for_server(self.server, status="ACTIVE", wait=180, interval=1)
        return f"{self.server.id} ACTIVE after {time.monotonic() - start:.1f} s"

    def console_marker(self) -> str:
        def seen() -> bool:
            return MARKER in self._console()
        wait_for("console marker", seen, 120, 2)
        # Right after the marker the guest reads the metadata service: TCP from the guest through
        # OVN (and its conntrack) to the metadata agent's proxy.
        answer = wait_for("metadata answer", lambda: self._line("HOTSTACK-METADATA"), 90, 2)
        if not answer.startswith("HOTSTACK-METADATA ok"):
            raise StepFailed(f"the guest could not read the metadata service ({answer}): see "
                             "`hotstack logs neutron-ovn-metadata-agent` and the ovnmeta namespace")
        lines = [ln.strip() for ln in self._console().splitlines() if ln.startswith("HOTSTACK-")]
        wanted = ("HOTSTACK-IP", "HOTSTACK-DISKS", "HOTSTACK-GUEST-READY", "HOTSTACK-METADATA")
        return "; ".join(ln for ln in lines if ln.startswith(wanted))

    def floating_ip_ping(self) -> str:
        public = self.conn.network.find_network(PUBLIC_NET)
        port = next(iter(self.conn.network.ports(device_id=self.server.id)))
        self.fip = self.conn.network.create_ip(floating_network_id=public.id, port_id=port.id,
                                               description=PREFIX)
        self.later("floating ip", lambda: self.conn.network.delete_ip(self.fip, ignore_missing=True))
        address = self.fip.floating_ip_address
        rtt = wait_for(f"ping {address}", lambda: ping(address, timeout=1.0), 90, 0.5)
        return f"{address} answered in {rtt * 1000:.1f} ms"

    def floating_ip_tcp(self) -> str:
        address = self.fip.floating_ip_address
        line = wait_for(f"TCP {address}:{TCP_PORT}", lambda: greeting(address, TCP_PORT), 60, 1)
        return f"{address}:{TCP_PORT} answered {line!r}"

    def volume_attach(self) -> str:
        bs = self.conn.block_storage
        vol = bs.create_volume(name=f"{PREFIX}-volume", size=1)
        self.later("volume", lambda: bs.delete_volume(vol, ignore_missing=True))
        bs.wait_for_status(vol, "available", failures=["error"], wait=120, interval=1)
        att = self.conn.compute.create_volume_attachment(self.server, volume=vol)
        bs.wait_for_status(vol, "in-use", failures=["error"], wait=120, interval=1)
        wait_for("guest sees vdb", lambda: "vdb" in self._last_disks(), 90, 2)
        self.conn.compute.delete_volume_attachment(self.server, vol)
        bs.wait_for_status(vol, "available", failures=["error", "error_detaching"], wait=120, interval=1)
        return f"volume {vol.id} attached as {att.device or 'vdb'}, seen by the guest, detached"

    def trunk_subport(self) -> str:
        net = self.conn.network
        vlan_net = net.find_network(f"{PREFIX}-vlan")
        sub = net.create_port(network_id=vlan_net.id, name=f"{PREFIX}-subport")
        self.later("subport", lambda: net.delete_port(sub, ignore_missing=True))
        net.add_trunk_subports(self.trunk, [{"port_id": sub.id, "segmentation_type": "vlan",
                                             "segmentation_id": 101}])
        self.later("trunk subports", lambda: net.delete_trunk_subports(self.trunk, [{"port_id": sub.id}]))
        trunk = wait_for("trunk ACTIVE", lambda: (t := net.get_trunk(self.trunk)).status == "ACTIVE" and t, 60)
        return f"trunk {trunk.id} ACTIVE with subport VLAN 101"

    def heat_stack(self, template: dict[str, Any]) -> str:
        orch = self.conn.orchestration
        stack = orch.create_stack(name=f"{PREFIX}-stack", template=template, parameters={})
        self.later("stack", lambda: orch.delete_stack(stack, ignore_missing=True))
        stack = orch.wait_for_status(stack, "CREATE_COMPLETE", failures=["CREATE_FAILED"], interval=2, wait=300)
        orch.delete_stack(stack)
        orch.wait_for_delete(stack, interval=2, wait=180)
        return f"stack {stack.id} CREATE_COMPLETE and deleted"

    # -- helpers -----------------------------------------------------------------------------
    def _console(self) -> str:
        try:
            return str(self.conn.compute.get_server_console_output(self.server)["output"] or "")
        except Exception:  # the console RPC times out now and then (SANDBOX); the poll retries
            return ""

    def _line(self, prefix: str) -> str:
        """The last console line starting with prefix ("" when none yet)."""
        lines = [ln.strip() for ln in self._console().splitlines() if ln.startswith(prefix)]
        return lines[-1] if lines else ""

    def _last_disks(self) -> str:
        return self._line("HOTSTACK-DISKS")

    def _delete_server(self) -> None:
        self.conn.compute.delete_server(self.server, ignore_missing=True)
        self.conn.compute.wait_for_delete(self.server, interval=1, wait=120)

    def tear_down(self) -> list[str]:
        problems = []
        for label, fn in reversed(self.cleanup):
            try:
                fn()
            except Exception as exc:
                problems.append(f"{label}: {exc}")
        self.cleanup.clear()
        return problems


def sweep_leftovers(conn: Any) -> list[str]:
    """Remove what an earlier `smoke --keep` (or a killed run) left, so names are unique again."""
    removed: list[str] = []
    net, orch = conn.network, conn.orchestration
    for stack in orch.stacks():
        if stack.name == f"{PREFIX}-stack":
            orch.delete_stack(stack)
            orch.wait_for_delete(stack, interval=2, wait=180)
            removed.append(f"stack {stack.id}")
    for server in conn.compute.servers(name=f"^{PREFIX}-server$"):
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, interval=1, wait=120)
        removed.append(f"server {server.id}")
    ports = [p for name in ("parent", "subport") for p in net.ports(name=f"{PREFIX}-{name}")]
    for fip in net.ips():
        if fip.description == PREFIX or fip.port_id in {p.id for p in ports}:
            net.delete_ip(fip)
            removed.append(f"floating IP {fip.floating_ip_address}")
    for trunk in net.trunks(name=f"{PREFIX}-trunk"):
        net.delete_trunk(trunk)
        removed.append(f"trunk {trunk.id}")
    for port in ports:
        net.delete_port(port, ignore_missing=True)
        removed.append(f"port {port.name}")
    for network in net.networks(name=f"{PREFIX}-vlan"):
        net.delete_network(network)
        removed.append(f"network {network.name}")
    for volume in conn.block_storage.volumes(name=f"{PREFIX}-volume"):
        conn.block_storage.delete_volume(volume)
        removed.append(f"volume {volume.id}")
    return removed


def greeting(address: str, port: int, timeout: float = 3.0) -> str | None:
    """The guest's TCP greeting line, or None when the connection or the line does not come."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            conn.settimeout(timeout)
            data = b""
            while b"\n" not in data and len(data) < 256:
                chunk = conn.recv(256)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    line = data.decode(errors="replace").strip()
    return line if line == TCP_GREETING else None


def stack_template(flavor: str) -> dict[str, Any]:
    """A stack with a network, a server on it and a volume: Heat driving three services at once."""
    return {
        "heat_template_version": "2021-04-16",
        "resources": {
            "net": {"type": "OS::Neutron::Net"},
            "subnet": {"type": "OS::Neutron::Subnet",
                       "properties": {"network": {"get_resource": "net"}, "cidr": "192.168.202.0/24"}},
            "server": {"type": "OS::Nova::Server",
                       "properties": {"image": GUEST_IMAGE, "flavor": flavor,
                                      "networks": [{"network": {"get_resource": "net"}}]},
                       "depends_on": ["subnet"]},
            "volume": {"type": "OS::Cinder::Volume", "properties": {"size": 1}},
        },
    }


def run_smoke(conn: Any, progress: Progress, *, keep: bool = False) -> Report:
    smoke = Smoke(conn, progress)
    start = time.monotonic()
    if left := sweep_leftovers(conn):
        progress("removed what an earlier run left: " + ", ".join(left))
    steps: list[tuple[str, Callable[[], str]]] = [
        ("server", smoke.server_active), ("console", smoke.console_marker), ("ping", smoke.floating_ip_ping),
        ("tcp", smoke.floating_ip_tcp), ("volume", smoke.volume_attach), ("trunk", smoke.trunk_subport),
        ("heat", lambda: smoke.heat_stack(stack_template(smoke.flavor))),
    ]
    try:
        for name, fn in steps:
            smoke.step(name, fn)
    except StepFailed:
        pass
    finally:
        if not keep:
            for problem in smoke.tear_down():
                progress(f"cleanup: {problem}")
    smoke.report.elapsed_s = time.monotonic() - start
    return smoke.report
