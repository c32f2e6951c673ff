"""`hotstack build`: build the container images, with live per-image progress."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from hotstack.cli.main import emit_json
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.images import builder
from hotstack.images.base import BaseMethod
from hotstack.images.builder import BuildOptions, BuildReport, Progress

_STYLE = {"queued": "dim", "building": "yellow", "done": "green", "kept": "cyan", "failed": "red"}


class BuildView:
    """Per-image state and elapsed time, drawn as a live table (or one line per change
    when stderr is not a terminal)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.rows: dict[str, Progress] = {}
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()

    def update(self, event: Progress) -> None:
        with self.lock:
            self.rows[event.name] = event
            if event.state == "building":
                self.started[event.name] = time.monotonic()
        if not self.console.is_terminal:
            seconds = f" {event.elapsed:.0f}s" if event.state in ("done", "failed") else ""
            self.console.print(f"{event.name}: {event.state}{seconds}", highlight=False)

    def __rich__(self) -> Table:
        table = Table(box=None, show_header=True, header_style="bold")
        for column in ("image", "state", "elapsed"):
            table.add_column(column)
        with self.lock:
            for name, event in self.rows.items():
                elapsed = event.elapsed
                if event.state == "building":
                    elapsed = time.monotonic() - self.started[name]
                shown = f"{elapsed:.0f}s" if event.state not in ("queued", "kept") else ""
                table.add_row(name, f"[{_STYLE[event.state]}]{event.state}", shown)
        return table


def options(settings: Settings, parallel: int | None, base: BaseMethod | None) -> BuildOptions:
    paths = Paths(settings.data_dir)
    return BuildOptions(
        log_dir=paths.logs / "build",
        cache_dir=paths.cache / "apt",
        release=settings.release,
        parallel=parallel or settings.images.parallel,
        base=base or settings.images.base,
        mirror=settings.images.mirror,
    )


def run_build(opts: BuildOptions, only: list[str] | None, *, as_json: bool) -> BuildReport:
    """Build with live progress on stderr; the report is returned for printing."""
    console = Console(stderr=True)
    view = BuildView(console)
    if console.is_terminal:
        with Live(view, console=console, refresh_per_second=4, transient=False):
            return builder.build(only, opts, view.update)
    return builder.build(only, opts, view.update)


def print_report(report: BuildReport, *, as_json: bool) -> None:
    if as_json:
        emit_json(report.to_json())
        return
    built = sum(1 for r in report.images.values() if r.action == "built")
    kept = len(report.images) - built
    click.echo(f"{built} built, {kept} unchanged in {report.elapsed_s:.1f} s; "
               f"{report.disk_bytes / 1e9:.2f} GB on disk (shared layers counted once)")


def build_command(settings: Settings, *, parallel: int | None, only: tuple[str, ...],
                  base: BaseMethod | None, as_json: bool) -> int:
    """`hotstack build [--parallel N] [--only NAME ...] [--base auto|pull|debootstrap] [--json]`."""
    opts = options(settings, parallel, base)
    report = run_build(opts, list(only) or None, as_json=as_json)
    print_report(report, as_json=as_json)
    if report.ok:
        return 0
    log: Path | None = report.failed_log
    click.secho(f"image {report.failed} failed to build; last lines of {log}:", fg="red", err=True)
    for line in report.log_tail:
        click.echo(f"  {line}", err=True)
    click.echo(f"full log: {log}", err=True)
    return 1
