"""The ordered host preparation plan for one deployment, and `ensure`: doctor, then the plan."""

from __future__ import annotations

from hotstack.catalog import Catalog
from hotstack.catalog.node import first_listens_at
from hotstack.catalog.services.nova import NODE_ONE_TLS
from hotstack.core.errors import HotstackError
from hotstack.host import doctor, firewalld, ovs
from hotstack.host.daemons import Daemons, libvirt_daemons, ovs_daemons
from hotstack.host.facts import HostFacts
from hotstack.host.firewall import NftTable
from hotstack.host.forwarding import IpForward
from hotstack.host.fwpolicy import machine_addresses
from hotstack.host.hosts import HostsBlock
from hotstack.host.libvirt import KvmDevice, NovaPaths
from hotstack.host.libvirt_listen import LibvirtListen
from hotstack.host.net import BrexAddress
from hotstack.host.netns import SharedNetns
from hotstack.host.nfs import LocalShare, NfsExports, choose_mode
from hotstack.host.node_guard import NodeGuard
from hotstack.host.ovs import OvsBridges, datapath_type
from hotstack.host.ovs_offload import OvsUserspaceOffload
from hotstack.host.runtime import PodmanRuntime
from hotstack.host.step import Progress, Step, run_plan
from hotstack.host.system import Host
from hotstack.host.underlay import UnderlayBridge


def steps(cat: Catalog, host: Host | None = None) -> list[Step]:
    """Daemons first, then what depends on them; the facts for render last."""
    host = host or Host()
    s, paths = cat.settings, cat.paths
    plan: list[Step] = [PodmanRuntime(paths, host.proc / "self" / "mountinfo")]
    if host.start_daemons:
        plan.append(Daemons("ovs-daemons", ovs_daemons(host), host))
    plan.append(OvsBridges(cat, host))
    if datapath_type(host) == "netdev":
        plan.append(OvsUserspaceOffload(host, s.network.int_bridge,
                                        own_bridges=(s.network.int_bridge, s.network.ex_bridge)))
    if any(e.kind == "pod" for e in cat.nodes):
        plan.append(underlay_bridge(cat, host))
    plan += [BrexAddress(s, host), HostsBlock(cat, host.etc_hosts)]
    if host.mounts:
        plan.append(SharedNetns(host.run_netns, paths.state / "netns-mount",
                                owns=ovs.namespace_owner(host, s.network.int_bridge)))
    if host.libvirt_uri == "qemu:///system":
        plan += [KvmDevice(paths.state / "kvm-device"), Daemons("libvirt-daemons", libvirt_daemons(), host)]
        if cat.nodes:
            plan.append(libvirt_listener(cat, host))
    plan.append(NovaPaths(paths, host.libvirt_uri))
    mode, _ = choose_mode(s, host)
    if mode == "nfs":
        plan.append(nfs_exports(cat, host))
    elif host.mounts:
        plan.append(LocalShare(s, paths))
    nfs_server = mode == "nfs"
    if s.network.masquerade:
        plan.append(IpForward(host, paths.state / "ip-forward"))
    plan.append(firewall(cat, host, nfs_server))
    if cat.nodes:
        plan.append(NodeGuard(cat, host))
    plan.append(HostFacts(s, paths, host))
    return plan


def node_steps(cat: Catalog, host: Host | None = None) -> list[Step]:
    """The host steps the registered nodes change (run again when one is added or removed, even
    with every container current): the pods' underlay bridge, node one's encap IP, the guard,
    the NFS exports and the firewall."""
    host = host or Host()
    found: list[Step] = [underlay_bridge(cat, host)] if any(e.kind == "pod" for e in cat.nodes) else []
    found += [OvsBridges(cat, host), NodeGuard(cat, host)]
    if cat.nodes and host.libvirt_uri == "qemu:///system":
        found.append(libvirt_listener(cat, host))
    # other machines' nodes: what they reach on this host, opened to their addresses alone
    nfs_server = choose_mode(cat.settings, host)[0] == "nfs"
    return [*found, *([nfs_exports(cat, host)] if nfs_server else []), firewall(cat, host, nfs_server)]


def firewall(cat: Catalog, host: Host, nfs_server: bool) -> Step:
    if firewalld.running(host):
        return firewalld.FirewalldZones(cat, host, nfs_server)
    return NftTable(cat, host, nfs_server)


def nfs_exports(cat: Catalog, host: Host) -> NfsExports:
    return NfsExports(cat.settings, cat.paths, host, machine_addresses(cat))


def libvirt_listener(cat: Catalog, host: Host) -> LibvirtListen:
    """Node one's libvirtd for live migrations, where the other nodes reach it (catalog/node.py:
    the pods' underlay, else the control address for other machines)."""
    address = first_listens_at(cat.settings, {e.kind for e in cat.nodes})
    assert address is not None  # asked only while nodes are registered
    return LibvirtListen(host, cat.paths.state / "libvirtd-listen.conf", address,
                         cat.paths.pki / "server" / NODE_ONE_TLS)


def underlay_bridge(cat: Catalog, host: Host | None = None) -> UnderlayBridge:
    net = cat.settings.network
    return UnderlayBridge(host or Host(), net.tun_bridge, cat.underlay_host, net.mtu)


def ensure(cat: Catalog, progress: Progress, host: Host | None = None) -> None:
    """What `up` does to the host: doctor (a failed check stops it), then the plan (idempotent)."""
    # The virtualization check only ever warns, and the host-facts step makes the same KVM try
    # right after fixing /dev/kvm's mode (before that fix each libvirt call is slow here).
    findings = doctor.run(cat, host, skip=("virtualization",))["findings"]
    fatal = [f for f in findings if f["level"] == "fail"]
    if fatal:
        raise HotstackError("the host is not ready: " + "; ".join(f"{f['check']}: {f['message']}" for f in fatal),
                            hint="; ".join(f["fix"] for f in fatal if f.get("fix")) or "see `hotstack doctor`")
    run_plan(steps(cat, host), False, progress)
