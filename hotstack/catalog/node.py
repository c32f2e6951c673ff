"""A node: one hypervisor the compute role (ovn-controller, nova-compute, the OVN metadata agent)
renders for. The first host is node one; `Node.first` is what it always was, so the default
catalog renders unchanged. Design: docs/nodes.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Interface
from pathlib import Path

from hotstack.core.paths import Paths
from hotstack.core.scope import Scope
from hotstack.core.settings import Settings


@dataclass(frozen=True)
class Node:
    name: str  # "" for node one; else a short DNS label (compute-2)
    host: str  # nova's `host`, the OVN chassis' hostname, the hypervisor's name
    address: str  # nova's my_ip, where its guests' VNC listens, its geneve endpoint
    # The `-n` name of ovn-controller and the metadata agent on an Open vSwitch shared with
    # another deployment; None: the OVS's own system-id names the chassis.
    chassis: str | None = None
    network: str = "host"  # the compose network_mode of its containers (a pod node: `ns:<its netns>`)
    run: str = "/run"  # where its Open vSwitch, libvirt and metadata namespaces keep their run dirs
    root: Path | None = None  # its per-node state on this machine; None: the data dir itself
    # The host directory of its TLS trust (ca.crt, node.crt, node.key) for the southbound DB;
    # None: node one, which reaches the southbound DB on the container network.
    pki: str | None = None
    # Where it reaches node one's migration listeners (libvirtd's TLS, sshd): on the pods'
    # underlay, or the control address from another machine; None: it is node one.
    first_at: str | None = None

    @classmethod
    def first(cls, s: Settings) -> Node:
        """The first host: the host's own OVS, libvirt and network, state in the data dir."""
        scope = Scope(s.name)
        return cls("", s.nova.host, str(s.network.brex_ip), None if scope.default else scope.chassis)

    @property
    def in_netns(self) -> bool:
        """A pod node: its containers join the pod's network namespace by path."""
        return self.network.startswith("ns:")

    @property
    def is_first(self) -> bool:
        """Node one runs beside the control plane and shares its config files."""
        return not self.name

    def service(self, base: str) -> str:
        """The catalog name of one of its services: node one keeps the plain names."""
        return base if self.is_first else f"{self.name}-{base}"

    def data(self, p: Paths, name: str) -> Path:
        """Where one of its services keeps persistent data (node one: `Paths.service_data`)."""
        return (self.root or p.data_dir) / name

    def instances(self, p: Paths) -> Path:
        """The host directory behind its instances path (the path itself is the same everywhere)."""
        return (self.root or p.data_dir) / p.nova_instances.name

    def run_dir(self, name: str) -> str:
        return f"{self.run}/{name}"

    def ssh_dir(self, p: Paths) -> str:
        """The host folder of its SSH trust for cold migration (core/sshtrust.py)."""
        return str(p.ssh_trust) if self.pki is None else f"{self.pki}/ssh"


def underlay_host(s: Settings) -> IPv4Interface:
    """The host's address on the pods' underlay (its first address; docs/nodes.md)."""
    net = s.nodes.underlay_cidr
    return IPv4Interface(f"{next(net.hosts())}/{net.prefixlen}")


def first_listens_at(s: Settings, kinds: set[str]) -> str | None:
    """Where node one's migration listeners take other nodes (`kinds`: those registered): on the
    pods' underlay once a pod node exists, else at the control address; None without nodes."""
    if not kinds:
        return None
    return str(underlay_host(s).ip if "pod" in kinds else s.nodes.control_address or s.network.brex_ip)


def pod_node(s: Settings, p: Paths, name: str, address: str, netns: str) -> Node:
    """A node in a podman pod on this machine: its own OVS, libvirt and network namespace. Its
    role's containers join the pod's namespace by its path (podman refuses a container outside
    the pod joining a pod container's network)."""
    root = p.nodes / name
    return Node(name, name, address, network=f"ns:{netns}",
                run=f"/run/hotstack/{s.name}-{name}", root=root, pki=str(root / "pki"),
                first_at=first_listens_at(s, {"pod"}))


NODE_PKI = "/etc/hotstack/node-pki"  # where a node's services see its TLS trust (read-only)
