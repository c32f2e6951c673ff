"""The click layer: parse flags, call one command function, print. No logic lives here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from hotstack import __version__
from hotstack.cli import handler
from hotstack.core import log
from hotstack.core.errors import BadInput
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings, load


class Ctx:
    """What every command gets: how to load settings (lazily, so --help never validates)."""

    def __init__(self, config: Path | None, sets: tuple[str, ...]) -> None:
        self.config = config
        self.sets = sets

    def settings(self) -> Settings:
        overrides: dict[str, str] = {}
        for item in self.sets:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise BadInput(f"--set {item!r}: must be KEY=VALUE, e.g. --set network.mtu=1400")
            overrides[key.strip()] = value
        settings = load(self.config, overrides)
        log.use_dir(Paths(settings.data_dir).logs)  # the debug log moves under data_dir
        return settings


def run(fn: Callable[[], int]) -> None:
    """The one top-level handler (cli/handler.py): messages, exit codes, the debug log."""
    handler.handle(fn)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hotstack")
@click.option("--config", "config", type=click.Path(path_type=Path), default=None,
              help="Settings file (default /etc/hotstack/hotstack.yaml, or $HOTSTACK_CONFIG).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override one setting, e.g. --set network.mtu=1400 (repeatable).")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, sets: tuple[str, ...]) -> None:
    """hotstack: one Linux host, one OpenStack 2025.1 cloud."""
    ctx.obj = Ctx(config, sets)


@cli.command()
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="Write here instead of <data_dir>/config.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@click.pass_obj
def render(obj: Ctx, output: Path | None, as_json: bool) -> None:
    """Write every service config and the podman-compose file."""
    from hotstack.commands.render_cmd import render_command

    run(lambda: render_command(obj.settings(), output, as_json))


@cli.group()
def config() -> None:
    """Inspect the effective settings."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON instead of YAML.")
@click.pass_obj
def config_show(obj: Ctx, as_json: bool) -> None:
    """The effective settings (defaults, file, environment and flags merged); secrets masked."""
    from hotstack.commands.config_cmd import show

    run(lambda: show(obj.settings(), as_json))


@cli.command()
@click.option("--parallel", type=click.IntRange(1, 16), default=None, help="Images built at once.")
@click.option("--only", multiple=True, metavar="NAME", help="Build only these images (and their parents).")
@click.option("--base", type=click.Choice(["auto", "pull", "debootstrap"]), default=None,
              help="How to get the Debian trixie base image.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@click.pass_obj
def build(obj: Ctx, parallel: int | None, only: tuple[str, ...], base: str | None, as_json: bool) -> None:
    """Build the container images (offline, from Debian trixie packages)."""
    from hotstack.commands.build_cmd import build_command

    run(lambda: build_command(obj.settings(), parallel=parallel, only=only, base=base, as_json=as_json))  # type: ignore[arg-type]


@cli.command()
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.pass_obj
def prepare(obj: Ctx, dry_run: bool, as_json: bool) -> None:
    """Prepare the host: OVS bridges, hot-ex address, libvirt, NFS, firewall, podman runtime."""
    from hotstack.commands.prepare_cmd import prepare as prepare_command

    run(lambda: prepare_command(obj.settings(), dry_run, as_json))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_obj
def doctor(obj: Ctx, as_json: bool) -> None:
    """Check the host and say what to fix."""
    from hotstack.commands.doctor_cmd import doctor as doctor_command

    run(lambda: doctor_command(obj.settings(), as_json))


@cli.command()
@click.option("--yes", is_flag=True, help="Really remove everything hotstack made (required).")
@click.option("--images", is_flag=True, help="Also remove hotstack's container images.")
@click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
@click.pass_obj
def clean(obj: Ctx, yes: bool, images: bool, as_json: bool) -> None:
    """Remove containers, data, bridges, address, exports, firewall rules and overrides."""
    from hotstack.commands.clean_cmd import clean as clean_command

    run(lambda: clean_command(obj.settings(), yes, images, as_json))


@cli.command("guest-image")
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="Image file (default <data_dir>/images/hotstack-guest.img; .qcow2 for qcow2).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def guest_image(obj: Ctx, output: Path | None, as_json: bool) -> None:
    """Build hotstack's tiny guest image offline (host or Debian kernel + busybox initramfs)."""
    from hotstack.commands.guest_cmd import guest_image as guest_command

    run(lambda: guest_command(obj.settings(), output, as_json))


@cli.command()
@click.option("--only", multiple=True, metavar="SERVICE",
              help="Bring up only these services (and what they depend on must be healthy).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def up(obj: Ctx, only: tuple[str, ...], as_json: bool) -> None:
    """Bring the cloud up: check, prepare, render, build what is missing, start in order, set up."""
    from hotstack.commands.up_cmd import up as up_command

    run(lambda: up_command(obj.settings(), as_json, only=only))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def down(obj: Ctx, as_json: bool) -> None:
    """Stop and remove every container in reverse dependency order; keep all data."""
    from hotstack.commands.down_cmd import down as down_command

    run(lambda: down_command(obj.settings(), as_json))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.pass_obj
def status(obj: Ctx, as_json: bool) -> None:
    """Every service: container, state, health, uptime, endpoint."""
    from hotstack.commands.status_cmd import status as status_command

    run(lambda: status_command(obj.settings(), as_json))


@cli.command()
@click.argument("service")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@click.option("--tail", type=click.IntRange(min=0), default=None, help="Only the last N lines.")
@click.pass_obj
def logs(obj: Ctx, service: str, follow: bool, tail: int | None) -> None:
    """The log of one service's container."""
    from hotstack.commands.logs_cmd import logs as logs_command

    run(lambda: logs_command(obj.settings(), service, follow, tail))


@cli.command("setup-cloud")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.pass_obj
def setup_cloud(obj: Ctx, as_json: bool) -> None:
    """Post-setup: flavors, networks, router, rules, quotas, guest image, the hotstack user."""
    from hotstack.commands.cloud_cmd import setup_cloud_command

    run(lambda: setup_cloud_command(obj.settings(), as_json))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the timing report as JSON.")
@click.option("--keep", is_flag=True, help="Keep what the smoke test made (for debugging).")
@click.pass_obj
def smoke(obj: Ctx, as_json: bool, keep: bool) -> None:
    """Boot a VM, read its console, ping its floating IP, attach a volume, trunk, heat stack."""
    from hotstack.commands.cloud_cmd import smoke_command

    run(lambda: smoke_command(obj.settings(), as_json, keep))


@cli.command()
@click.argument("action", type=click.Choice(["install", "uninstall"]))
@click.pass_obj
def systemd(obj: Ctx, action: str) -> None:
    """Install or remove the hotstack.service unit (up at boot, down at shutdown)."""
    from hotstack.commands.systemd_cmd import systemd_command

    run(lambda: systemd_command(action, obj.config))


def main() -> None:
    cli(prog_name="hotstack")
