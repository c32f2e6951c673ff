"""`hotstack render`: write every config file and the compose file."""

from __future__ import annotations

from pathlib import Path

import click

from hotstack.cli.main import emit_json
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.render.configs import render


def render_command(settings: Settings, output: Path | None, as_json: bool) -> int:
    paths = Paths(settings.data_dir, rendered_override=output.resolve() if output else None)
    result = render(settings, paths)
    if as_json:
        emit_json({"ok": True, "compose_file": str(paths.compose_file),
                   "written": [str(p) for p in result.written], "unchanged": len(result.unchanged),
                   "hashes": result.hashes})
    else:
        click.echo(f"rendered {len(result.written)} changed file(s), {len(result.unchanged)} unchanged, "
                   f"into {paths.rendered}")
        click.echo(f"compose file: {paths.compose_file}")
    return 0
