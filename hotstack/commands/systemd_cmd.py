"""`hotstack systemd install|uninstall`."""

from __future__ import annotations

from pathlib import Path

import click

from hotstack.core.settings import DEFAULT_CONFIG
from hotstack.host.systemd import UnitPaths, install, uninstall


def systemd_command(action: str, config: Path | None) -> int:
    paths = UnitPaths()
    done = install(paths, (config or DEFAULT_CONFIG).resolve()) if action == "install" else uninstall(paths)
    for line in done or ["nothing to do"]:
        click.echo(line)
    return 0
