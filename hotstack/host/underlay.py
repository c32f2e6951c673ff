"""The underlay between this host and the nodes running on it in pods (docs/nodes.md).

Userspace Open vSwitch tunnels natively: a geneve endpoint must be an address on an OVS bridge
whose ports lead to the peer, never an address behind a Linux bridge. So each side has an OVS
bridge holding its endpoint address on the bridge's internal port: the host's underlay bridge
(`UnderlayBridge`, one per deployment) and, in each pod, the node's own (`NodeLink`), joined by
one veth pair whose ends are ports of the two bridges. The node routes everything else (the
control plane's published ports) via the host's underlay address.
"""

from __future__ import annotations

import hashlib
import time
from ipaddress import IPv4Address, IPv4Interface
from typing import Any

from hotstack.core.errors import HotstackError
from hotstack.host import ovs
from hotstack.host.net import Addr, addresses, netlink
from hotstack.host.node_pod import PodSpec
from hotstack.host.step import Step
from hotstack.host.system import Host

POD_END = "ul0"  # the veth end inside a pod (its own namespace: the same name in every pod)


def host_end(pod: str) -> str:
    """The veth end on the host: short (15 characters at most) and unique per pod."""
    return f"hsn{hashlib.sha256(pod.encode()).hexdigest()[:8]}"


def _link(ipr: Any, name: str) -> Any | None:
    found = ipr.link_lookup(ifname=name)
    return ipr.get_links(found[0])[0] if found else None


