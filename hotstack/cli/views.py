"""The views of one command run: host steps and free text as lines, image builds and services as
live tables (one at a time, on stderr). `Views.progress` is what the command is given."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.live import Live

from hotstack.cli.build_view import BuildView
from hotstack.cli.live import ServiceView
from hotstack.cli.steps import step_printer
from hotstack.commands.progress import Progress

if TYPE_CHECKING:
    from hotstack.images.builder import Progress as ImageEvent


class Views:
    def __init__(self, *, to_stdout: bool, verb: str = "up", line_prefix: str = "",
                 stderr: Console | None = None, stdout: Console | None = None) -> None:
        self.err = stderr or Console(stderr=True, highlight=False)
        self.lines = (stdout or Console(highlight=False)) if to_stdout else self.err
        self.verb, self.prefix = verb, line_prefix
        self._step = step_printer(self.lines)
        self._services: ServiceView | None = None
        self._build: BuildView | None = None
        self._build_live: Live | None = None
        self._lock = threading.Lock()  # events come from the scheduler's worker threads

    @property
    def progress(self) -> Progress:
        return Progress(step=self.step, image=self.image, service=self.service, line=self.line)

    def step(self, step_id: str, status: str, details: list[str]) -> None:
        self.close()
        self._step(step_id, status, details)

    def image(self, event: ImageEvent) -> None:
        with self._lock:
            if self._build is None:
                self._close()
                self._build = BuildView(self.err)
                if self.err.is_terminal:
                    self._build_live = Live(self._build, console=self.err, refresh_per_second=4)
                    self._build_live.__enter__()
            view = self._build
        view.update(event)

    def service(self, name: str, state: str, note: str) -> None:
        with self._lock:
            if self._services is None:
                self._close()
                self._services = ServiceView(self.err, verb=self.verb).__enter__()
            view = self._services
        view.notify(name, state, note)

    def line(self, text: str) -> None:
        self.close()
        self.lines.print(f"{self.prefix}{text}", highlight=False, markup=False, soft_wrap=True)

    def close(self) -> None:
        """End the live table shown now, if any (its last state stays on screen)."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._services is not None:
            self._services.__exit__(None, None, None)
            self._services = None
        if self._build_live is not None:
            self._build_live.__exit__(None, None, None)
            self._build_live = None
        self._build = None

    def __enter__(self) -> Views:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Any:
        self.close()
        return None
