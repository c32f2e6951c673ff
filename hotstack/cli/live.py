"""The live view of a run: one row per service (waiting / starting / probing / healthy / failed)
with its elapsed time, as a rich table on a terminal and as plain lines otherwise. Written to
stderr, so `--json` output on stdout stays clean."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table

STYLE = {"waiting": "dim", "starting": "yellow", "probing": "cyan", "healthy": "green", "failed": "red",
         "skipped": "dim red", "stopping": "yellow", "stopped": "green"}
FINAL = {"healthy", "failed", "skipped", "stopped"}


@dataclass
class Row:
    state: str = "waiting"
    note: str = ""
    since: float | None = None  # when it left "waiting"
    elapsed: float | None = None  # frozen once final


class ServiceView:
    """`notify(service, state, note)` from any thread; a context manager around the run."""

    def __init__(self, console: Console | None = None, *, verb: str = "up") -> None:
        self.console = console or Console(stderr=True)
        self.rows: dict[str, Row] = {}
        self.lock = threading.Lock()
        self.live: Live | None = None
        self.verb = verb
        self.started = time.monotonic()

    def __enter__(self) -> ServiceView:
        if self.console.is_terminal:
            self.live = Live(get_renderable=self.table, console=self.console, refresh_per_second=4,
                             transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.live is not None:
            self.live.__exit__(kind, exc, tb)

    def notify(self, name: str, state: str, note: str = "") -> None:
        now = time.monotonic()
        with self.lock:
            row = self.rows.setdefault(name, Row())
            if state != "waiting" and row.since is None:
                row.since = now
            row.state, row.note = state, note
            if state in FINAL and row.since is not None:
                row.elapsed = now - row.since
            line = f"[{now - self.started:6.1f}s] {self._line(name, row)}"
        if self.live is None and state != "waiting":
            self.console.print(line, highlight=False, markup=False, soft_wrap=True)

    @staticmethod
    def _line(name: str, row: Row) -> str:
        elapsed = f" after {row.elapsed:.1f} s" if row.elapsed is not None and row.state != "skipped" else ""
        note = f" ({row.note})" if row.note else ""
        return f"{name}: {row.state}{note}{elapsed}"

    def table(self) -> Table:
        table = Table(box=None, header_style="bold", title=f"hotstack {self.verb}", title_justify="left")
        for column in ("service", "state", "elapsed", ""):
            table.add_column(column, overflow="ellipsis", no_wrap=True)
        now = time.monotonic()
        with self.lock:
            rows = list(self.rows.items())
        room = max(5, self.console.size.height - 5)
        hidden = [n for n, r in rows if r.state in ("healthy", "stopped")] if len(rows) > room else []
        for name, row in rows:
            if name in hidden:
                continue
            elapsed = row.elapsed if row.elapsed is not None else (now - row.since if row.since else None)
            shown = f"{elapsed:.1f}s" if elapsed is not None else ""
            table.add_row(name, f"[{STYLE.get(row.state, '')}]{row.state}[/]", shown, row.note[:60])
        if hidden:
            table.add_row(f"+ {len(hidden)} done", "", "", "")
        return table
