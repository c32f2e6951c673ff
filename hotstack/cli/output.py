"""What each command's result looks like: JSON for `--json`, else a human summary. Each function
prints one result and returns the exit code (or raises the failure the result carries)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click
import yaml
from rich.console import Console
from rich.table import Table

from hotstack.cloud.outcome import Outcome as SetupOutcome
from hotstack.cloud.outcome import differing, orphaned
from hotstack.cloud.smoke import Report as SmokeReport
from hotstack.commands.progress import Result
from hotstack.core.errors import EXIT_FAILURE, EXIT_OK

if TYPE_CHECKING:  # the report types only: printing must not import every command
    from hotstack.commands.clean_cmd import CleanReport
    from hotstack.commands.cloud_cmd import SetupReport
    from hotstack.commands.config_cmd import ConfigReport
    from hotstack.commands.doctor_cmd import DoctorReport
    from hotstack.commands.down_cmd import DownReport
    from hotstack.commands.guest_cmd import GuestReport
    from hotstack.commands.node_cmd import AddReport, BundleReport, ListReport, RemoveReport
    from hotstack.commands.prepare_cmd import PrepareReport
    from hotstack.commands.render_cmd import RenderReport
    from hotstack.commands.status_cmd import StatusReport
    from hotstack.commands.systemd_cmd import SystemdReport
    from hotstack.commands.up_cmd import UpReport
    from hotstack.images.builder import BuildReport
    from hotstack.nodes.join import JoinReport

LEVEL_STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def code(result: Result) -> int:
    return EXIT_OK if result.ok else EXIT_FAILURE


def json_or(result: Result, as_json: bool) -> bool:
    """Print the JSON form when asked; True when it was printed."""
    if as_json:
        emit_json(result.to_json())
    return as_json


def render(r: RenderReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        click.echo(f"rendered {len(r.written)} changed file(s), {r.unchanged} unchanged, into {r.rendered}")
        click.echo(f"compose file: {r.compose_file}")
    return code(r)


def node_bundle(r: BundleReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        click.echo(f"node {r.node} ({r.kind}, address {r.address}): bundle written to {r.path} (mode 0600)")
        click.echo("it holds the node's credentials: copy it to the node over a trusted channel, then delete it")
    return code(r)


def _joined(node: str, seconds: float, services: dict[str, str]) -> None:
    click.echo(f"node {node} joined in {seconds:.1f} s: " + ", ".join(f"{n} {a}" for n, a in services.items()))


def node_add(r: AddReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        _joined(f"{r.node} ({r.address})", r.timings["total"], r.services)
        click.echo("see it: openstack hypervisor list; hotstack node list")
    return code(r)


def node_join(r: JoinReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        _joined(r.node, r.timings.get("total", 0), r.services)
    return code(r)


def node_list(r: ListReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        table = Table(box=None, header_style="bold")
        for column in ("node", "kind", "address", "compute", "hypervisor", "agents", "instances"):
            table.add_column(column)
        for row in r.rows:
            table.add_row(row.name, row.kind, row.address, row.compute, row.hypervisor, row.agents, str(row.instances))
        Console(highlight=False).print(table)
    return code(r)


def node_remove(r: RemoveReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        for line in r.done:
            click.echo(line)
        click.echo(f"node {r.node} removed")
    return code(r)


def config(r: ConfigReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        click.echo(yaml.safe_dump(r.data, sort_keys=False).rstrip())
    return code(r)


def doctor(r: DoctorReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        table = Table("check", "level", "finding", "fix")
        for f in r.findings:
            table.add_row(f["check"], f"[{LEVEL_STYLE[f['level']]}]{f['level']}[/]", f["message"], f["fix"])
        Console(highlight=False).print(table)
    return code(r)


def prepare(r: PrepareReport, as_json: bool) -> int:
    if json_or(r, as_json):
        return code(r)
    if not r.changes:
        click.echo(f"host already prepared: nothing to do ({r.elapsed_s:.1f} s)")
    elif r.dry_run:
        click.echo(f"dry run: {len(r.changes)} change(s) would be made; nothing was changed")
    else:
        click.echo(f"host prepared: {len(r.changes)} change(s) in {r.elapsed_s:.1f} s")
    return code(r)


def clean(r: CleanReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        click.echo(f"cleaned: {len(r.changes)} removal(s)" + (f", {len(r.errors)} error(s)" if r.errors else ""))
    return code(r)


def guest(r: GuestReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        i = r.image
        click.echo(f"{'built' if i.built else 'unchanged'}: {i.path} ({i.format}, {i.size_bytes / 2**20:.1f} MiB, "
                   f"kernel {i.kernel_version}); console marker {i.marker}")
    return code(r)


def systemd(r: SystemdReport) -> int:
    for line in r.done or ["nothing to do"]:
        click.echo(line)
    return code(r)


def build(r: BuildReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        built = sum(1 for i in r.images.values() if i.action == "built")
        click.echo(f"{built} built, {len(r.images) - built} unchanged in {r.elapsed_s:.1f} s; "
                   f"{r.disk_bytes / 1e9:.2f} GB on disk (shared layers counted once)")
    if not r.ok:
        click.secho(f"image {r.failed} failed to build; last lines of {r.failed_log}:", fg="red", err=True)
        for line in r.log_tail:
            click.echo(f"  {line}", err=True)
        click.echo(f"full log: {r.failed_log}", err=True)
    return code(r)


def up(r: UpReport, as_json: bool) -> int:
    """The report first (JSON or summary), then the failure it carries, if any."""
    if not json_or(r, as_json) and r.ok:
        click.echo(f"{len(r.services)} services healthy in {r.elapsed_s:.1f} s "
                   f"({r.count('created')} created, {r.count('recreated')} recreated, "
                   f"{r.count('started')} started, {r.count('kept')} kept)")
        if r.credentials is not None:
            admin, user = r.clouds
            click.echo(f"credentials: openstack --os-cloud {admin} (or {user}), from {r.credentials}")
    if r.setup is not None:
        setup_warnings(r.setup)
    if r.failure is not None:
        raise r.failure
    return code(r)


def down(r: DownReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        click.echo(f"{len(r.removed)} containers removed in {r.elapsed_s:.1f} s; data kept in {r.data_dir}")
    return code(r)


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, hours = int(seconds // 60), int(seconds // 3600)
    return f"{hours}h{minutes % 60:02d}m" if hours else (f"{minutes}m" if minutes else f"{int(seconds)}s")


def status(r: StatusReport, as_json: bool) -> int:
    if json_or(r, as_json):
        return code(r)
    table = Table(box=None, header_style="bold")
    for column in ("service", "container", "state", "healthy", "uptime", "endpoint"):
        table.add_column(column)
    for row in r.services:
        state = row["state"] + ("" if row["config_current"] or row["state"] == "missing" else " (config changed)")
        mark = "[green]yes[/]" if row["healthy"] else "[red]no[/]"
        table.add_row(row["name"], row["container"], state, mark, _uptime(row["uptime_s"]), row["endpoint"] or "")
    Console().print(table)
    down = [d["name"] for d in r.daemons if not d["running"]]
    click.echo(f"host daemons: {', '.join(d['name'] for d in r.daemons)}: "
               + (f"NOT RUNNING: {', '.join(down)}" if down else "running"))
    if r.alerts_error:
        click.echo(f"alerts: unknown ({r.alerts_error})")
    elif r.alerts is not None:
        click.echo(f"alerts firing: {len(r.alerts)}" + "".join(
            f"\n  {a['severity'] or 'alert'}: {a['name']} {a['service']}: {a['summary']} (since {a['since']})"
            for a in r.alerts))
    if not r.ok:
        click.echo("not everything is healthy: `hotstack up` starts what is missing, "
                   "`hotstack logs NAME` shows why one fails", err=True)
    return code(r)


def setup_cloud(r: SetupReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        click.echo(f"cloud ready: {len(r.outcomes)} change(s); try: OS_CLOUD={r.user_cloud} openstack server list")
    setup_warnings(r.outcomes)
    return code(r)


def setup_warnings(outcomes: list[SetupOutcome]) -> None:
    """On stderr (a --json reader's stdout stays JSON): what post-setup kept or could not apply."""
    if kept := orphaned(outcomes):
        click.secho(f"no longer in the settings, kept: {', '.join(kept)}; `hotstack setup-cloud --prune-tenants` "
                    "deletes them (a tenant with everything in it)", fg="yellow", err=True)
    for thing in differing(outcomes):
        click.secho(f"not applied: {thing}", fg="yellow", err=True)


def smoke(r: SmokeReport, as_json: bool) -> int:
    if not json_or(r, as_json):
        click.echo(f"smoke {'passed' if r.ok else 'FAILED'} in {r.elapsed_s:.1f} s")
    return code(r)
