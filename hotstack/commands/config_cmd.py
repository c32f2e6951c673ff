"""`hotstack config show`: the effective settings, and where the secrets live (never their values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotstack.core.paths import Paths
from hotstack.core.secrets import MASK, Secrets
from hotstack.core.settings import Settings, dump


@dataclass(frozen=True)
class ConfigReport:
    data: dict[str, Any]
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return self.data


def show(settings: Settings) -> ConfigReport:
    paths = Paths(settings.data_dir)
    data = dump(settings)
    data["secrets"] = {
        "file": str(paths.secrets_file),
        "values": {name: MASK for name in Secrets(paths.secrets_file).names()},
    }
    return ConfigReport(data)
