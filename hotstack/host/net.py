"""The provider-side address: brex_ip/<provider prefix> on the external bridge, link up.

Through pyroute2 (netlink), in host.netns when a test gives one. Only hotstack's own address
is ever added or removed; other addresses stay. `validate` refuses a host where brex_ip or the
two networks are already in use by something hotstack did not make.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Interface, IPv4Network
from typing import Any

from pyroute2 import IPRoute

from hotstack.core.errors import BadInput, HotstackError
from hotstack.core.settings import Settings, ip_in
from hotstack.host.step import Step
from hotstack.host.system import Host


@contextmanager
def netlink(host: Host) -> Iterator[Any]:
    ipr = IPRoute(netns=host.netns) if host.netns else IPRoute()
    try:
        yield ipr
    finally:
        ipr.close()


@dataclass(frozen=True)
class Addr:
    ifname: str
    iface: IPv4Interface


@dataclass(frozen=True)
class Route:
    ifname: str
    dst: IPv4Network


def addresses(ipr: Any) -> list[Addr]:
    names = {link["index"]: link.get("IFLA_IFNAME") for link in ipr.get_links()}
    return [Addr(names.get(a["index"], "?"), IPv4Interface(f"{a.get('IFA_ADDRESS')}/{a['prefixlen']}"))
            for a in ipr.get_addr(family=2)]


def routes(ipr: Any) -> list[Route]:
    """Unicast IPv4 routes of the main table, default route excluded."""
    names = {link["index"]: link.get("IFLA_IFNAME") for link in ipr.get_links()}
    return [Route(names.get(r.get("RTA_OIF"), "?"), IPv4Network(f"{r.get('RTA_DST')}/{r['dst_len']}"))
            for r in ipr.get_routes(family=2, table=254) if r["dst_len"] > 0 and r["type"] == 1]


def own_interfaces(s: Settings, addrs: list[Addr]) -> set[str]:
    """Interfaces hotstack made: the external bridge and its podman network's bridge."""
    net = s.network
    gateway = IPv4Interface(f"{ip_in(net.container_cidr, 1)}/{net.container_cidr.prefixlen}")
    return {net.ex_bridge} | {a.ifname for a in addrs if a.iface == gateway}


def collisions(s: Settings, addrs: list[Addr], rts: list[Route]) -> list[tuple[str, str]]:
    """(setting key, what collides) for every conflict with state hotstack did not make."""
    net = s.network
    ours = own_interfaces(s, addrs)
    found = [("network.brex_ip", f"{a.iface.ip} is already on {a.ifname}")
             for a in addrs if a.iface.ip == net.brex_ip and a.ifname not in ours]
    for key, cidr in (("network.container_cidr", net.container_cidr),
                      ("network.provider_cidr", net.provider_cidr)):
        found += [(key, f"overlaps address {a.iface} on {a.ifname}")
                  for a in addrs if a.ifname not in ours and a.iface.network.overlaps(cidr)
                  and not a.iface.ip.is_loopback]
        found += [(key, f"overlaps route {r.dst} via {r.ifname}")
                  for r in rts if r.ifname not in ours and r.dst.overlaps(cidr)]
    return found


class BrexAddress(Step):
    id = "brex-address"

    def __init__(self, s: Settings, host: Host) -> None:
        self.s, self.host = s, host
        net = s.network
        self.ifname = net.ex_bridge
        self.iface = IPv4Interface(f"{net.brex_ip}/{net.provider_cidr.prefixlen}")
        self.fix = f"look at `ip addr show {self.ifname}`; is ovs-vswitchd running?"

    def describe(self) -> str:
        return f"address {self.iface} on {self.ifname}, link up"

    def validate(self) -> None:
        with netlink(self.host) as ipr:
            found = collisions(self.s, addresses(ipr), routes(ipr))
        if found:
            key, what = found[0]
            value = self.s.network.brex_ip if key.endswith("brex_ip") else getattr(self.s.network, key.split(".")[1])
            raise BadInput(f"setting {key} = '{value}' collides with the host: {what}",
                           hint=f"choose another {key} (--set {key}=...) or remove the conflicting "
                                "address or route; nothing was changed")

    def _link(self, ipr: Any) -> Any | None:
        found = ipr.link_lookup(ifname=self.ifname)
        return ipr.get_links(found[0])[0] if found else None

    def check(self) -> list[str]:
        with netlink(self.host) as ipr:
            link = self._link(ipr)
            if link is None:
                return [f"add {self.iface} to {self.ifname} (the interface appears with its OVS bridge)",
                        f"bring {self.ifname} up"]
            diffs = []
            if link.get("IFLA_MTU") != self.s.network.mtu:
                diffs.append(f"set {self.ifname} MTU {link.get('IFLA_MTU')} → {self.s.network.mtu}")
            if not link["flags"] & 1:
                diffs.append(f"bring {self.ifname} up")
            if Addr(self.ifname, self.iface) not in addresses(ipr):
                diffs.append(f"add {self.iface} to {self.ifname}")
            return diffs

    def apply(self) -> None:
        with netlink(self.host) as ipr:
            index = self._wait_link(ipr)
            ipr.link("set", index=index, mtu=self.s.network.mtu, state="up")
            if Addr(self.ifname, self.iface) not in addresses(ipr):
                ipr.addr("add", index=index, address=str(self.iface.ip), prefixlen=self.iface.network.prefixlen)

    def _wait_link(self, ipr: Any, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while not (found := ipr.link_lookup(ifname=self.ifname)):
            if time.monotonic() > deadline:
                raise HotstackError(f"interface {self.ifname} does not exist",
                                    hint="ovs-vswitchd creates it for the bridge: is it running?")
            time.sleep(0.1)
        return int(found[0])

    def remove(self) -> list[str]:
        with netlink(self.host) as ipr:
            found = ipr.link_lookup(ifname=self.ifname)
            if not found or Addr(self.ifname, self.iface) not in addresses(ipr):
                return []
            ipr.addr("del", index=found[0], address=str(self.iface.ip), prefixlen=self.iface.network.prefixlen)
        return [f"removed {self.iface} from {self.ifname}"]
