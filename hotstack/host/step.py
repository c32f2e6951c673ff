"""The shape of every host change, and the runner that applies a plan of them.

A step has a stable `id`; `check()` lists how the host differs from what hotstack wants (empty:
nothing to do); `apply()` makes it so and may be run again at no cost; `remove()` undoes only
what hotstack added and says what it removed; `validate()` rejects host state hotstack must not
touch. `run_plan` validates every step before it applies any, so bad input changes nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from hotstack.core.errors import BadInput, HotstackError

# progress(step id, status, details): status is ok | changed | would-change | removed | failed
Progress = Callable[[str, str, list[str]], None]


class Step(ABC):
    id: str = ""
    fix: str = "see the message above, fix the host and run the command again"

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def check(self) -> list[str]: ...

    @abstractmethod
    def apply(self) -> None: ...

    @abstractmethod
    def remove(self) -> list[str]: ...

    def validate(self) -> None:  # noqa: B027 - optional hook, most steps have nothing to refuse
        """Raise BadInput when the host is in a state hotstack must not change."""


def _quiet(step_id: str, status: str, details: list[str]) -> None:
    pass


def _failure(step: Step, exc: Exception, doing: str) -> HotstackError:
    if isinstance(exc, BadInput):
        return BadInput(f"step {step.id} ({step.describe()}): {exc.message}", hint=exc.hint)
    if isinstance(exc, HotstackError):
        return HotstackError(f"step {step.id} ({step.describe()}) failed while {doing}: {exc.message}",
                             hint=exc.hint or step.fix)
    return HotstackError(f"step {step.id} ({step.describe()}) failed while {doing}: "
                         f"{type(exc).__name__}: {exc}", hint=step.fix)


def _guarded(step: Step, doing: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # one clear error naming the step, whatever went wrong inside
        raise _failure(step, exc, doing) from exc


def preflight(steps: Sequence[Step]) -> None:
    for step in steps:
        _guarded(step, "validating the host", step.validate)


def run_plan(steps: Sequence[Step], dry_run: bool, progress: Progress | None = None) -> dict[str, Any]:
    """Validate every step, then apply those whose check() differs; report what changed."""
    report = progress or _quiet
    preflight(steps)
    changes: list[dict[str, str]] = []
    for step in steps:
        diffs: list[str] = _guarded(step, "checking", step.check)
        if not diffs:
            report(step.id, "ok", [])
            continue
        if not dry_run:
            _guarded(step, "applying", step.apply)
            left: list[str] = _guarded(step, "checking the result", step.check)
            if left:
                report(step.id, "failed", left)
                raise HotstackError(f"step {step.id} ({step.describe()}) did not converge: "
                                    + "; ".join(left), hint=step.fix)
        report(step.id, "would-change" if dry_run else "changed", diffs)
        changes += [{"step": step.id, "change": d} for d in diffs]
    return {"ok": True, "changes": changes}


def remove_plan(steps: Sequence[Step], progress: Progress | None = None) -> dict[str, Any]:
    """Undo every step, last first; a failing step does not stop the others."""
    report = progress or _quiet
    changes: list[dict[str, str]] = []
    errors: list[str] = []
    for step in reversed(steps):
        try:
            removed = _guarded(step, "removing", step.remove)
        except HotstackError as exc:
            errors.append(exc.message)
            report(step.id, "failed", [exc.message])
            continue
        report(step.id, "removed" if removed else "ok", removed)
        changes += [{"step": step.id, "change": r} for r in removed]
    return {"ok": not errors, "changes": changes, "errors": errors}
