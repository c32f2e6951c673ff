"""Bring one service to healthy, deciding from what podman says now and the rendered hash.

  running, same config-hash, shallow probe ok → kept (pending jobs, if any, still run)
  missing, or not running                    → created
  a different config-hash                    → recreated
  running with the same hash but not answering: the full probe gets a short grace, then the
  container is recreated once.
Creating means: stop+remove the old container, make missing data dirs (owned by the service's
user), the before-start jobs, one `podman run` from its compose definition, the full probe,
then the after-start jobs. The before-start jobs of a service others wait for (`after_jobs`)
run ahead, as a graph node of their own (`start_graph`). A probe miss raises ProbeFailed
naming the service, the probe and its log.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hotstack.catalog import USERS, Catalog, Service, secret_names
from hotstack.containers import control
from hotstack.containers.control import Container
from hotstack.core import graph as orchestrator
from hotstack.core.errors import CommandError, HotstackError
from hotstack.core.secrets import Secrets
from hotstack.probes import basic, health
from hotstack.probes.basic import ProbeResult
from hotstack.probes.deep import Admin
from hotstack.stack import jobs, neighbours

Action = Literal["created", "recreated", "started", "kept"]
Notify = Callable[[str, str, str], None]  # (service, state, note)
KEPT_GRACE_S = 15.0
QUICK_STOP_S = 5
LOG_LINES = 30


@dataclass(frozen=True)
class Outcome:
    action: Action
    healthy_after_s: float | None  # from the moment its dependencies were healthy; None when kept
    probe: ProbeResult


class ProbeFailed(HotstackError):
    def __init__(self, svc: Service, result: ProbeResult, logs: str) -> None:
        super().__init__(
            f"{svc.name} is not healthy: probe {health.describe(svc)} missed its {svc.probe.deadline_s:.0f} s "
            f"deadline ({result.detail})\n--- last {LOG_LINES} log lines of {svc.container} ---\n{logs}",
            hint=f"see `hotstack logs {svc.name}`; fix the cause and run `hotstack up` again")
        self.service = svc.name


RESTARTABLE = ("exited", "stopped", "created")  # podman states a plain `podman start` resumes


def decide(current: Container | None, wanted_hash: str) -> Action | None:
    """What to do with a service's container; None = keep it if it answers. A stopped one of the
    current definition (a reboot, a kill, `podman stop`) is started again, its log kept (why it
    died stays readable); a stale one is replaced."""
    if current is None:
        return "created"
    if current.config_hash != wanted_hash:
        return "recreated"
    if current.running:
        return None
    return "started" if current.state in RESTARTABLE else "recreated"


def stop_timeout(svc: Service) -> int:
    """Seconds between SIGTERM and SIGKILL: the databases and the broker get time to close their
    files; the OpenStack services keep nothing a kill would lose (heat-engine alone would take
    12 s to drain its workers)."""
    return control.STOP_TIMEOUT_S if svc.probe.kind in ("mysql", "amqp", "ovsdb") else QUICK_STOP_S


def ensure_data_dirs(cat: Catalog, svc: Service) -> None:
    """Create missing bind-mount sources under the data dir, owned by the service's user."""
    uid = USERS.get(svc.user or "root", 0)
    for volume in svc.volumes:
        source = Path(volume.source)
        if source.is_relative_to(cat.paths.data_dir) and not source.exists():
            source.mkdir(parents=True, mode=0o750, exist_ok=True)  # services sharing a volume start in parallel
            if os.geteuid() == 0:
                os.chown(source, uid, uid)


