"""`hotstack up`: render, check and prepare the host, build what is missing, start every service
in dependency order with health gating, write clouds.yaml. A no-op on a healthy, unchanged stack
(the host checks are skipped when every container is running with its current config)."""

from __future__ import annotations

import time
from typing import Any

import click
import yaml

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.cli.live import ServiceView
from hotstack.cli.main import emit_json
from hotstack.containers import control
from hotstack.containers.control import Container
from hotstack.core import credentials as clouds
from hotstack.core import runlock
from hotstack.core.errors import BadInput, HotstackError
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.images import builder
from hotstack.images import refs as images
from hotstack.render.configs import render
from hotstack.stack.bringup import Notify, Outcome, launch


def selection(cat: Catalog, only: tuple[str, ...]) -> list[str] | None:
    unknown = sorted(set(only) - set(cat.services))
    if unknown:
        raise BadInput(f"unknown service(s): {', '.join(unknown)}", hint=f"services: {', '.join(cat.services)}")
    return list(only) or None


def missing_images(cat: Catalog, names: list[str] | None, release: str) -> list[str]:
    """Images the selected services need that are not built yet (one podman call)."""
    wanted = {cat[n].image for n in (names or cat.services)}
    refs = images.all_refs(release)
    present = builder.local_images()
    return sorted(name for name in wanted if refs.get(name) not in present)


def build_missing(settings: Settings, names: list[str]) -> None:
    from hotstack.commands.build_cmd import options, run_build

    report = run_build(options(settings, None, None), names, as_json=False)
    if not report.ok:
        tail = "\n".join(report.log_tail)
        raise HotstackError(f"image {report.failed} failed to build:\n{tail}",
                            hint=f"full log: {report.failed_log}; or run `hotstack build` alone")


def report_json(ok: bool, elapsed: float, results: dict[str, Outcome]) -> dict[str, Any]:
    return {"ok": ok, "elapsed_s": round(elapsed, 1),
            "services": {name: {"action": o.action, "healthy_after_s": o.healthy_after_s}
                         for name, o in results.items()}}


def all_current(cat: Catalog, names: list[str] | None, hashes: dict[str, str], found: dict[str, Container]) -> bool:
    """Is every selected service's container running with its rendered config?"""
    for name in names or cat.services:
        current = found.get(cat[name].container)
        if current is None or not current.running or current.config_hash != hashes.get(name):
            return False
    return True


def ensure_host(settings: Settings, paths: Paths) -> None:
    """doctor (a failed check stops `up`), then prepare (idempotent), progress on stderr."""
    from hotstack.cli.steps import console_progress
    from hotstack.host import doctor, plan
    from hotstack.host.step import run_plan

    # The virtualization check only ever warns, and prepare's host-facts step makes the same KVM
    # try right after fixing /dev/kvm's mode (before that fix each libvirt call is slow here).
    findings = doctor.run(settings, paths, skip=("virtualization",))["findings"]
    fatal = [f for f in findings if f["level"] == "fail"]
    if fatal:
        raise HotstackError("the host is not ready: " + "; ".join(f"{f['check']}: {f['message']}" for f in fatal),
                            hint="; ".join(f["fix"] for f in fatal if f.get("fix")) or "see `hotstack doctor`")
    _console, progress = console_progress(as_json=True)  # stderr: stdout may carry --json
    run_plan(plan.steps(settings, paths), False, progress)


def has_user_cloud(paths: Paths) -> bool:
    """Did `setup-cloud` already add the hotstack-os entry (keep it when rewriting the file)?"""
    try:
        data = yaml.safe_load(paths.clouds_yaml.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and clouds.USER_CLOUD in (data.get("clouds") or {})


def bring_up(settings: Settings, notify: Notify, *, only: tuple[str, ...] = (), host: bool = True
             ) -> tuple[dict[str, Outcome], HotstackError | None]:
    """Render, check and prepare the host unless every container is already current, build what
    is missing, start in graph order, write clouds.yaml once keystone is up."""
    paths = Paths(settings.data_dir)
    rendered = render(settings, paths)
    cat = catalog.build(settings, paths)
    names = selection(cat, only)
    with runlock.exclusive(paths, "up"):
        found = control.snapshot()
        if host and not all_current(cat, names, rendered.hashes, found):
            ensure_host(settings, paths)
        if todo := missing_images(cat, names, settings.release):
            build_missing(settings, todo)
        results, failure = launch(cat, rendered.hashes, notify, names=names, snapshot=found)
    if "keystone" in results:
        clouds.write_clouds_yaml(settings, paths, with_user=has_user_cloud(paths))
    return results, failure


def cloud_setup_needed(settings: Settings, paths: Paths, results: dict[str, Outcome]) -> bool:
    """Post-setup runs after a run that (re)created anything, or until one has succeeded with
    these settings; a fully kept stack skips it, which keeps a no-op `up` fast."""
    from hotstack.commands.cloud_cmd import post_setup_current

    return any(o.action != "kept" for o in results.values()) or not post_setup_current(settings, paths)


def up(settings: Settings, as_json: bool, *, only: tuple[str, ...] = ()) -> int:
    """`hotstack up [--only SERVICE ...] [--json]`: exit 0 when everything is healthy."""
    started = time.monotonic()
    paths = Paths(settings.data_dir)
    with ServiceView() as view:
        results, failure = bring_up(settings, view.notify, only=only)
    if failure is None and not only and cloud_setup_needed(settings, paths, results):
        from hotstack.commands.cloud_cmd import post_setup

        post_setup(settings, paths, lambda line: click.echo(f"post-setup: {line}", err=True))
    elapsed = time.monotonic() - started
    if as_json:
        emit_json(report_json(failure is None, elapsed, results))
    elif failure is None:
        counts = {a: sum(1 for o in results.values() if o.action == a) for a in ("created", "recreated", "kept")}
        click.echo(f"{len(results)} services healthy in {elapsed:.1f} s "
                   f"({counts['created']} created, {counts['recreated']} recreated, {counts['kept']} kept)")
        if "keystone" in results:
            click.echo(f"credentials: openstack --os-cloud {clouds.ADMIN_CLOUD} (or {clouds.USER_CLOUD}), "
                       f"from {paths.system_clouds_yaml}")
    if failure is not None:
        raise failure
    return 0
