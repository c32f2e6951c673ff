"""What podman says about hotstack's containers, and the few things done to one container.

Every command line is built by a pure function (tested without podman); the calls go through
:mod:`hotstack.containers.podman`, the only module that builds podman or podman-compose
command lines.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotstack.containers import podman, runargs
from hotstack.containers.labels import HASH_LABEL, SERVICE_LABEL
from hotstack.core.errors import CommandError
from hotstack.core.fsutil import write_if_changed

STOP_TIMEOUT_S = 20
STALE = "stale"  # podman says running, but the container's process is gone
PROC = Path("/proc")
# `logs --follow` runs until Ctrl-C; a day bounds one left in a forgotten terminal.
FOLLOW_TIMEOUT_S = 86400.0


@dataclass(frozen=True)
class Container:
    name: str
    service: str
    state: str  # podman's word (running, exited, created, paused, ...) or STALE
    config_hash: str
    started_at: float  # unix time; 0 when never started
    id: str = ""  # podman's full container id

    @property
    def running(self) -> bool:
        return self.state == "running"

    def uptime_s(self, now: float | None = None) -> float | None:
        if not self.running or not self.started_at:
            return None
        return max(0.0, (now or time.time()) - self.started_at)


def ps_args() -> list[str]:
    return ["ps", "--all", "--format", "json", "--filter", f"label={SERVICE_LABEL}"]


def process_alive(pid: int, container_id: str, proc: Path = PROC) -> bool:
    """Whether `pid` is the container's process: alive (a zombie, killed but not yet reaped,
    is not) and in the container's own cgroup (its path names the container's id, with or
    without systemd), so a reused pid does not count."""
    try:
        state = (proc / str(pid) / "stat").read_text().rpartition(")")[2].split()[0]
        return state != "Z" and bool(container_id) and container_id in (proc / str(pid) / "cgroup").read_text()
    except (OSError, IndexError):
        return False


def parse_ps(text: str, proc: Path = PROC) -> dict[str, Container]:
    """`podman ps --format json` output → containers by name.

    podman keeps "running" for a container whose process was killed behind its back (a
    crashed host or a killed session that left /run in place: conmon died too, so nobody
    recorded the exit). Such a container is STALE here, so `up` recreates it instead of
    keeping a service that is not there."""
    found: dict[str, Container] = {}
    for row in json.loads(text or "[]") or []:
        labels = row.get("Labels") or {}
        state = str(row.get("State", ""))
        if state == "running" and not process_alive(int(row.get("Pid") or 0), str(row.get("Id", "")), proc):
            state = STALE
        for name in row.get("Names") or []:
            found[name] = Container(
                name=name, service=labels.get(SERVICE_LABEL, ""), state=state,
                config_hash=labels.get(HASH_LABEL, ""), started_at=float(row.get("StartedAt") or 0),
                id=str(row.get("Id", "")),
            )
    return found


def write_ids(path: Path, found: dict[str, Container]) -> bool:
    """Record every container's id (hotstack's exporter finds each one's cgroup by it); True
    when the file changed."""
    ids = {name: c.id for name, c in sorted(found.items()) if c.id}
    return write_if_changed(path, json.dumps(ids, indent=2) + "\n", mode=0o644)


def snapshot() -> dict[str, Container]:
    """Every container carrying hotstack's service label, in one podman call."""
    return parse_ps(podman.run(ps_args(), timeout=60).stdout)


class States:
    """`state` for containers polled again and again (a probe asks after every miss): podman is
    asked once, then while the process it named lives in the container's cgroup the answer
    stays "running" without another podman call (each costs ~0.05 CPU-s)."""

    def __init__(self, proc: Path = PROC) -> None:
        self.proc = proc
        self._known: dict[str, tuple[int, str]] = {}  # container → (pid, id) seen running

    def __call__(self, container: str) -> str:
        known = self._known.get(container)
        if known is not None and process_alive(*known, proc=self.proc):
            return "running"
        proc = podman.run(["container", "inspect", "--format", "{{.State.Status}} {{.State.Pid}} {{.Id}}",
                           container], check=False, timeout=30)
        if proc.returncode != 0:
            self._known.pop(container, None)
            return "missing"
        status, pid, cid = [*proc.stdout.split(), "", "", ""][:3]
        if status == "running" and process_alive(int(pid or 0), cid, self.proc):
            self._known[container] = (int(pid), cid)
            return "running"
        self._known.pop(container, None)
        return STALE if status == "running" else status


def exec_args(container: str, argv: tuple[str, ...] | list[str], *, stdin: bool = False,
              user: str | None = None) -> list[str]:
    flags = ["-i"] if stdin else []
    if user:
        flags += ["--user", user]
    return ["exec", *flags, container, *argv]


def exec_in(container: str, argv: tuple[str, ...] | list[str], *, stdin: str | None = None,
            user: str | None = None, timeout: float = 300, check: bool = True) -> tuple[int, str]:
    """Run a command in a running container; (exit code, stdout+stderr)."""
    proc = podman.run(exec_args(container, argv, stdin=stdin is not None, user=user), input=stdin,
                      timeout=timeout, check=check)
    return proc.returncode, (proc.stdout or "") + (proc.stderr or "")


