"""The registered nodes, brought along with the control plane: `up` admits every node (its
RabbitMQ user) and brings each pod node here to healthy through the same join a second machine
runs; `down` takes the pod nodes down with the rest (their Open vSwitch database and libvirt
state are kept, like every service's data). The registry is the wanted state: `node add` is a
registration and an `up`, and a reboot needs nothing more than the one `up`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hotstack.catalog import Catalog
from hotstack.commands.progress import Progress
from hotstack.containers import control, podman
from hotstack.core import runner
from hotstack.core.errors import HotstackError
from hotstack.core.noderegistry import Entry
from hotstack.core.secrets import Secrets
from hotstack.host.node_pod import netns_path
from hotstack.host.step import run_plan
from hotstack.nodes import admit, join, pod
from hotstack.nodes import bundle as nodebundle
from hotstack.render.bundle import default_path, node_secrets, rabbitmq_secret

Say = Callable[[str], None]
def bring_up(cat: Catalog, progress: Progress) -> dict[str, join.JoinReport]:
    """Every node admitted; every pod node joined (kept when it already runs as rendered)."""
    joined: dict[str, join.JoinReport] = {}
    for entry in cat.nodes:
        secrets = Secrets(cat.paths.secrets_file).ensure(node_secrets(entry.name))
        if admit.ensure_rabbitmq_user(cat, entry.name, secrets[rabbitmq_secret(entry.name)]):
            progress.line(f"node {entry.name}: RabbitMQ user made")
        if entry.kind == "pod":
            joined[entry.name] = _pod(cat, entry, progress)
    return joined


def _pod(cat: Catalog, entry: Entry, progress: Progress) -> join.JoinReport:
    found = default_path(cat.paths.state, entry.name)
    if not found.exists():
        raise HotstackError(f"node {entry.name}: its bundle {found} is gone",
                            hint=f"make it again: hotstack node bundle {entry.name}")
    loaded, target = nodebundle.load(found), pod.target(cat, entry)
    assert target.node.pki is not None
    join.write_trust(loaded, Path(target.node.pki))  # the pod's libvirtd listens with it
    pod.ensure_images(cat)
    run_plan(pod.steps(cat, entry), False, progress.step)
    return join.join(loaded, target, progress.line, progress.step,
                     map_host=lambda: admit.discover_hosts(cat))


def stop_pods(cat: Catalog, say: Say) -> list[str]:
    """Each pod node's containers and pod gone; its state dirs kept."""
    done = []
    for entry in (e for e in cat.nodes if e.kind == "pod"):
        control.remove(*pod.role_containers(cat, entry), timeout=5)
        spec = pod.spec(cat, entry)
        podman.run(["pod", "rm", "--force", "--ignore", "--time", "2", spec.pod], timeout=120)
        netns_step = pod.teardown(cat, entry)[0]  # the agent's namespaces and their shared mount
        netns_step.remove()
        if netns_path(spec.netns).exists():
            runner.run(["ip", "netns", "delete", spec.netns], timeout=10)
        say(f"node {entry.name}: pod {spec.pod} down (its state kept)")
        done.append(entry.name)
    return done
