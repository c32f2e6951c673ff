"""Polling a condition with a bound, for tests of things that settle (targets, alerts)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(what: str, test: Callable[[], Any], bound: float, every: float = 1.0,
               show: Callable[[], Any] | None = None) -> float:
    """Seconds until `test()` is truthy; fails after `bound` with the last error or `show()`."""
    start, last = time.monotonic(), None
    while time.monotonic() - start < bound:
        try:
            if test():
                return time.monotonic() - start
            last = show() if show else None
        except OSError as exc:
            last = exc
        time.sleep(every)
    raise AssertionError(f"{what}: not within {bound:.0f} s; last: {last!r}")