def _wait_link(ipr: Any, name: str, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while not (found := ipr.link_lookup(ifname=name)):
        if time.monotonic() > deadline:
            raise HotstackError(f"interface {name} did not appear", hint="is ovs-vswitchd running?")
        time.sleep(0.1)
    return int(found[0])


def _bridge_diffs(api: Any, bridge: str, datapath: str, ports: tuple[str, ...]) -> list[str]:
    if not api.br_exists(bridge).execute(check_error=True):
        return [f"create OVS bridge {bridge} ({datapath})", *(f"add port {p} to {bridge}" for p in ports)]
    have = set(api.list_ports(bridge).execute(check_error=True))
    return [f"add port {p} to {bridge}" for p in ports if p not in have]


def _ensure_bridge(api: Any, bridge: str, datapath: str, mtu: int, ports: tuple[str, ...]) -> None:
    with api.transaction(check_error=True) as txn:
        txn.add(api.add_br(bridge, may_exist=True, datapath_type=datapath))
        txn.add(api.db_set("Bridge", bridge, ("external_ids", {ovs.MARK: "managed"})))
        txn.add(api.db_set("Interface", bridge, ("mtu_request", mtu)))
        for port in ports:
            txn.add(api.add_port(bridge, port, may_exist=True))


def _iface_diffs(ipr: Any, name: str, iface: IPv4Interface) -> list[str]:
    link = _link(ipr, name)
    if link is None:
        return [f"bring {name} up with {iface}"]
    diffs = [] if link["flags"] & 1 else [f"bring {name} up"]
    return diffs + ([] if Addr(name, iface) in addresses(ipr) else [f"add {iface} to {name}"])


def _ensure_iface(ipr: Any, name: str, iface: IPv4Interface, mtu: int) -> None:
    index = _wait_link(ipr, name)
    ipr.link("set", index=index, mtu=mtu, state="up")
    if Addr(name, iface) not in addresses(ipr):
        ipr.addr("add", index=index, address=str(iface.ip), prefixlen=iface.network.prefixlen)


class UnderlayBridge(Step):
    """The host's end of every pod node's underlay: an OVS bridge with the host's address."""

    id = "underlay-bridge"
    fix = "look at `ovs-vsctl show` and `ip addr show <bridge>`"

    def __init__(self, host: Host, bridge: str, iface: IPv4Interface, mtu: int) -> None:
        self.host, self.bridge, self.iface, self.mtu = host, bridge, iface, mtu
        self.datapath = ovs.datapath_type(host)

    def describe(self) -> str:
        return f"OVS bridge {self.bridge} ({self.datapath}) with the nodes' underlay address {self.iface}"

    def check(self) -> list[str]:
        with ovs.session(self.host) as api:
            diffs = _bridge_diffs(api, self.bridge, self.datapath, ())
        with netlink(self.host) as ipr:
            return diffs + _iface_diffs(ipr, self.bridge, self.iface)

    def apply(self) -> None:
        with ovs.session(self.host) as api:
            _ensure_bridge(api, self.bridge, self.datapath, self.mtu, ())
        with netlink(self.host) as ipr:
            _ensure_iface(ipr, self.bridge, self.iface, self.mtu)

    def remove(self) -> list[str]:
        """Only hotstack's bridge, and only once no node's link is left on it."""
        with ovs.session(self.host) as api:
            if not api.br_exists(self.bridge).execute(check_error=True):
                return []
            marked = api.db_get("Bridge", self.bridge, "external_ids").execute(check_error=True).get(ovs.MARK)
            if not marked or api.list_ports(self.bridge).execute(check_error=True):
                return []
            api.del_br(self.bridge, if_exists=True).execute(check_error=True)
        return [f"deleted bridge {self.bridge} (and {self.iface} with it)"]


class NodeLink(Step):
    """One pod node's link: a veth pair from a port of the host's underlay bridge to a port of
    the node's own underlay bridge (netdev), whose internal port holds the node's address; the
    node's default route goes via the host's underlay address."""

    fix = "look at `ip -n <pod> addr`, `ovs-vsctl --db=unix:<node run dir>/openvswitch/db.sock show`"

    def __init__(self, spec: PodSpec, host: Host, host_bridge: str, node_bridge: str,
                 iface: IPv4Interface, gateway: IPv4Address, mtu: int) -> None:
        self.spec, self.host, self.host_bridge, self.node_bridge = spec, host, host_bridge, node_bridge
        self.iface, self.gateway, self.mtu = iface, gateway, mtu
        self.end = host_end(spec.pod)
        self.node = Host(ovsdb=spec.ovsdb, netns=spec.netns)
        self.id = f"node-link-{spec.node}"

    def describe(self) -> str:
        return (f"underlay {self.host_bridge}:{self.end} ⇄ {self.spec.pod}:{POD_END} on {self.node_bridge}, "
                f"node address {self.iface}")

    def check(self) -> list[str]:
        if not self.spec.ovs_socket.exists():  # the pod is not there yet (its step comes first)
            return [f"create veth {self.end} ⇄ {POD_END} in {self.spec.netns}",
                    f"add port {self.end} to {self.host_bridge}", f"create OVS bridge {self.node_bridge} (netdev)",
                    f"bring {self.node_bridge} up with {self.iface}", f"route the node's traffic via {self.gateway}"]
        with netlink(self.host) as ipr:
            diffs = [] if _link(ipr, self.end) else [f"create veth {self.end} ⇄ {POD_END} in {self.spec.netns}"]
        with ovs.session(self.host) as api:
            ports = set(api.list_ports(self.host_bridge).execute(check_error=True)) \
                if api.br_exists(self.host_bridge).execute(check_error=True) else set()
        diffs += [] if self.end in ports else [f"add port {self.end} to {self.host_bridge}"]
        with ovs.session(self.node) as api:
            diffs += _bridge_diffs(api, self.node_bridge, "netdev", (POD_END,))
        with netlink(self.node) as ipr:
            diffs += _iface_diffs(ipr, self.node_bridge, self.iface)
            if not self._routed(ipr):
                diffs.append(f"route the node's traffic via {self.gateway}")
        return diffs

    def _routed(self, ipr: Any) -> bool:
        return any(r.get_attr("RTA_GATEWAY") == str(self.gateway) for r in ipr.get_default_routes(family=2))

    def apply(self) -> None:
        with netlink(self.host) as ipr:
            created = not _link(ipr, self.end)
            if created:
                self._create_veth(ipr)
            ipr.link("set", index=_wait_link(ipr, self.end), mtu=self.mtu, state="up")
        # A port left in the database from an earlier pair (a removed pod, a reboot) names a
        # device ovs-vswitchd does not reopen when it reappears: a new pair gets fresh ports.
        with ovs.session(self.host) as api, api.transaction(check_error=True) as txn:
            if created:
                txn.add(api.del_port(self.end, if_exists=True))
            txn.add(api.add_port(self.host_bridge, self.end, may_exist=not created))
        with netlink(self.node) as ipr:
            ipr.link("set", index=_wait_link(ipr, POD_END), mtu=self.mtu, state="up")
        with ovs.session(self.node) as api:
            if created:
                api.del_port(POD_END, if_exists=True).execute(check_error=True)
            _ensure_bridge(api, self.node_bridge, "netdev", self.mtu, (POD_END,))
        with netlink(self.node) as ipr:
            _ensure_iface(ipr, self.node_bridge, self.iface, self.mtu)
            if not self._routed(ipr):
                ipr.route("replace", dst="0.0.0.0/0", gateway=str(self.gateway))

    def _create_veth(self, ipr: Any) -> None:
        with netlink(self.node) as inner:  # a stale end of an earlier pair: gone with its peer
            if (stale := inner.link_lookup(ifname=POD_END)):
                inner.link("del", index=stale[0])
            peer = f"{self.end}p"  # named for the host first: POD_END may exist on the host
            ipr.link("add", ifname=self.end, kind="veth", peer=peer)
            ipr.link("set", index=_wait_link(ipr, peer), net_ns_fd=self.spec.netns)
            inner.link("set", index=_wait_link(inner, peer), ifname=POD_END)

    def remove(self) -> list[str]:
        done = []
        with ovs.session(self.host) as api:
            if api.br_exists(self.host_bridge).execute(check_error=True) and \
                    self.end in api.list_ports(self.host_bridge).execute(check_error=True):
                api.del_port(self.end, bridge=self.host_bridge, if_exists=True).execute(check_error=True)
                done.append(f"removed port {self.end} from {self.host_bridge}")
        with netlink(self.host) as ipr:
            if (found := ipr.link_lookup(ifname=self.end)):
                ipr.link("del", index=found[0])
                done.append(f"deleted veth {self.end} (and {POD_END} in {self.spec.netns})")
        return done
