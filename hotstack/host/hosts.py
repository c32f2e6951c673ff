"""A managed block in /etc/hosts: every catalog endpoint's DNS name → brex_ip.

The keystone catalog names services by DNS name (keystone.hotstack-os.local, ...); this lets
the host's own openstack client follow it without touching the host's resolver. Only the lines
between the markers are ours; the file is rewritten atomically. Each deployment has a block of
its own, marked with its name (core/scope.py).
"""

from __future__ import annotations

import errno
from pathlib import Path

from hotstack.catalog import Catalog
from hotstack.core import fsutil
from hotstack.core.scope import Scope
from hotstack.host.step import Step


def markers(mark: str) -> tuple[str, str]:
    return f"# BEGIN {mark} (managed by hotstack; edits inside are lost)", f"# END {mark}"


def block(cat: Catalog) -> list[str]:
    begin, end = markers(Scope(cat.settings.name).hosts_block)
    ip = cat.api_address
    names = sorted({ep.dns_name for _, ep in cat.endpoints() if ep.dns_name})
    return [begin, *(f"{ip}\t{name}" for name in names), end]


def split(text: str, mark: str) -> tuple[list[str], list[str] | None]:
    """(lines outside the deployment's block, the block's lines or None when there is none)."""
    begin, end = markers(mark)
    lines = text.splitlines()
    # the marker word ends at the space before "(": `hotstack` never matches `hotstack:e2e`
    start = next((i for i, line in enumerate(lines) if line.startswith(begin.split(" (")[0] + " ")), None)
    if start is None:
        return lines, None
    stop = next((i for i in range(start, len(lines)) if lines[i].strip() == end), len(lines) - 1)
    return lines[:start] + lines[stop + 1:], lines[start:stop + 1]


def _write(path: Path, lines: list[str]) -> None:
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    text = "\n".join(lines) + "\n"
    try:
        fsutil.write_if_changed(path, text, mode=mode)
    except OSError as exc:  # /etc/hosts bind-mounted by a container runtime cannot be replaced
        if exc.errno not in (errno.EBUSY, errno.EXDEV):
            raise
        path.write_text(text)


class HostsBlock(Step):
    id = "etc-hosts"

    def __init__(self, cat: Catalog, path: Path) -> None:
        self.cat, self.path = cat, path
        self.mark = Scope(cat.settings.name).hosts_block
        self.fix = f"check that {path} is writable"

    def describe(self) -> str:
        return f"names of the API endpoints → {self.cat.api_address} in {self.path}"

    def _text(self) -> str:
        try:
            return self.path.read_text()
        except FileNotFoundError:
            return ""

    def check(self) -> list[str]:
        _, current = split(self._text(), self.mark)
        wanted = block(self.cat)
        if current == wanted:
            return []
        return [f"{'write' if current is None else 'update'} the {self.mark} block in {self.path} "
                f"({len(wanted) - 2} names)"]

    def apply(self) -> None:
        outside, _ = split(self._text(), self.mark)
        _write(self.path, [*outside, *block(self.cat)])

    def remove(self) -> list[str]:
        outside, current = split(self._text(), self.mark)
        if current is None:
            return []
        _write(self.path, outside)
        return [f"removed the hotstack block from {self.path}"]