def logs_args(container: str, *, tail: int | None = None, follow: bool = False) -> list[str]:
    args = ["logs"]
    if tail is not None:
        args += ["--tail", str(tail)]
    if follow:
        args.append("--follow")
    return [*args, container]


def last_logs(container: str, lines: int = 30) -> str:
    """The container's last log lines (stdout and stderr), or why there are none."""
    try:
        proc = podman.run(logs_args(container, tail=lines), check=False, timeout=30)
    except CommandError as exc:
        return f"(no logs: {exc.message})"
    text = ((proc.stdout or "") + (proc.stderr or "")).rstrip()
    return "\n".join(text.splitlines()[-lines:]) if text else "(the container wrote no log lines)"


def stream_logs(container: str, *, follow: bool, tail: int | None = None) -> int:
    """Copy the container's log to our stdout (until interrupted when following)."""
    return podman.run(logs_args(container, tail=tail, follow=follow), check=False, capture=False,
                      timeout=FOLLOW_TIMEOUT_S if follow else 600).returncode


def remove(*containers: str, timeout: int = STOP_TIMEOUT_S, stale: bool = False) -> None:
    """Stop (SIGTERM, then SIGKILL after `timeout`) and remove; nothing to do when gone.

    A STALE container fails the first `rm` (podman waits `timeout` for an exit file nobody
    writes, then errs), and that failure makes podman see it stopped: the second `rm` removes
    it. So a failure is retried once, and a container known stale gets no grace at all."""
    argv = ["rm", "--force", "--ignore", "--time", str(0 if stale else timeout), *containers]
    try:
        podman.run(argv, timeout=timeout + 60)
    except CommandError:
        podman.run(argv, timeout=timeout + 60)


def start_stopped(container: str, timeout: float = 120) -> None:
    """`podman start` of an existing, stopped container."""
    podman.run(["start", container], timeout=timeout)


def network_exists(name: str) -> bool:
    return podman.run(["network", "exists", name], check=False, timeout=30).returncode == 0


def compose_up_args(compose_file: Path, project: str, service: str, profile: str | None = None) -> list[str]:
    """podman-compose arguments creating one service's container, without touching others.

    No pod (each container keeps its own network namespace and address) and an explicit project
    name, so a second stack (tests) never shares a pod or project with the real one."""
    args = ["--in-pod", "false", "-p", project, "-f", str(compose_file)]
    if profile:
        args += ["--profile", profile]
    return [*args, "up", "--detach", "--no-deps", "--no-build", "--pull", "never", service]


def service_subset(compose: dict[str, Any], service: str) -> dict[str, Any]:
    """The compose document cut down to one service (its definition unchanged, minus depends_on,
    which names services the cut leaves out) and the networks."""
    definition = {k: v for k, v in compose["services"][service].items() if k != "depends_on"}
    cut = {"services": {service: definition}, "networks": compose.get("networks") or {}}
    return {"name": compose["name"], **cut} if "name" in compose else cut


def write_subset(compose: dict[str, Any], service: str, directory: Path) -> Path:
    """podman-compose 1.6 spends ~1.6 ms of CPU on every string of the file it is given
    (variable interpolation builds its classes per call): ~2.5 s for hotstack's whole file, every
    call. So each call gets a one-service file cut from the rendered one: same definitions."""
    path = directory / f"{service}.yml"
    write_if_changed(path, json.dumps(service_subset(compose, service), indent=1, sort_keys=True) + "\n")
    return path


def compose_up(compose: dict[str, Any], project: str, service: str, *, state_dir: Path,
               profile: str | None = None, timeout: float = 300) -> None:
    """Create (and start) one service's container through podman-compose (kept for comparing
    with :func:`start`, which `up` uses)."""
    path = write_subset(compose, service, state_dir / "compose")
    podman.compose(compose_up_args(path, project, service, profile),
                   env=podman.conf_env(state_dir), timeout=timeout)


def start(compose: dict[str, Any], project: str, service: str, compose_file: Path, *, timeout: float = 300) -> None:
    """Create and start one service's container from the rendered compose document, with one
    `podman run` (containers/runargs.py); its network must exist (:func:`ensure_network`)."""
    names = {key: (net or {}).get("name", key) for key, net in (compose.get("networks") or {}).items()}
    definition = dict(compose["services"][service])
    if definition.get("networks"):
        definition["networks"] = {names.get(k, k): v for k, v in definition["networks"].items()}
    podman.run(runargs.run_args(definition, service, project, compose_file), timeout=timeout)


def ensure_network(compose: dict[str, Any], project: str) -> None:
    """Create the compose document's networks that podman does not have yet."""
    for key, definition in (compose.get("networks") or {}).items():
        if not network_exists((definition or {}).get("name", key)):
            podman.run(runargs.network_create_args(key, definition or {}, project), timeout=60)
