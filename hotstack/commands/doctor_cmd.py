"""`hotstack doctor`: check the host and say what to fix. Exit 1 when a check fails."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from hotstack.cli.main import emit_json
from hotstack.core.errors import EXIT_FAILURE, EXIT_OK
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import doctor as checks
from hotstack.host.system import Host

STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


def doctor(settings: Settings, as_json: bool, host: Host | None = None) -> int:
    result = checks.run(settings, Paths(settings.data_dir), host)
    if as_json:
        emit_json(result)
    else:
        table = Table("check", "level", "finding", "fix")
        for f in result["findings"]:
            level = f["level"]
            table.add_row(f["check"], f"[{STYLE[level]}]{level}[/]", f["message"], f["fix"])
        Console(highlight=False).print(table)
    return EXIT_OK if result["ok"] else EXIT_FAILURE
