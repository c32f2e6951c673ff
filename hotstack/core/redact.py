"""The values that must never be shown: every secret hotstack loaded or generated this process.

One registry, consulted by the process runner (which refuses a secret in argv), by the debug
log (which masks them) and by error messages. It is process-wide on purpose: a secret is secret
wherever it travels, whichever Secrets object read it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

MASK = "********"
# Shorter values would mask ordinary words; hotstack's own secrets are 32 hex digits.
MIN_LENGTH = 8

_lock = threading.Lock()
_values: set[str] = set()


def register(values: Iterable[str]) -> None:
    with _lock:
        _values.update(v for v in values if len(v) >= MIN_LENGTH)


def known() -> frozenset[str]:
    with _lock:
        return frozenset(_values)


def redact(text: str, values: Iterable[str] | None = None) -> str:
    """text with every known secret (or every one of `values`) replaced by MASK."""
    # Longest first: a secret containing another must not leave a visible remainder.
    for value in sorted(known() if values is None else values, key=len, reverse=True):
        if value:
            text = text.replace(value, MASK)
    return text


def contains_secret(text: str) -> bool:
    return any(value in text for value in known())
