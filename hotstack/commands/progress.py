"""What a command reports while it runs. The CLI passes views; tests and scripts pass nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the callback types only: the CLI imports this before any room
    from hotstack.host.step import Progress as StepProgress
    from hotstack.images.builder import ProgressFn as ImageProgress
    from hotstack.stack.bringup import Notify


class Result(Protocol):
    """Every command's result: did it succeed, and its machine-readable form."""

    @property
    def ok(self) -> bool: ...

    def to_json(self) -> dict[str, Any]: ...


def _ignore(*_args: Any) -> None:
    return None


@dataclass(frozen=True)
class Progress:
    step: StepProgress = _ignore  # a host step: (step id, status, details)
    image: ImageProgress = _ignore  # an image build event
    service: Notify = _ignore  # a service: (name, state, note)
    line: Callable[[str], None] = _ignore  # one line of free text (post-setup, smoke, guest image)


QUIET = Progress()
