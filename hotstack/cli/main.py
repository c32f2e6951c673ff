"""The click layer: parse flags, call one command function with the views, print its result.
No logic lives here; this room alone prints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from hotstack import __version__
from hotstack.cli import handler, output
from hotstack.cli.views import Views
from hotstack.commands.progress import Progress
from hotstack.core import datadir, log
from hotstack.core.errors import BadInput, HotstackError
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
        paths = Paths(settings.data_dir)
        if datadir.is_ours(paths, settings.name):  # never into a directory hotstack did not make
            log.use_dir(paths.logs)  # the debug log moves under data_dir
        return settings


def run(fn: Callable[[], int]) -> None:
    """The one top-level handler (cli/handler.py): messages, exit codes, the debug log."""
    handler.handle(fn)


R = TypeVar("R")


def run_with_views(call: Callable[[Progress], R], show: Callable[[R], int], **views: Any) -> None:
    """Run a command with its live views (closed before the result is printed), then print it."""
    def go() -> int:
        with Views(**views) as shown:
            result = call(shown.progress)
        return show(result)

    run(go)


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
@click.option("--output", "output_dir", type=click.Path(path_type=Path), default=None,
              help="Write here instead of <data_dir>/config.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@click.pass_obj
def render(obj: Ctx, output_dir: Path | None, as_json: bool) -> None:
    """Write every service config and the podman-compose file."""
    from hotstack.commands import render_cmd  # loaded per command: --help stays fast

    run(lambda: output.render(render_cmd.render_command(obj.settings(), output_dir), as_json))


@cli.group()
def config() -> None:
    """Inspect the effective settings."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON instead of YAML.")
@click.pass_obj
def config_show(obj: Ctx, as_json: bool) -> None:
    """The effective settings (defaults, file, environment and flags merged); secrets masked."""
    from hotstack.commands import config_cmd  # loaded per command: --help stays fast

    run(lambda: output.config(config_cmd.show(obj.settings()), as_json))


@cli.group()
def node() -> None:
    """More than one node: bundles for nodes to join with (docs/nodes.md)."""


@node.command("bundle")
@click.argument("name")
@click.option("--address", default=None, metavar="IP",
              help="The node's address (default: the next free one of nodes.underlay_cidr, for a pod here).")
@click.option("--output", "output_file", type=click.Path(path_type=Path), default=None,
              help="Write the bundle here (default <data_dir>/state/bundles/NAME.hotstack-node).")
@click.option("--json", "as_json", is_flag=True, help="Print where it was written as JSON.")
@click.pass_obj
def node_bundle(obj: Ctx, name: str, address: str | None, output_file: Path | None, as_json: bool) -> None:
    """Register node NAME and write its join bundle (0600: it holds the node's credentials)."""
    from hotstack.commands import node_cmd  # loaded per command: --help stays fast

    run(lambda: output.node_bundle(node_cmd.bundle_command(obj.settings(), name, address, output_file), as_json))


@node.command("add")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def node_add(obj: Ctx, name: str, as_json: bool) -> None:
    """Run node NAME in a pod on this machine (its own OVS and libvirt) and join it."""
    from hotstack.commands import node_cmd  # loaded per command: --help stays fast

    run_with_views(lambda p: node_cmd.add_command(obj.settings(), name, p),
                   lambda r: output.node_add(r, as_json), to_stdout=False, verb="node add")


