"""`hotstack up`: one straight pipeline, each stage taking the previous stage's result —
settings → catalog → render → host (doctor + prepare, skipped when every container is current
and every host daemon runs)
→ images (build what is missing) → stack (start in graph order, health-gated) → cloud
(clouds.yaml, post-setup). A no-op on a healthy, unchanged stack."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.cloud.clouds_yaml import has_user_cloud, write_clouds_yaml
from hotstack.cloud.outcome import Outcome as SetupOutcome
from hotstack.cloud.outcome import changes_json, orphaned
from hotstack.cloud.setup import post_setup, post_setup_current
from hotstack.commands import data
from hotstack.commands.progress import QUIET, Progress
from hotstack.commands.render_cmd import render_catalog
from hotstack.containers import control
from hotstack.containers.control import Container
from hotstack.core import runlock
from hotstack.core.errors import BadInput, HotstackError
from hotstack.core.hostfacts import host_facts
from hotstack.core.paths import Paths
from hotstack.core.scope import Scope
from hotstack.core.settings import Settings
from hotstack.host import daemons, plan
from hotstack.host.step import run_plan
from hotstack.host.system import Host
from hotstack.images import stage
from hotstack.nodes import converge
from hotstack.nodes.join import JoinReport
from hotstack.render.configs import RenderResult
from hotstack.stack.bringup import Outcome, launch, remove_switched_off


@dataclass
class UpReport:
    services: dict[str, Outcome] = field(default_factory=dict)
    elapsed_s: float = 0.0
    failure: HotstackError | None = None
    credentials: Path | None = None  # the system clouds.yaml, once keystone is up
    clouds: tuple[str, str] = ("", "")  # its entries: admin, user
    removed: list[str] = field(default_factory=list)  # containers of services switched off
    setup: list[SetupOutcome] | None = None  # post-setup's changes, when it ran
    nodes: dict[str, JoinReport] = field(default_factory=dict)  # the pod nodes brought along

    @property
    def orphaned(self) -> list[str]:
        return orphaned(self.setup or [])

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_json(self) -> dict[str, Any]:
        data = {**report_json(self.ok, self.elapsed_s, self.services), "removed": self.removed,
                "nodes": {name: joined.to_json() for name, joined in self.nodes.items()},
                "post_setup": None if self.setup is None else changes_json(self.setup)}
        return data if self.failure is None else {**data, "error": self.failure.message}

    def count(self, action: str) -> int:
        return sum(1 for o in self.services.values() if o.action == action)


def report_json(ok: bool, elapsed: float, results: dict[str, Outcome]) -> dict[str, Any]:
    return {"ok": ok, "elapsed_s": round(elapsed, 1),
            "services": {name: {"action": o.action, "healthy_after_s": o.healthy_after_s}
                         for name, o in results.items()}}


def selection(cat: Catalog, only: tuple[str, ...]) -> list[str] | None:
    unknown = sorted(set(only) - set(cat.services))
    if unknown:
        raise BadInput(f"unknown service(s): {', '.join(unknown)}", hint=f"services: {', '.join(cat.services)}")
    return list(only) or None


def all_current(cat: Catalog, names: list[str] | None, hashes: dict[str, str], found: dict[str, Container]) -> bool:
    """Is every selected service's container running with its rendered config?"""
    for name in names or cat.services:
        current = found.get(cat[name].container)
        if current is None or not current.running or current.config_hash != hashes.get(name):
            return False
    return True


def prepared(cat: Catalog, rendered: RenderResult, progress: Progress) -> tuple[Catalog, RenderResult]:
    """The host stage. When it has just detected the host (its facts changed), the catalog and
    the files are derived again from what it found."""
    before = host_facts(cat.paths)
    plan.ensure(cat, progress.step)
    if host_facts(cat.paths) == before:
        return cat, rendered
    cat = catalog.build(cat.settings, cat.paths)
    return cat, render_catalog(cat)


def cloud_setup_needed(settings: Settings, paths: Paths, results: dict[str, Outcome]) -> bool:
    """Post-setup runs after a run that (re)created anything, or until one has succeeded with
    these settings; a fully kept stack skips it, which keeps a no-op `up` fast."""
    return any(o.action != "kept" for o in results.values()) or not post_setup_current(settings, paths)


def up(settings: Settings, progress: Progress = QUIET, *, only: tuple[str, ...] = (), host: bool = True,
       cloud: bool = True) -> UpReport:
    """Every stage under one run lock; a failed service ends the run with its report. `host` and
    `cloud` off skip those stages (the benchmark times the stack alone)."""
    started = time.monotonic()
    paths = Paths(settings.data_dir)
    report = UpReport()
    data.ensure(settings, paths)
    with runlock.exclusive(paths, "up"):
        cat = catalog.build(settings, paths)
        names = selection(cat, only)
        rendered = render_catalog(cat)
        found = control.snapshot()
        host_view = Host()
        stale = not all_current(cat, names, rendered.hashes, found)
        host_stage = host and (stale or bool(daemons.not_running(host_view)))
        if host_stage:
            cat, rendered = prepared(cat, rendered, progress)
        stage.ensure(cat, names, progress.image)
        if not only:
            report.removed = remove_switched_off(cat, found)
            for container in report.removed:
                progress.line(f"removed {container}: its service is off in the settings")
        report.services, report.failure = launch(cat, rendered.hashes, progress.service, names=names, snapshot=found)
        if settings.monitoring.enabled:
            control.write_ids(paths.container_ids, control.snapshot())
        if host and report.ok and (lost := daemons.not_running(host_view)):
            report.failure = HotstackError(f"host daemon(s) stopped during up: {', '.join(lost)}",
                                           hint="run `hotstack up` again: it starts them (see `hotstack status`)")
        if host and report.ok and not only and cat.nodes:
            try:
                if not host_stage:  # the host stage's plan holds the node steps already
                    run_plan(plan.node_steps(cat), False, progress.step)
                report.nodes = converge.bring_up(cat, progress)
            except HotstackError as exc:
                report.failure = exc
        if cat.identity in report.services:
            write_clouds_yaml(settings, paths, with_user=has_user_cloud(settings, paths))
            report.credentials = paths.system_clouds_yaml
            report.clouds = (Scope(settings.name).admin_cloud, Scope(settings.name).user_cloud)
        if cloud and report.ok and not only and cloud_setup_needed(settings, paths, report.services):
            report.setup = post_setup(settings, paths, progress.line)
    report.elapsed_s = time.monotonic() - started
    return report
