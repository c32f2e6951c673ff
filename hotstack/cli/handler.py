"""The one top-level handler of every CLI command: messages, exit codes and the debug log.

A HotstackError prints its message and where the debug log is; anything else prints one line
(type, message, log path) and its traceback goes only to the log: no Python traceback ever
reaches the user. Exit codes: 2 bad input, 1 failure, 130 interrupted (core/errors.py).
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any, NoReturn

import click

from hotstack.core import log, runner
from hotstack.core.errors import EXIT_FAILURE, EXIT_INTERRUPTED, HotstackError
from hotstack.core.redact import redact

# click's own control flow (some of it subclasses RuntimeError): click handles it, not us.
_CLICK = (click.ClickException, click.exceptions.Exit, click.Abort)
_previous: Any = signal.default_int_handler  # the SIGINT handler to restore at exit


def handle(fn: Callable[[], int]) -> NoReturn:
    log.start()
    _forward_interrupts()
    try:
        code = _call(fn)
        log.LOGGER.debug("exit code %d", code)
        log.path()  # a run that never loaded settings still leaves its log (in the temp dir)
    finally:
        log.stop()
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(signal.SIGINT, _previous)
    sys.exit(code)


def _call(fn: Callable[[], int]) -> int:
    """fn's exit code, or the one its error maps to (after printing the error)."""
    try:
        return fn()
    except HotstackError as exc:
        log.LOGGER.info("failed: %s", exc, exc_info=True)
        click.secho(f"error: {exc}", fg="red", err=True)
        where = log.path()
        if where is not None:
            click.echo(f"  debug log: {where}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        log.LOGGER.info("interrupted", exc_info=True)
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    except _CLICK:
        raise
    except Exception as exc:
        log.LOGGER.error("unexpected error", exc_info=exc)
        click.secho(unexpected_line(exc, log.path()), fg="red", err=True)
        return EXIT_FAILURE


def unexpected_line(exc: BaseException, where: object) -> str:
    message = " ".join(str(exc).split())[:300] or "(no message)"
    details = f"details in {where}" if where is not None else "no debug log could be written"
    return redact(f"error: unexpected {type(exc).__name__}: {message} ({details})")


def _forward_interrupts() -> None:
    """Ctrl-C ends the programs hotstack runs too (as it did when they shared its process
    group), so threads waiting for them (parallel builds) finish instead of holding the exit."""
    def interrupt(signum: int, frame: FrameType | None) -> None:
        runner.signal_children(signal.SIGINT)
        raise KeyboardInterrupt

    global _previous
    with contextlib.suppress(ValueError):  # only the main thread may set handlers
        _previous = signal.signal(signal.SIGINT, interrupt)
