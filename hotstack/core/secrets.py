"""Per-install secrets: generated on first use, kept 0600 in the data dir, never printed."""

from __future__ import annotations

import secrets as _random
from collections.abc import Iterable
from pathlib import Path

import yaml

from hotstack.core import redact
from hotstack.core.errors import HotstackError
from hotstack.core.fsutil import write_if_changed
from hotstack.core.redact import MASK

__all__ = ["MASK", "Secrets"]


class Secrets:
    """A name → random token store. Reading the file is cheap; it is written only when new names appear."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._values = self._read()
        redact.register(self._values.values())  # masked in logs, refused in argv from now on

    def _read(self) -> dict[str, str]:
        try:
            data = yaml.safe_load(self.path.read_text()) or {}
        except FileNotFoundError:
            return {}
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise HotstackError(f"secrets file {self.path} is damaged",
                                hint="restore it from a backup; the services' passwords live there")
        return dict(data)

    def ensure(self, names: Iterable[str]) -> dict[str, str]:
        """Every named secret, generating (and persisting, mode 0600) the missing ones."""
        wanted = sorted(set(names))
        missing = [n for n in wanted if n not in self._values]
        for name in missing:
            # URL- and config-safe alphabet: these end up in connection URLs and INI files.
            self._values[name] = _random.token_hex(16)
        redact.register(self._values[n] for n in missing)
        if missing or not self.path.exists():
            write_if_changed(self.path, yaml.safe_dump(self._values, sort_keys=True), mode=0o600)
        self.path.chmod(0o600)
        return {n: self._values[n] for n in wanted}

    def names(self) -> list[str]:
        return sorted(self._values)
