"""The ordered host preparation plan for a settings object."""

from __future__ import annotations

from hotstack import catalog
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import firewalld
from hotstack.host.daemons import Daemons, libvirt_daemons, ovs_daemons
from hotstack.host.facts import HostFacts
from hotstack.host.firewall import NftTable
from hotstack.host.hosts import HostsBlock
from hotstack.host.libvirt import KvmDevice, NovaPaths
from hotstack.host.net import BrexAddress
from hotstack.host.netns import SharedNetns
from hotstack.host.nfs import LocalShare, NfsExports, choose_mode
from hotstack.host.ovs import OvsBridges, datapath_type
from hotstack.host.ovs_offload import OvsUserspaceOffload
from hotstack.host.runtime import PodmanRuntime
from hotstack.host.step import Step
from hotstack.host.system import Host


def steps(s: Settings, paths: Paths, host: Host | None = None) -> list[Step]:
    """Daemons first, then what depends on them; the facts for render last."""
    host = host or Host()
    cat = catalog.build(s, paths)
    plan: list[Step] = [PodmanRuntime(paths, host.proc / "self" / "mountinfo")]
    if host.start_daemons:
        plan.append(Daemons("ovs-daemons", ovs_daemons(host), host))
    plan.append(OvsBridges(cat, host))
    if datapath_type(host) == "netdev":
        plan.append(OvsUserspaceOffload(host, s.network.int_bridge))
    plan += [BrexAddress(s, host), HostsBlock(cat, host.etc_hosts)]
    if host.mounts:
        plan.append(SharedNetns(host.run_netns, paths.state / "netns-mount"))
    if host.libvirt_uri == "qemu:///system":
        plan += [KvmDevice(paths.state / "kvm-device"), Daemons("libvirt-daemons", libvirt_daemons(), host)]
    plan.append(NovaPaths(paths, host.libvirt_uri))
    mode, _ = choose_mode(s, host)
    if mode == "nfs":
        plan.append(NfsExports(s, paths, host))
    elif host.mounts:
        plan.append(LocalShare(s, paths))
    nfs_server = mode == "nfs"
    plan.append(firewalld.FirewalldZones(cat, nfs_server) if firewalld.running() and not host.netns
                else NftTable(cat, host, nfs_server))
    plan.append(HostFacts(s, paths, host))
    return plan
