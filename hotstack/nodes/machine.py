"""A second machine as a node (`hotstack join BUNDLE` run there): the target is the machine
itself — its own Open vSwitch and libvirt, the host network — prepared by the same host steps the
first host takes (podman's runtime, the daemons where no systemd runs them, /dev/kvm, nova's
paths, the API names in /etc/hosts at the control address; join adds userspace offload on the
netdev datapath once its bridge exists).

Its data lives at the control plane's data_dir path (the instances path must be the same string
on every node for live migration). Its encap IP is its own address: with the kernel datapath on
both machines that is all; a first host on the userspace datapath needs its LAN NIC on an OVS
bridge for geneve to reach it (docs/nodes.md), which hotstack does not do to an uplink by itself.
"""

from __future__ import annotations

from pathlib import Path

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.catalog.node import Node
from hotstack.host.daemons import Daemons, libvirt_daemons, ovs_daemons
from hotstack.host.hosts import HostsBlock
from hotstack.host.libvirt import KvmDevice, NovaPaths
from hotstack.host.ovs import datapath_type
from hotstack.host.runtime import PodmanRuntime
from hotstack.host.step import Step
from hotstack.host.system import Host
from hotstack.nodes.bundle import Bundle
from hotstack.nodes.join import Target
from hotstack.nodes.render import NodePaths


def machine_node(bundle: Bundle) -> Node:
    data = bundle.settings().data_dir
    return Node(bundle.name, bundle.name, bundle.address, root=data, pki=str(data / "node-pki"),
                first_at=bundle.control)


def target(bundle: Bundle, host: Host) -> Target:
    settings = bundle.settings()
    virt = settings.nova.virt_type
    if virt == "auto":  # the first host's probe is libvirt's business here too; /dev/kvm says enough
        virt = "kvm" if Path("/dev/kvm").exists() else "qemu"
    return Target(host, machine_node(bundle), datapath_type(host), virt, "nfs")


def node_catalog(bundle: Bundle, node: Node, paths: NodePaths) -> Catalog:
    cat = catalog.build(bundle.settings(), paths)
    cat.node = node
    return cat


def steps(bundle: Bundle, host: Host) -> list[Step]:
    node = machine_node(bundle)
    assert node.root is not None
    paths = NodePaths(bundle.settings().data_dir, root=node.root)
    found: list[Step] = [PodmanRuntime(paths, host.proc / "self" / "mountinfo")]
    if host.start_daemons:
        found += [Daemons("ovs-daemons", ovs_daemons(host), host),
                  KvmDevice(paths.state / "kvm-device"), Daemons("libvirt-daemons", libvirt_daemons(), host)]
    return [*found, NovaPaths(paths, host.libvirt_uri), HostsBlock(node_catalog(bundle, node, paths), host.etc_hosts)]
