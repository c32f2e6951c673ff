"""`hotstack logs NAME [-f]`: a service container's log, copied to standard output by podman."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotstack import catalog
from hotstack.containers import control
from hotstack.core.errors import BadInput, HotstackError
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings


@dataclass(frozen=True)
class LogsReport:
    returncode: int

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok}


def logs(settings: Settings, name: str, follow: bool, tail: int | None = None) -> LogsReport:
    """podman writes the log of the service's container straight to the inherited stdout."""
    cat = catalog.build(settings, Paths(settings.data_dir))
    service = name.removeprefix(f"{settings.name}-")
    if service not in cat.services:
        raise BadInput(f"unknown service {name!r}", hint=f"services: {', '.join(cat.services)}")
    container = cat[service].container
    if container not in control.snapshot():
        raise HotstackError(f"{service} has no container", hint="`hotstack up` creates it")
    return LogsReport(control.stream_logs(container, follow=follow, tail=tail))
