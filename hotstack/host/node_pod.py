"""A node on this machine (`hotstack node add`): a podman pod with its own network namespace,
running the node's own Open vSwitch (userspace datapath) and libvirtd with qemu.

The pod is the node's "host": the join that prepares a second machine prepares this one
through its OVS socket and libvirt socket (under the node's run dir, shared with the
compute role's containers), and its compute role joins the pod's network namespace. The pod's
namespace gets a name (`ip netns attach`), so netlink and `ip -n` reach it like any other.
podman here has no pause image (no catatonit), so the infra container is the base image
sleeping. The underlay link to the host is `host/underlay.py`'s business. Design: docs/nodes.md.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from hotstack.catalog.node import NODE_PKI
from hotstack.containers import podman
from hotstack.core import runner
from hotstack.core.errors import HotstackError
from hotstack.core.fsutil import write_if_changed
from hotstack.host.daemons import socket_answers
from hotstack.host.libvirt_listen import listen_conf
from hotstack.host.netns import mount_propagation
from hotstack.host.step import Step

OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
STOP_S = 2  # the daemons keep nothing they would lose; a sleeping infra ignores SIGTERM


@dataclass(frozen=True)
class PodSpec:
    deployment: str  # settings.name
    node: str
    ovs_image: str  # the `ovn` image (ovsdb-server, ovs-vswitchd)
    libvirt_image: str  # the `node-libvirt` image
    infra_image: str  # any local image with `sleep` (the base image)
    run: Path  # the node's run dir: openvswitch/, libvirt/ (Node.run)
    root: Path  # the node's state dir (Node.root)
    # Host paths qemu opens at the same path as nova-compute names them: the instances path
    # (from the node's own dir) and the volumes' mount base — (source, target) pairs.
    shared: tuple[tuple[str, str], ...] = ()
    # libvirtd listening for migrations (TLS) at this address, with the node's trust from `pki`
    listen: str | None = None
    pki: Path | None = None

    @property
    def pod(self) -> str:
        return f"{self.deployment}-{self.node}"

    @property
    def netns(self) -> str:
        return self.pod

    @property
    def infra(self) -> str:
        return f"{self.pod}-infra"

    @property
    def ovs(self) -> str:
        return f"{self.pod}-ovs"

    @property
    def libvirt(self) -> str:
        return f"{self.pod}-libvirt"

    @property
    def ovs_socket(self) -> Path:
        return self.run / "openvswitch" / "db.sock"

    @property
    def ovsdb(self) -> str:
        return f"unix:{self.ovs_socket}"

    @property
    def pts(self) -> Path:
        """The node's own devpts instance: its guests' serial consoles, seen alike by its libvirt
        (qemu opens them) and its nova-compute (which reads a console's pty)."""
        return self.run / "pts"

    @property
    def libvirt_socket(self) -> Path:
        return self.run / "libvirt" / "libvirt-sock"

    @property
    def libvirt_uri(self) -> str:
        return f"qemu+unix:///system?socket={self.libvirt_socket}"


def pod_create_argv(spec: PodSpec) -> list[str]:
    """The pod: its own network namespace holding only loopback (hotstack plugs the underlay in)."""
    return ["pod", "create", "--name", spec.pod, "--network", "none", "--hostname", spec.node,
            "--infra-name", spec.infra, "--infra-image", spec.infra_image, "--infra-command", "sleep infinity",
            "--label", f"io.hotstack.node={spec.node}"]


def ovs_script() -> str:
    """ovsdb-server (its database kept, converted on a new schema) and ovs-vswitchd in the
    foreground; TSO on, so guests' TCP passes the userspace datapath (host/ovs_offload.py)."""
    db = "/var/lib/openvswitch/conf.db"
    return (f"set -e; test -s {db} || ovsdb-tool create {db} {OVS_SCHEMA}; "
            f"if ovsdb-tool needs-conversion {db} {OVS_SCHEMA} | grep -q yes; then "
            f"ovsdb-tool convert {db} {OVS_SCHEMA}; fi; "
            f"ovsdb-server {db} --remote=punix:/run/openvswitch/db.sock --pidfile=/run/openvswitch/ovsdb-server.pid "
            "--unixctl=/run/openvswitch/ovsdb-server.ctl --detach; "
            "ovs-vsctl --no-wait init; ovs-vsctl --no-wait set Open_vSwitch . other_config:userspace-tso-enable=true; "
            "exec ovs-vswitchd unix:/run/openvswitch/db.sock --pidfile=/run/openvswitch/ovs-vswitchd.pid "
            "--unixctl=/run/openvswitch/ovs-vswitchd.ctl")


def _daemon_argv(spec: PodSpec, name: str, image: str, volumes: list[tuple[Path | str, str]],
                 script: str, init: tuple[str, ...] = ()) -> list[str]:
    mounts = [a for src, dst in volumes for a in ("--volume", f"{src}:{dst}")]
    return ["run", "--detach", "--pod", spec.pod, "--name", name, "--privileged",
            "--label", f"io.hotstack.node={spec.node}", *mounts, image, *init, "sh", "-c", script]


def ovs_run_argv(spec: PodSpec) -> list[str]:
    return _daemon_argv(spec, spec.ovs, spec.ovs_image,
                        [(spec.run / "openvswitch", "/run/openvswitch"),
                         (spec.root / "openvswitch", "/var/lib/openvswitch")],
                        ovs_script())


def libvirt_run_argv(spec: PodSpec) -> list[str]:
    """libvirtd with the node's OVS socket (it plugs guests' ports with ovs-vsctl). Not the
    host's /dev/pts: qemu opens /dev/ptmx, whose ptys must live in the devpts mounted at
    /dev/pts (the host's there: "Failed to create PTY"); the node's own instance is mounted at
    both, so nova-compute, given the same instance, finds the pty a console names."""
    volumes: list[tuple[Path | str, str]] = [
        (spec.run / "libvirt", "/run/libvirt"), (spec.run / "openvswitch", "/run/openvswitch"),
        (spec.root / "libvirt", "/var/lib/libvirt"), (spec.pts, "/dev/pts"),  # runc links /dev/ptmx to pts/ptmx
        *spec.shared]
    listen = ""
    if spec.listen and spec.pki:
        volumes += [(spec.pki, f"{NODE_PKI}:ro"), (spec.root / LISTEN_CONF, f"/etc/libvirt/{LISTEN_CONF}:ro")]
        listen = f" --listen -f /etc/libvirt/{LISTEN_CONF}"
    return _daemon_argv(spec, spec.libvirt, spec.libvirt_image, volumes, f"virtlogd -d && exec libvirtd{listen}",
                        init=("tini", "--"))


LISTEN_CONF = "hotstack-libvirtd.conf"


def write_listen_conf(spec: PodSpec) -> None:
    if spec.listen and spec.pki:
        # every address of the pod's namespace: libvirtd starts before the underlay link brings the
        # node's address, and that link is the namespace's only way out
        write_if_changed(spec.root / LISTEN_CONF, listen_conf("", "0.0.0.0", Path(NODE_PKI), "node.key", "node.crt"),
                         mode=0o644)


def _inspect(kind: str, name: str) -> dict[str, object] | None:
    proc = podman.run([*kind.split(), "inspect", name], check=False, timeout=30)
    if proc.returncode != 0:
        return None
    data = json.loads(proc.stdout)
    found = data[0] if isinstance(data, list) else data
    return found if isinstance(found, dict) else None


def _running(container: str) -> int:
    """The pid of a running container, 0 when it is not running (or does not exist)."""
    info = _inspect("container", container)
    state = info.get("State", {}) if info else {}
    return int(state.get("Pid", 0)) if isinstance(state, dict) and state.get("Running") else 0


def _mounted(path: Path) -> bool:
    return mount_propagation(Path("/proc/self/mountinfo").read_text(), path) is not None


def netns_path(name: str) -> Path:
    return Path("/run/netns") / name


def same_netns(handle: Path, pid: int) -> bool:
    """Does the named handle still lead to the pod's namespace (not a stale one)?"""
    try:
        return handle.stat().st_ino == Path(f"/proc/{pid}/ns/net").stat().st_ino
    except OSError:
        return False


class NodePod(Step):
    """The pod, its named namespace, its OVS and libvirt containers, their sockets answering."""

    fix = "look at `podman pod ps` and `podman logs <pod>-ovs` / `<pod>-libvirt`"

    def __init__(self, spec: PodSpec, state_dir: Path) -> None:
        self.spec, self.state_dir = spec, state_dir
        self.id = f"node-pod-{spec.node}"

    def describe(self) -> str:
        return f"pod {self.spec.pod}: own network namespace, Open vSwitch (netdev) and libvirtd"

    def _env(self) -> dict[str, str]:
        return podman.conf_env(self.state_dir)  # the infra container's runtime and ulimits

    def check(self) -> list[str]:
        s = self.spec
        infra = _running(s.infra)
        if not infra:
            return [f"create and start pod {s.pod}", f"name its network namespace {s.netns}",
                    f"run {s.ovs}", f"run {s.libvirt}"]
        diffs = [] if same_netns(netns_path(s.netns), infra) else [f"name its network namespace {s.netns}"]
        diffs += [] if _mounted(s.pts) else [f"mount the node's own devpts at {s.pts}"]
        for name, sock in ((s.ovs, s.ovs_socket), (s.libvirt, s.libvirt_socket)):
            if not _running(name) or not socket_answers(sock):
                diffs.append(f"run {name} (answering at {sock})")
        return diffs

    def apply(self) -> None:
        s = self.spec
        for d in (s.run / "openvswitch", s.run / "libvirt", s.root / "openvswitch", s.root / "libvirt",
                  *(Path(source) for source, _ in s.shared)):
            d.mkdir(parents=True, exist_ok=True)
        write_listen_conf(s)
        if not _mounted(s.pts):
            s.pts.mkdir(parents=True, exist_ok=True)
            runner.run(["mount", "-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=0620,gid=5", "devpts",
                        str(s.pts)], timeout=10)
        if _inspect("pod", s.pod) is None:
            podman.run(pod_create_argv(s), env=self._env(), timeout=60)
        if not _running(s.infra):
            podman.run(["pod", "start", s.pod], env=self._env(), timeout=60)
        infra = _running(s.infra)
        if not same_netns(netns_path(s.netns), infra):
            runner.run(["ip", "netns", "delete", s.netns], check=False, timeout=10)
            runner.run(["ip", "netns", "attach", s.netns, str(infra)], timeout=10)
        for name, argv, sock in ((s.ovs, ovs_run_argv(s), s.ovs_socket),
                                 (s.libvirt, libvirt_run_argv(s), s.libvirt_socket)):
            if not _running(name):
                podman.run(["rm", "--force", "--ignore", name], timeout=60)
                podman.run(argv, env=self._env(), timeout=120)
            _wait(sock, name)

    def remove(self) -> list[str]:
        s, done = self.spec, []
        if _inspect("pod", s.pod) is not None:
            podman.run(["pod", "rm", "--force", "--time", str(STOP_S), s.pod], timeout=120)
            done.append(f"removed pod {s.pod} ({s.ovs}, {s.libvirt})")
        if netns_path(s.netns).exists():
            runner.run(["ip", "netns", "delete", s.netns], timeout=10)
            done.append(f"removed network namespace {s.netns}")
        if _mounted(s.pts):
            runner.run(["umount", str(s.pts)], timeout=10)
            done.append(f"unmounted the node's devpts {s.pts}")
        for d in (s.run, s.root / "openvswitch", s.root / "libvirt"):
            if d.exists():
                shutil.rmtree(d)
                done.append(f"removed {d}")
        if s.root.is_dir() and not any(s.root.iterdir()):
            s.root.rmdir()
        return done


def _wait(sock: Path, name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not socket_answers(sock):
        if time.monotonic() > deadline:
            raise HotstackError(f"{name} started but does not answer at {sock}",
                                hint=f"podman logs {name}")
        time.sleep(0.2)
