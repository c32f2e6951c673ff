"""The live view of an image build: per-image state and elapsed time (stderr)."""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.table import Table

from hotstack.images.builder import Progress

_STYLE = {"queued": "dim", "building": "yellow", "done": "green", "kept": "cyan", "failed": "red"}


class BuildView:
    """Per-image state and elapsed time, drawn as a live table (or one line per change
    when stderr is not a terminal)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.rows: dict[str, Progress] = {}
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()

    def update(self, event: Progress) -> None:
        with self.lock:
            self.rows[event.name] = event
            if event.state == "building":
                self.started[event.name] = time.monotonic()
        if not self.console.is_terminal:
            seconds = f" {event.elapsed:.0f}s" if event.state in ("done", "failed") else ""
            self.console.print(f"{event.name}: {event.state}{seconds}", highlight=False)

    def __rich__(self) -> Table:
        table = Table(box=None, show_header=True, header_style="bold")
        for column in ("image", "state", "elapsed"):
            table.add_column(column)
        with self.lock:
            for name, event in self.rows.items():
                elapsed = event.elapsed
                if event.state == "building":
                    elapsed = time.monotonic() - self.started[name]
                shown = f"{elapsed:.0f}s" if event.state not in ("queued", "kept") else ""
                table.add_row(name, f"[{_STYLE[event.state]}]{event.state}", shown)
        return table
