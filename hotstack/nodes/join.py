"""`hotstack join`: a node joins the cloud from its bundle — the one code path of every node,
a second machine's and a pod's on this machine alike (the pod is just another host).

In order: the node's trust (CA, its certificate and key, 0600), what its host offers (virt
type, NFS mode, datapath) for the templates, its Open vSwitch (integration bridge, OVN keys),
its compute role rendered and started (ovn-controller, the metadata agent, nova-compute), each
gated by the cloud's word; then it waits until nova maps the node to the cell (the caller's
`map_host` asks right away; else the control plane's scheduler finds it periodically).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotstack.catalog import Service
from hotstack.catalog.node import Node
from hotstack.containers import control
from hotstack.core import sshtrust
from hotstack.core.errors import BadInput, HotstackError
from hotstack.core.fsutil import write_if_changed
from hotstack.core.hostfacts import FACTS_FILE
from hotstack.core.pki import client_names
from hotstack.host.netns import SharedNetns
from hotstack.host.ovs_offload import OvsUserspaceOffload
from hotstack.host.step import Progress as StepProgress
from hotstack.host.step import Step, run_plan
from hotstack.host.system import Host
from hotstack.images import refs, stage
from hotstack.nodes import checks
from hotstack.nodes.bundle import Bundle
from hotstack.nodes.ovs import NodeOvs
from hotstack.nodes.render import NodePaths, render_role
from hotstack.probes import basic
from hotstack.stack import bringup

Say = Callable[[str], None]
MAPPED_DEADLINE_S = 150  # the scheduler's periodic discovery runs every minute (catalog/services/nova.py)


@dataclass(frozen=True)
class Target:
    """Where a node runs: its Open vSwitch and network namespace, and what its host offers."""

    host: Host
    node: Node
    datapath: str
    virt_type: str
    nfs_mode: str


@dataclass
class JoinReport:
    node: str
    services: dict[str, str] = field(default_factory=dict)  # name → created | recreated | kept
    timings: dict[str, float] = field(default_factory=dict)
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "node": self.node, "services": self.services, "timings_s": self.timings}


def node_paths(bundle: Bundle, node: Node) -> NodePaths:
    settings = bundle.settings()
    assert node.root is not None
    return NodePaths(settings.data_dir, root=node.root)


def write_trust(bundle: Bundle, folder: Path) -> None:
    trust = bundle.trust
    write_if_changed(folder / "ca.crt", trust["ca"], mode=0o644)
    write_if_changed(folder / "node.crt", trust["certificate"], mode=0o644)
    write_if_changed(folder / "node.key", trust["key"], mode=0o600)
    client_names(folder, "node")
    if "ssh_host_key" not in trust:
        raise BadInput(f"bundle of {bundle.name}: has no SSH keys (made by an older hotstack)",
                       hint=f"make it again on the first host: hotstack node bundle {bundle.name}")
    sshtrust.write_folder(folder / "ssh", sshtrust.Keys(trust["ssh_host_key"], trust["ssh_client_key"]))


def host_steps(bundle: Bundle, target: Target, paths: NodePaths) -> list[Step]:
    node = target.node
    found: list[Step] = [NodeOvs(bundle, target.host, target.datapath)]
    if node.network == "host" and target.datapath == "netdev":  # a machine's own OVS (a pod's has it on)
        bridge = bundle.data["network"]["int_bridge"]
        found.append(OvsUserspaceOffload(target.host, bridge, own_bridges=(bridge,)))
    return [*found, SharedNetns(Path(node.run_dir("netns")), paths.state / "netns-mount")]


def _start(svc: Service, compose: dict[str, Any], compose_file: Path, wanted: str,
           found: control.Container | None) -> str | None:
    action = bringup.decide(found, wanted)
    if action is None:
        return None
    if found is not None:
        control.remove(svc.container, timeout=bringup.QUICK_STOP_S, stale=found.state == control.STALE)
    control.start(compose, compose["name"], svc.name, compose_file)
    return action


def waves(role: list[Service]) -> list[list[Service]]:
    """The role in start waves: each service in the first wave after all it depends on."""
    done: set[str] = set()
    found: list[list[Service]] = []
    left = list(role)
    while left:
        wave = [svc for svc in left if set(svc.depends_on) <= done]
        if not wave:
            raise HotstackError(f"the compute role's dependencies loop: {', '.join(s.name for s in left)}")
        found.append(wave)
        done |= {svc.name for svc in wave}
        left = [svc for svc in left if svc.name not in done]
    return found


def join(bundle: Bundle, target: Target, say: Say, steps_progress: StepProgress | None = None,
         map_host: Callable[[], None] | None = None) -> JoinReport:
    node, report, started = target.node, JoinReport(bundle.name), time.monotonic()
    paths = node_paths(bundle, node)
    settings = bundle.settings()
    assert node.pki is not None
    write_trust(bundle, Path(node.pki))
    facts = {"virt_type": target.virt_type, "nfs_mode": target.nfs_mode, "datapath_type": target.datapath,
             "kernel_modules": target.host.kernel_modules_dir()}
    write_if_changed(paths.state / FACTS_FILE, json.dumps(facts, indent=2) + "\n", mode=0o644)
    run_plan(host_steps(bundle, target, paths), False, steps_progress)
    report.timings["host"] = round(time.monotonic() - started, 1)

    known = refs.all_refs(settings.release)
    role = render_role(bundle, node, paths, known.__getitem__)
    stage.ensure(role.cat, [svc.name for svc in role.role], lambda *_: None)
    nova, neutron = (checks.service_connection(settings, bundle, user) for user in ("nova", "neutron"))
    gates = {
        "ovn-controller": lambda svc, since: checks.controller_connected(svc.container),
        "neutron-ovn-metadata-agent": lambda svc, since: checks.agent_alive(
            neutron, "neutron-ovn-metadata-agent", node.host),
        "nova-compute": lambda svc, since: checks.compute_up(nova, node.host, since),
        "nova-ssh": lambda svc, since: basic.tcp(svc.probe.host, svc.probe.port),
    }
    snapshot = control.snapshot()
    names = {svc.name for svc in role.role}
    for svc in role.role:
        if unknown := [dep for dep in svc.depends_on if dep not in names]:
            raise HotstackError(f"{svc.name} depends on {unknown[0]}, which a node does not run")
    for wave in waves(role.role):  # ovn-controller and sshd; then nova-compute and the agent side by side
        started_at: dict[str, float | None] = {}
        for svc in wave:
            bringup.ensure_data_dirs(role.cat, svc)
            since = time.time()
            action = _start(svc, role.compose, paths.compose_file, role.hashes[svc.name], snapshot.get(svc.container))
            report.services[svc.name] = action or "kept"
            started_at[svc.name] = since if action else None
            say(f"{svc.name}: {'starting (' + action + ')' if action else 'running'}")
        for svc in wave:
            base = svc.name.removeprefix(f"{node.name}-")
            result = basic.until(gates[base](svc, started_at[svc.name]), svc.probe.deadline_s, base)
            if not result.ok:
                logs = control.last_logs(svc.container, 20)
                raise HotstackError(f"node {node.name}: {svc.name} is not healthy ({result.detail})\n{logs}",
                                    hint=f"podman logs {svc.container}; fix the cause and join again")
            report.timings[base] = round(time.monotonic() - started, 1)
            say(f"{svc.name}: healthy after {report.timings[base]:.1f} s ({result.detail})")
    report.timings["role"] = round(time.monotonic() - started - report.timings["host"], 1)

    if map_host is not None and not basic.until(checks.hypervisor_up(nova, node.host), 0, "hypervisor").ok:
        map_host()  # not mapped yet (mappings live in the API database: once is enough)
    mapped = basic.until(checks.hypervisor_up(nova, node.host), MAPPED_DEADLINE_S, "hypervisor")
    if not mapped.ok:
        raise HotstackError(f"node {node.name}: {mapped.detail}",
                            hint="on the first host: hotstack node list; nova-manage cell_v2 discover_hosts")
    say(f"{node.name}: {mapped.detail}")
    report.timings["total"] = round(time.monotonic() - started, 1)
    return report
