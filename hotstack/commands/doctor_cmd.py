"""`hotstack doctor`: check the host and say what to fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotstack import catalog
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import doctor as checks
from hotstack.host.system import Host


@dataclass(frozen=True)
class DoctorReport:
    findings: list[dict[str, str]]

    @property
    def ok(self) -> bool:
        return all(f["level"] != "fail" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "findings": self.findings}


def doctor(settings: Settings, host: Host | None = None) -> DoctorReport:
    return DoctorReport(checks.run(catalog.build(settings, Paths(settings.data_dir)), host)["findings"])