class Stack:
    """One `up` run: the podman snapshot, the admin connection and the job runner, shared by
    the services started in parallel."""

    def __init__(self, cat: Catalog, hashes: dict[str, str], notify: Notify,
                 snapshot: dict[str, Container] | None = None) -> None:
        self.cat, self.hashes, self.notify = cat, hashes, notify
        self.snapshot = control.snapshot() if snapshot is None else snapshot
        self.admin = Admin(cat)
        self._compose: dict[str, Any] | None = None
        self._compose_lock = threading.Lock()
        secrets = Secrets(cat.paths.secrets_file).ensure(secret_names(cat))
        log = jobs.JobLog(cat.paths.state / jobs.JOBS_FILE, cat.settings.release)
        self.jobs = jobs.JobRunner(cat, self.admin, log, secrets, self.compose)
        self._network_lock = threading.Lock()
        self.states = control.States()
        self.cancelled = threading.Event()  # Ctrl-C: probes stop at their next attempt
        self._network_ready = False  # made (or found) by the first container that needs it

    def compose_document(self) -> dict[str, Any]:
        """The rendered compose file, read once per run."""
        with self._compose_lock:
            if self._compose is None:
                self._compose = jobs.load_compose(self.cat.paths.compose_file)
            return self._compose

    def compose(self) -> dict[str, dict[str, Any]]:
        services: dict[str, dict[str, Any]] = self.compose_document()["services"]
        return services

    def is_running(self, container: str) -> bool:
        found = self.snapshot.get(container)
        return found is not None and found.running

    def bring_up(self, name: str) -> Outcome | None:
        if name.endswith(JOBS_NODE):
            self.prepare(self.cat[name.removesuffix(JOBS_NODE)])
            return None
        svc, start = self.cat[name], time.monotonic()
        action = decide(self.snapshot.get(svc.container), self.hashes[name])
        if action is None:
            kept = self._keep(svc)
            if kept is not None:
                return kept
            action = "recreated"
        action, created_at = self._start(svc) if action == "started" else (action, self._create(svc, action))
        result = self._probe(svc, svc.probe.deadline_s, since=created_at)
        if not result.ok:
            self.notify(name, "failed", result.detail)
            raise ProbeFailed(svc, result, self.jobs.redact(control.last_logs(svc.container, LOG_LINES)))
        self._jobs(svc, after_start=True)
        self.notify(name, "healthy", action)
        return Outcome(action, round(time.monotonic() - start, 1), result)

    def prepare(self, svc: Service) -> None:
        """Its data dirs and before-start jobs, ahead of its container (others wait for them)."""
        ensure_data_dirs(self.cat, svc)
        self._jobs(svc, after_start=False)

    def _keep(self, svc: Service) -> Outcome | None:
        result = health.shallow(self.cat, svc, self.is_running)
        if not result.ok:
            self.notify(svc.name, "probing", "not answering; waiting briefly")
            result = self._probe(svc, min(KEPT_GRACE_S, svc.probe.deadline_s))
            if not result.ok:
                return None
        self._jobs(svc, after_start=False)
        self._jobs(svc, after_start=True)
        self.notify(svc.name, "healthy", "kept")
        return Outcome("kept", None, result)

    def _start(self, svc: Service) -> tuple[Action, float]:
        """Start its stopped container again, or recreate it when podman cannot; what was done
        and the unix time just before."""
        self.notify(svc.name, "starting", "started")
        ensure_data_dirs(self.cat, svc)
        self._jobs(svc, after_start=False)
        started_at = time.time()
        try:
            control.start_stopped(svc.container)
        except CommandError:
            return "recreated", self._create(svc, "recreated")
        if not svc.host_network:
            neighbours.forget(str(self.cat.ip(svc.name)))
        return "started", started_at

    def _create(self, svc: Service, action: Action) -> float:
        """Replace the container; returns the unix time just before the new one was created."""
        self.notify(svc.name, "starting", action)
        if (old := self.snapshot.get(svc.container)) is not None:
            control.remove(svc.container, timeout=stop_timeout(svc), stale=old.state == control.STALE)
        ensure_data_dirs(self.cat, svc)
        self._jobs(svc, after_start=False)
        created_at = time.time()
        try:
            self._run_container(svc)
            if not svc.host_network:
                neighbours.forget(str(self.cat.ip(svc.name)))
        except CommandError as exc:
            self.notify(svc.name, "failed", "podman run failed")
            raise HotstackError(f"{svc.name}: creating its container failed: {exc.message}",
                                hint=f"see `hotstack logs {svc.name}` if the container exists") from exc
        return created_at

    def _run_container(self, svc: Service) -> None:
        """One `podman run` from the service's compose definition; the network is created once,
        by the first service that needs it (two creating it at once would collide)."""
        network = self.cat.settings.network.podman_network
        if not svc.host_network:
            with self._network_lock:
                if not self._network_ready:
                    control.ensure_network(self.compose_document(), network)
                    self._network_ready = True
        control.start(self.compose_document(), network, svc.name, self.cat.paths.compose_file)

    def _probe(self, svc: Service, deadline_s: float, since: float | None = None) -> ProbeResult:
        self.notify(svc.name, "probing", health.describe(svc))
        check = health.full_check(self.cat, svc, self.admin, self.jobs.map_compute_host, since)
        return basic.until(basic.unless_exited(check, svc.container, self.states), deadline_s, svc.probe.kind,
                            cancelled=self.cancelled)

    def _jobs(self, svc: Service, *, after_start: bool) -> None:
        self.jobs.run_pending(svc, after_start=after_start,
                              notify=lambda job: self.notify(svc.name, "starting" if not after_start else "probing",
                                                             f"job {job}"))


