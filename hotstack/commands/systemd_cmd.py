"""`hotstack systemd install|uninstall`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotstack.core.settings import Settings
from hotstack.host.systemd import UnitPaths, install, uninstall


@dataclass(frozen=True)
class SystemdReport:
    done: list[str]
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "done": self.done}


def systemd_command(action: str, settings: Settings) -> SystemdReport:
    """The unit of this deployment (its name), run with the effective settings."""
    paths = UnitPaths(deployment=settings.name)
    done = install(paths, settings) if action == "install" else uninstall(paths)
    return SystemdReport(done)
