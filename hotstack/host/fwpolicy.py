"""Which ports hotstack's host firewall opens, built once from the catalog for both backends
(firewall.py's nftables table and firewalld.py's zones).

Open on every hotstack network (brex_ip, the external bridge, the container network): every
port a service publishes on brex_ip (haproxy's frontends and stats, DNS). Open from the
container network only: the host ports services' containers connect to (`Service.host_ports`:
qemu's VNC consoles; in `nfs` mode the kernel NFS server).

Out through the host's uplink (the default route's interface), when `network.masquerade`:
guests' provider-network addresses (their floating IPs, OVN's SNAT) are forwarded and
masqueraded, so a guest reaches the LAN and beyond. Only traffic leaving by the uplink is
rewritten; traffic that stays on the external bridge or goes to the container network is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network

from hotstack.catalog import Catalog
from hotstack.host.libvirt_listen import QEMU_MIGRATION_PORTS, TLS_PORT

PortSet = tuple[int | tuple[int, int], ...]


@dataclass(frozen=True)
class Opening:
    ports: PortSet  # single ports or inclusive (first, last) ranges
    protos: tuple[str, ...]
    from_containers: bool = False  # only from the container network
    sources: tuple[str, ...] = ()  # only from these addresses (other machines' nodes)


def api_ports(cat: Catalog) -> list[int]:
    """The TCP ports haproxy publishes on brex_ip: every frontend and its stats page."""
    return sorted({host for svc in cat if svc.publishes_frontends
                   for host, _, proto in cat.published(svc) if proto == "tcp"})


def _published(cat: Catalog, proto: str) -> list[int]:
    """API ports first, then the other services' in catalog order (DNS)."""
    ports = api_ports(cat) if proto == "tcp" else []
    for svc in cat:
        ports += [host for host, _, p in cat.published(svc) if p == proto and host not in ports]
    return ports


def policy(cat: Catalog, nfs_server: bool = False) -> list[Opening]:
    opened = [Opening(tuple(_published(cat, proto)), (proto,)) for proto in ("tcp", "udp")]
    opened += [Opening(hp.ports, hp.protos, from_containers=True)
               for svc in cat for hp in svc.host_ports if nfs_server or not hp.nfs_only]
    return [o for o in opened if o.ports] + node_openings(cat, nfs_server)


def machine_addresses(cat: Catalog) -> tuple[str, ...]:
    """The addresses of nodes on other machines (a pod node comes in on the underlay, which no
    hotstack rule filters)."""
    return tuple(e.address for e in cat.nodes if e.kind == "machine")


def node_openings(cat: Catalog, nfs_server: bool = False) -> list[Opening]:
    """What other machines' nodes reach on this host itself, from their addresses alone: libvirtd's
    TLS listener and qemu's migration stream (live migration), node one's sshd (cold migration)
    and, in `nfs` mode, the kernel NFS server (their volumes)."""
    sources = machine_addresses(cat)
    if not sources:
        return []
    tcp: list[int | tuple[int, int]] = [TLS_PORT, QEMU_MIGRATION_PORTS]
    tcp += [port for svc in cat for port in svc.node_ports]  # RabbitMQ, the southbound DB, sshd
    opened = [Opening(tuple(tcp), ("tcp",), sources=sources)]
    opened += [Opening(hp.ports, hp.protos, sources=sources) for svc in cat for hp in svc.host_ports
               if hp.nfs_only and nfs_server]
    return opened


def port_text(port: int | tuple[int, int], sep: str = "-") -> str:
    return f"{port[0]}{sep}{port[1]}" if isinstance(port, tuple) else str(port)


@dataclass(frozen=True)
class Masquerade:
    source: IPv4Network  # the provider network
    uplink: str  # only traffic leaving by this interface


def masquerade(cat: Catalog, uplink: str | None) -> Masquerade | None:
    """What to masquerade, given the default route's interface (None: no default route)."""
    net = cat.settings.network
    if not net.masquerade or uplink is None or uplink == net.ex_bridge:
        return None  # off, nowhere to go, or the provider network is the uplink's own LAN
    return Masquerade(net.provider_cidr, uplink)
