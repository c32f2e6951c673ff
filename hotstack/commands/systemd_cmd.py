"""`hotstack systemd install|uninstall`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotstack.core.settings import DEFAULT_CONFIG
from hotstack.host.systemd import UnitPaths, install, uninstall


@dataclass(frozen=True)
class SystemdReport:
    done: list[str]
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "done": self.done}


def systemd_command(action: str, config: Path | None) -> SystemdReport:
    paths = UnitPaths()
    done = install(paths, (config or DEFAULT_CONFIG).resolve()) if action == "install" else uninstall(paths)
    return SystemdReport(done)