@cli.command()
@click.argument("bundle_file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def join(bundle_file: Path, as_json: bool) -> None:
    """On another machine: join the cloud as a compute node from BUNDLE_FILE (`node bundle`)."""
    from hotstack.commands import node_cmd  # loaded per command: --help stays fast

    run_with_views(lambda p: node_cmd.join_command(bundle_file, p),
                   lambda r: output.node_join(r, as_json), to_stdout=False, verb="join")


@node.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the nodes as JSON.")
@click.pass_obj
def node_list(obj: Ctx, as_json: bool) -> None:
    """Every node, what the cloud says of it and its instance count."""
    from hotstack.commands import node_cmd  # loaded per command: --help stays fast

    run(lambda: output.node_list(node_cmd.list_command(obj.settings()), as_json))


@node.command("remove")
@click.argument("name")
@click.option("--migrate", is_flag=True,
              help="Move its servers to other nodes first (running ones live, stopped ones cold).")
@click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
@click.pass_obj
def node_remove(obj: Ctx, name: str, migrate: bool, as_json: bool) -> None:
    """Remove node NAME: refused while servers live there (unless --migrate); leaves no service,
    agent or chassis."""
    from hotstack.commands import node_cmd  # loaded per command: --help stays fast

    run_with_views(lambda p: node_cmd.remove_command(obj.settings(), name, p, migrate),
                   lambda r: output.node_remove(r, as_json), to_stdout=False, verb="node remove")


@cli.command()
@click.option("--parallel", type=click.IntRange(1, 16), default=None, help="Images built at once.")
@click.option("--only", multiple=True, metavar="NAME", help="Build only these images (and their parents).")
@click.option("--base", type=click.Choice(["auto", "pull", "debootstrap"]), default=None,
              help="How to get the Debian trixie base image.")
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
@click.pass_obj
def build(obj: Ctx, parallel: int | None, only: tuple[str, ...], base: str | None, as_json: bool) -> None:
    """Build the container images (offline, from Debian trixie packages)."""
    from hotstack.commands import build_cmd  # loaded per command: --help stays fast

    run_with_views(lambda p: build_cmd.build_command(obj.settings(), parallel=parallel, only=only, base=base,  # type: ignore[arg-type]
                                                     progress=p),
                   lambda r: output.build(r, as_json), to_stdout=False)


@cli.command()
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.pass_obj
def prepare(obj: Ctx, dry_run: bool, as_json: bool) -> None:
    """Prepare the host: OVS bridges, hot-ex address, libvirt, NFS, firewall, podman runtime."""
    from hotstack.commands import prepare_cmd  # loaded per command: --help stays fast

    run_with_views(lambda p: prepare_cmd.prepare(obj.settings(), dry_run, p),
                   lambda r: output.prepare(r, as_json), to_stdout=not as_json)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_obj
def doctor(obj: Ctx, as_json: bool) -> None:
    """Check the host and say what to fix."""
    from hotstack.commands import doctor_cmd  # loaded per command: --help stays fast

    run(lambda: output.doctor(doctor_cmd.doctor(obj.settings()), as_json))


@cli.command()
@click.option("--yes", is_flag=True, help="Really remove everything hotstack made (required).")
@click.option("--images", is_flag=True, help="Also remove hotstack's container images.")
@click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
@click.pass_obj
def clean(obj: Ctx, yes: bool, images: bool, as_json: bool) -> None:
    """Remove containers, data, bridges, address, exports, firewall rules and overrides."""
    from hotstack.commands import clean_cmd  # loaded per command: --help stays fast

    run_with_views(lambda p: clean_cmd.clean(obj.settings(), yes, images, p),
                   lambda r: output.clean(r, as_json), to_stdout=not as_json)


@cli.command("guest-image")
@click.option("--output", "output_file", type=click.Path(path_type=Path), default=None,
              help="Image file (default <data_dir>/images/hotstack-guest.img; .qcow2 for qcow2).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def guest_image(obj: Ctx, output_file: Path | None, as_json: bool) -> None:
    """Build hotstack's tiny guest image offline (host or Debian kernel + busybox initramfs)."""
    from hotstack.commands import guest_cmd  # loaded per command: --help stays fast

    run_with_views(lambda p: guest_cmd.guest_image(obj.settings(), output_file, p),
                   lambda r: output.guest(r, as_json), to_stdout=False)


@cli.command()
@click.option("--only", multiple=True, metavar="SERVICE",
              help="Bring up only these services (and what they depend on must be healthy).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def up(obj: Ctx, only: tuple[str, ...], as_json: bool) -> None:
    """Bring the cloud up: check, prepare, render, build what is missing, start in order, set up."""
    from hotstack.commands import up_cmd  # loaded per command: --help stays fast

    def go() -> int:
        try:
            with Views(to_stdout=False, line_prefix="post-setup: ") as views:
                report = up_cmd.up(obj.settings(), views.progress, only=only)
        except HotstackError as exc:  # a CI job parsing --json gets its answer on every failure
            if as_json:
                output.emit_json({"ok": False, "error": exc.message})
            raise
        return output.up(report, as_json)

    run(go)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def down(obj: Ctx, as_json: bool) -> None:
    """Stop and remove every container in reverse dependency order; keep all data."""
    from hotstack.commands import down_cmd  # loaded per command: --help stays fast

    run_with_views(lambda p: down_cmd.down(obj.settings(), p),
                   lambda r: output.down(r, as_json), to_stdout=False, verb="down")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.pass_obj
def status(obj: Ctx, as_json: bool) -> None:
    """Every service: container, state, health, uptime, endpoint."""
    from hotstack.commands import status_cmd  # loaded per command: --help stays fast

    run(lambda: output.status(status_cmd.status(obj.settings()), as_json))


@cli.command()
@click.argument("service")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines.")
@click.option("--tail", type=click.IntRange(min=0), default=None, help="Only the last N lines.")
@click.pass_obj
def logs(obj: Ctx, service: str, follow: bool, tail: int | None) -> None:
    """The log of one service's container."""
    from hotstack.commands import logs_cmd  # loaded per command: --help stays fast

    run(lambda: output.code(logs_cmd.logs(obj.settings(), service, follow, tail)))


@cli.command("setup-cloud")
@click.option("--prune-tenants", "prune", is_flag=True,
              help="Also delete the tenants (with everything in them) and tenant users the settings dropped.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.pass_obj
def setup_cloud(obj: Ctx, prune: bool, as_json: bool) -> None:
    """Post-setup: flavors, networks, router, rules, quotas, guest image, the hotstack user, tenants."""
    from hotstack.commands import cloud_cmd  # loaded per command: --help stays fast

    run_with_views(lambda p: cloud_cmd.setup_cloud_command(obj.settings(), p, prune=prune),
                   lambda r: output.setup_cloud(r, as_json), to_stdout=not as_json)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the timing report as JSON.")
@click.option("--keep", is_flag=True, help="Keep what the smoke test made (for debugging).")
@click.pass_obj
def smoke(obj: Ctx, as_json: bool, keep: bool) -> None:
    """Boot a VM, read its console, ping its floating IP, attach a volume, trunk, heat stack."""
    from hotstack.commands import cloud_cmd  # loaded per command: --help stays fast

    run_with_views(lambda p: cloud_cmd.smoke_command(obj.settings(), keep, p),
                   lambda r: output.smoke(r, as_json), to_stdout=not as_json)


@cli.command()
@click.argument("action", type=click.Choice(["install", "uninstall"]))
@click.pass_obj
def systemd(obj: Ctx, action: str) -> None:
    """Install or remove the hotstack.service unit (up at boot, down at shutdown)."""
    from hotstack.commands import systemd_cmd  # loaded per command: --help stays fast

    run(lambda: output.systemd(systemd_cmd.systemd_command(action, obj.settings())))


def main() -> None:
    cli(prog_name="hotstack")