def switched_off(cat: Catalog, snapshot: dict[str, Container]) -> list[str]:
    """This deployment's containers of services no longer in the catalog (turned off in the
    settings, e.g. `horizon.enabled: false`): named `<name>-<service>` with that service label."""
    prefix = cat.settings.name
    nodes = tuple(f"{e.name}-" for e in cat.nodes)  # a registered node's role is no service of the catalog
    return sorted(name for name, found in snapshot.items()
                  if found.service and found.service not in cat.services and name == f"{prefix}-{found.service}"
                  and not found.service.startswith(nodes or ("\0",)))


def remove_switched_off(cat: Catalog, snapshot: dict[str, Container]) -> list[str]:
    """Remove them; returns the containers removed."""
    gone = switched_off(cat, snapshot)
    for name in gone:
        control.remove(name, timeout=QUICK_STOP_S, stale=snapshot[name].state == control.STALE)
    return gone


JOBS_NODE = ":jobs"


def start_graph(cat: Catalog) -> dict[str, tuple[str, ...]]:
    """What each start waits for. A service others need only for its jobs (`after_jobs`) gets a
    node `<name>:jobs` of its own, for its before-start jobs; they wait for that node alone."""
    owners = {owner for svc in cat for owner in svc.after_jobs}
    deps: dict[str, tuple[str, ...]] = {f"{owner}{JOBS_NODE}": cat[owner].depends_on for owner in sorted(owners)}
    for svc in cat:
        own = (f"{svc.name}{JOBS_NODE}",) if svc.name in owners else ()
        deps[svc.name] = (*svc.depends_on, *own, *(f"{owner}{JOBS_NODE}" for owner in svc.after_jobs))
    return deps


def launch(cat: Catalog, hashes: dict[str, str], notify: Notify, *, names: list[str] | None = None,
           snapshot: dict[str, Container] | None = None) -> tuple[dict[str, Outcome], HotstackError | None]:
    """Bring `names` (default: every service) and what they depend on to healthy, in graph order.
    Returns what came up and the first failure (a ProbeFailed, a job or podman error), if any."""
    deps = start_graph(cat)
    if names:
        # the jobs' owners too: the probes of the services that need only their jobs ask their API
        wanted = orchestrator.closure({svc.name: (*svc.depends_on, *svc.after_jobs) for svc in cat}, names)
        deps = {node: deps[node] for node in deps if node.removesuffix(JOBS_NODE) in wanted}
    stack = Stack(cat, hashes, notify, snapshot)
    for name in deps:
        if name in cat.services:
            notify(name, "waiting", "")
    run = orchestrator.run_graph(deps, stack.bring_up, on_interrupt=stack.cancelled.set)
    results = {name: outcome for name, outcome in run.results.items() if outcome is not None}
    for node, exc in run.failed.items():
        if not isinstance(exc, ProbeFailed):  # a probe miss already said so, with its detail
            notify(node.removesuffix(JOBS_NODE), "failed", str(exc).splitlines()[0])
    for node in run.not_started:
        if node in cat.services:
            notify(node, "skipped", "not started: the run stopped at a failure")
    if not run.failed:
        return results, None
    node, exc = next(iter(run.failed.items()))
    name = node.removesuffix(JOBS_NODE)
    if not isinstance(exc, HotstackError):
        failure = HotstackError(f"{name}: {type(exc).__name__}: {exc}",
                                hint=f"see `hotstack logs {name}`; run `hotstack up` again after fixing it")
        failure.__cause__ = exc
        exc = failure
    return results, exc


def start_all(cat: Catalog, hashes: dict[str, str], notify: Notify, *, names: list[str] | None = None,
              snapshot: dict[str, Container] | None = None) -> dict[str, Outcome]:
    """`launch`, raising its failure."""
    results, failure = launch(cat, hashes, notify, names=names, snapshot=snapshot)
    if failure is not None:
        raise failure
    return results
