"""`hotstack node bundle NAME`: register a node and write its join bundle (docs/nodes.md).

The bundle is the one thing a node needs to join: `hotstack join` on another machine reads it,
and `hotstack node add` makes one for a pod on this machine. Making it again issues a new
certificate and keeps the node's generated RabbitMQ password.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from ipaddress import IPv4Address, ip_address
from pathlib import Path
from typing import Any

from hotstack import catalog
from hotstack.commands import data, up_cmd
from hotstack.commands.progress import Progress
from hotstack.core import credentials, sshtrust
from hotstack.core.errors import BadInput
from hotstack.core.noderegistry import Entry, Kind, Registry, check_name, next_pod_address
from hotstack.core.paths import Paths
from hotstack.core.pki import Authority
from hotstack.core.secrets import Secrets
from hotstack.core.settings import Settings
from hotstack.host import plan
from hotstack.host.step import run_plan
from hotstack.host.system import Host
from hotstack.nodes import bundle as nodebundle
from hotstack.nodes import inventory, join, machine, removal
from hotstack.render import bundle


@dataclass(frozen=True)
class BundleReport:
    node: str
    kind: str
    address: str
    path: Path
    ok: bool = True

    def to_json(self) -> dict[str, Any]:  # never the bundle's contents: they are secrets
        return {"ok": self.ok, "node": self.node, "kind": self.kind, "address": self.address,
                "bundle": str(self.path)}


def choose_address(settings: Settings, wanted: str | None, taken: set[str]) -> tuple[IPv4Address, Kind]:
    """The node's address (given, or the next free one of the pods' underlay) and its kind: an
    address in the underlay is a pod on this machine, any other another machine."""
    underlay = settings.nodes.underlay_cidr
    host_side = next(underlay.hosts())
    if wanted is None:
        return next_pod_address(underlay, taken | {str(host_side)}), "pod"
    try:
        address = ip_address(wanted)
    except ValueError:
        raise BadInput(f"--address {wanted!r}: must be an IPv4 address") from None
    if not isinstance(address, IPv4Address):
        raise BadInput(f"--address {wanted!r}: must be an IPv4 address")
    reserved = {host_side: "the host's own underlay address", settings.network.brex_ip: "network.brex_ip",
                settings.nodes.control_address: "nodes.control_address"}
    if address in reserved:
        raise BadInput(f"--address {wanted}: is {reserved[address]}; give the node's own address")
    return address, "pod" if address in underlay else "machine"


def bundle_command(settings: Settings, name: str, address: str | None, output: Path | None) -> BundleReport:
    paths = Paths(settings.data_dir)
    check_name(name, settings.nova.host)
    registry = Registry(paths.state)
    known = registry.entries()
    others = {e.address for e in known.values() if e.name != name}
    # made again: the node keeps its address unless another is given
    node_address, kind = choose_address(settings, address or (known[name].address if name in known else None),
                                        others)
    data.ensure(settings, paths)
    cat = catalog.build(settings, paths)
    entry = Entry(name, kind, str(node_address))
    registry.put(entry)
    secrets = Secrets(paths.secrets_file).ensure(bundle.node_secrets(name))
    authority = Authority(paths.pki, settings.name)
    issued = authority.issue(name, entry.address)
    target = output.resolve() if output else bundle.default_path(paths.state, name)
    ssh = sshtrust.ensure(paths.ssh_trust)
    bundle.write(target, bundle.bundle_data(cat, entry, secrets, authority.ca_pem(), issued, ssh))
    return BundleReport(name, kind, entry.address, target)


@dataclass(frozen=True)
class AddReport:
    node: str
    address: str
    timings: dict[str, float]
    services: dict[str, str]
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "node": self.node, "address": self.address, "timings_s": self.timings,
                "services": self.services}


def add_command(settings: Settings, name: str, progress: Progress) -> AddReport:
    """A node in a pod here: registered with its bundle, then one `up`, which publishes the
    control plane to it and joins it like any node (nodes/converge.py, nodes/join.py)."""
    started = time.monotonic()
    made = bundle_command(settings, name, None, None)
    if made.kind != "pod":
        raise BadInput(f"node {name}: is registered as another machine ({made.address}); "
                       "`node add` runs nodes in pods here", hint="on that machine: hotstack join BUNDLE")
    converged = up_cmd.up(settings, progress)
    if converged.failure is not None:
        raise converged.failure
    joined = converged.nodes[name]
    timings = {f"join_{k}": v for k, v in joined.timings.items()}
    timings["total"] = round(time.monotonic() - started, 1)
    return AddReport(name, made.address, timings, joined.services)


@dataclass(frozen=True)
class ListReport:
    rows: list[inventory.NodeRow]
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "nodes": [r.to_json() for r in self.rows]}


def list_command(settings: Settings) -> ListReport:
    paths = Paths(settings.data_dir)
    cat = catalog.build(settings, paths)
    return ListReport(inventory.rows(cat, credentials.connect(settings, paths)))


@dataclass(frozen=True)
class RemoveReport:
    node: str
    done: list[str]
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "node": self.node, "done": self.done}


def remove_command(settings: Settings, name: str, progress: Progress, migrate: bool = False) -> RemoveReport:
    paths = Paths(settings.data_dir)
    cat = catalog.build(settings, paths)
    entry = next((e for e in cat.nodes if e.name == name), None)
    if entry is None:
        known = ", ".join(e.name for e in cat.nodes) or "none"
        raise BadInput(f"node {name!r}: is not registered (nodes: {known})")
    done = removal.remove_node(cat, credentials.connect(settings, paths), entry, progress.line, migrate)
    if not any(e.kind == "pod" for e in cat.nodes if e.name != name):
        # before `up` recreates nova-compute: a libvirtd restart under a running nova-compute
        # disables it for up to a minute ("AUTO: Connection to libvirt lost")
        done += plan.libvirt_listener(cat, Host()).remove()
    # the control plane without it: published ports, the guard, node one's encap IP, the underlay
    converged = up_cmd.up(settings, progress)
    if converged.failure is not None:
        raise converged.failure
    cat = catalog.build(settings, paths)
    run_plan(plan.node_steps(cat), False, progress.step)
    if not any(e.kind == "pod" for e in cat.nodes):  # the last pod node: node one's side of them goes
        done += plan.underlay_bridge(cat).remove()
    return RemoveReport(name, done)


def join_command(bundle_file: Path, progress: Progress) -> join.JoinReport:
    """On a second machine: prepare it as a node and join from the bundle (nodes/machine.py)."""
    found = nodebundle.load(bundle_file)
    if found.kind != "machine":
        raise BadInput(f"bundle {bundle_file}: node {found.name} is a pod on the first host "
                       f"(address {found.address}); there, `hotstack up` runs it",
                       hint="for a second machine: hotstack node bundle NAME --address ITS_IP")
    host = Host()
    run_plan(machine.steps(found, host), False, progress.step)
    return join.join(found, machine.target(found, host), progress.line, progress.step)
