"""A node in a podman pod on this machine (`hotstack node add`): the pod is the node's host.

Its host steps (the pod, its Open vSwitch and libvirt, the underlay link to the host's bridge)
stand where a second machine's own daemons would; then it joins like any node, through its
bundle (nodes/join.py). Its instances path and the volumes' mount base are the host's own
directories, mounted at the same paths into its libvirt, as into its nova-compute.
"""

from __future__ import annotations

from ipaddress import IPv4Interface
from pathlib import Path

from hotstack.catalog import Catalog
from hotstack.catalog.node import Node, pod_node
from hotstack.catalog.services import compute_role
from hotstack.core.noderegistry import Entry
from hotstack.host.netns import SharedNetns
from hotstack.host.node_pod import NodePod, PodSpec, netns_path
from hotstack.host.step import Step
from hotstack.host.system import Host
from hotstack.host.underlay import NodeLink
from hotstack.images import refs, stage
from hotstack.nodes.join import Target

IMAGES = ("base", "ovn", "node-libvirt")


def spec(cat: Catalog, entry: Entry) -> PodSpec:
    s, p = cat.settings, cat.paths
    known = refs.all_refs(s.release)
    probe = pod_node(s, p, entry.name, entry.address, "")  # its paths only
    assert probe.root is not None
    return PodSpec(s.name, entry.name, known["ovn"], known["node-libvirt"], known["base"],
                   run=Path(probe.run), root=probe.root,
                   shared=((str(probe.instances(p)), str(p.nova_instances)), (str(p.nova_mnt), str(p.nova_mnt))),
                   listen=entry.address, pki=Path(probe.pki) if probe.pki else None)


def node(cat: Catalog, entry: Entry, pod: PodSpec) -> Node:
    return pod_node(cat.settings, cat.paths, entry.name, entry.address, str(netns_path(pod.netns)))


def steps(cat: Catalog, entry: Entry) -> list[Step]:
    pod, net = spec(cat, entry), cat.settings.network
    iface = IPv4Interface(f"{entry.address}/{cat.settings.nodes.underlay_cidr.prefixlen}")
    return [NodePod(pod, cat.paths.state),
            NodeLink(pod, Host(), net.tun_bridge, net.tun_bridge, iface, cat.underlay_host.ip, net.mtu)]


def role_containers(cat: Catalog, entry: Entry) -> list[str]:
    """The containers of its compute role (named after the deployment and the node)."""
    return [svc.container for svc in compute_role(cat.settings, cat.paths, target(cat, entry).node)]


def teardown(cat: Catalog, entry: Entry) -> list[Step]:
    """What `node remove` and `clean` take down, in that order: the metadata agent's namespaces
    and the shared mount they live on, the underlay link, the pod (its containers and dirs)."""
    pod_spec = spec(cat, entry)
    node_ctx = node(cat, entry, pod_spec)
    assert node_ctx.root is not None
    netns = SharedNetns(Path(node_ctx.run_dir("netns")), node_ctx.root / "state" / "netns-mount")
    return [netns, *reversed(steps(cat, entry))]


def target(cat: Catalog, entry: Entry) -> Target:
    pod = spec(cat, entry)
    return Target(Host(ovsdb=pod.ovsdb, netns=pod.netns), node(cat, entry, pod), "netdev", "qemu", "local")


def ensure_images(cat: Catalog) -> None:
    stage.ensure(cat, None, lambda *_: None, images=list(IMAGES))
