"""`hotstack guest-image`: build (or keep) hotstack's own bootable guest disk image."""

from __future__ import annotations

from pathlib import Path

import click

from hotstack.cli.main import emit_json
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.guest.image import build_guest_image


def guest_image(settings: Settings, output: Path | None, as_json: bool) -> int:
    """Build the image at output (default <data_dir>/images/hotstack-guest.img; a .qcow2 name
    gives qcow2); progress goes to stderr, the result to stdout."""
    paths = Paths(settings.data_dir)
    out = (output or paths.guest_image).resolve()
    image = build_guest_image(out, paths.guest_cache,
                              progress=lambda message: click.echo(message, err=True))
    if as_json:
        emit_json({"ok": True, **image.to_json()})
        return 0
    action = "built" if image.built else "unchanged"
    click.echo(f"{action}: {image.path} ({image.format}, {image.size_bytes / 2**20:.1f} MiB, "
               f"kernel {image.kernel_version}); console marker {image.marker}")
    return 0
