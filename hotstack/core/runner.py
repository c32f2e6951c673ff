"""The one process runner: every program hotstack starts (podman, nft, exportfs, mount, ...).

Command lines are built by pure functions in the modules that need them; this only runs them.
Every call has a timeout (a hung child is killed with its whole process group), fails with one
error shape (CommandError: the command, its exit code, the tail of its stderr), is logged at
debug level, and refuses an argv that holds a secret (secrets go by stdin or environment).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from hotstack.core import redact
from hotstack.core.errors import CommandError, HotstackError

Result = subprocess.CompletedProcess[str]
DEFAULT_TIMEOUT_S = 60.0
_GRACE_S = 5.0  # between SIGTERM and SIGKILL
_log = logging.getLogger(__name__)
# Every program being waited for (by any thread). Each runs in its own session, so the terminal's
# Ctrl-C no longer reaches it by itself: signal_children forwards it.
_live: set[subprocess.Popen[Any]] = set()
# How many times each program ran (the benchmark reports what a run costs outside the containers).
_calls: Counter[str] = Counter()
_calls_lock = threading.Lock()
_VALUED_FLAGS = frozenset({"--runtime", "--root", "--runroot", "--cgroup-manager", "--log-level"})


class SecretInArgv(HotstackError):
    """A caller put a secret on a command line, where `ps` and the logs would show it."""


def in_netns(netns: str | None, argv: Sequence[str]) -> list[str]:
    """argv run inside a named network namespace (unchanged when netns is None)."""
    return ["ip", "netns", "exec", netns, *argv] if netns else list(argv)


def program(args: Sequence[str]) -> str:
    """A call's name in the counts: the program's file name (`python3 -m MOD` is MOD), and for
    podman with its subcommand (`podman ps`)."""
    name = Path(args[0]).name if args else "?"
    if len(args) > 2 and args[1] == "-m":
        return args[2].replace("_", "-")
    if name == "podman":
        rest = list(args[1:])
        while rest and rest[0].startswith("-"):
            rest = rest[2:] if rest[0] in _VALUED_FLAGS else rest[1:]
        return f"podman {rest[0]}" if rest else name
    return name


def calls() -> dict[str, int]:
    """Programs run so far by this process, by `program` name."""
    with _calls_lock:
        return dict(_calls)


def available(program: str) -> bool:
    return shutil.which(program) is not None


def signal_children(sig: int = signal.SIGINT) -> None:
    """Send `sig` to every running program and what it started (safe in a signal handler)."""
    for proc in list(_live):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)


def guard(argv: Sequence[str]) -> list[str]:
    """argv as a list, or SecretInArgv when an element holds a known secret value."""
    args = [str(a) for a in argv]
    for index, arg in enumerate(args):
        if redact.contains_secret(arg):
            raise SecretInArgv(f"refusing to run {args[0]}: argument {index} holds a secret value",
                               hint="pass secrets by stdin or environment (a bug in hotstack)")
    return args


def run(
    argv: Sequence[str],
    input: str | None = None,
    *,
    check: bool = True,
    timeout: float = DEFAULT_TIMEOUT_S,
    hint: str | None = None,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = True,
) -> Result:
    """Run argv; raise CommandError on a non-zero exit when `check`, and always on a timeout.

    `input` goes to stdin; `env` is added to this process's environment; with `log`, output is
    appended to that file (long builds) and its tail is the error; `capture=False` leaves
    output on the terminal (`logs --follow`)."""
    args = guard(argv)
    _started([args], env)
    began = time.monotonic()
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as sink:
            sink.write("$ " + shlex.join(args) + "\n")
            sink.flush()
            proc = _spawn(args, hint, env, stdin=_stdin(input), stdout=sink, stderr=subprocess.STDOUT)
            code, _, _ = _wait(proc, input, timeout, args, hint, lambda: _tail(log))
        return _finish(Result(args, code, "", ""), began, check, hint, lambda: _tail(log))
    pipe = subprocess.PIPE if capture else None
    proc = _spawn(args, hint, env, stdin=_stdin(input), stdout=pipe, stderr=pipe)
    code, out, err = _wait(proc, input, timeout, args, hint, lambda: "")
    return _finish(Result(args, code, out, err), began, check, hint, lambda: err or out)


def run_piped(producer: Sequence[str], argv: Sequence[str], *, timeout: float,
              hint: str | None = None, env: Mapping[str, str] | None = None) -> Result:
    """``PRODUCER | ARGV`` (e.g. tar | podman import -); CommandError names whichever failed."""
    first, second = guard(producer), guard(argv)
    _started([first, second], env)
    began = time.monotonic()
    with tempfile.TemporaryFile("w+") as first_err:  # a file: a chatty producer never blocks on it
        upstream = _spawn(first, hint, env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=first_err, text=False)
        result = _pipe_into(upstream, (first, second), began, timeout, hint, env)
        first_err.seek(0)
        _finish(Result(first, upstream.returncode, "", ""), began, True, hint, first_err.read)
    return result


def _pipe_into(upstream: subprocess.Popen[Any], argvs: tuple[list[str], list[str]], began: float,
               timeout: float, hint: str | None, env: Mapping[str, str] | None) -> Result:
    first, second = argvs
    try:
        downstream = _spawn(second, hint, env, stdin=upstream.stdout, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
        if upstream.stdout is not None:
            upstream.stdout.close()  # the producer gets SIGPIPE if the consumer dies
        code, out, err = _wait(downstream, None, timeout, second, hint, lambda: "")
        _wait(upstream, None, max(1.0, began + timeout - time.monotonic()), first, hint, lambda: "")
    except BaseException:
        _stop(upstream)
        _live.discard(upstream)
        raise
    # The consumer's error first: when it dies, the producer's SIGPIPE says nothing new.
    return _finish(Result(second, code, out, err), began, True, hint, lambda: err or out)


def _stdin(input: str | None) -> int | None:
    # Without input the child must not read the user's terminal (nor wait on it).
    return subprocess.PIPE if input is not None else subprocess.DEVNULL


def _started(argvs: Sequence[list[str]], env: Mapping[str, str] | None) -> None:
    """Count and log the programs of one call (two for a pipe)."""
    with _calls_lock:
        for args in argvs:
            _calls[program(args)] += 1
    extra = f" (env +{','.join(sorted(env))})" if env else ""  # names only, never values
    _log.debug("run: %s%s", " | ".join(shlex.join(args) for args in argvs), extra)


def _spawn(args: list[str], hint: str | None, env: Mapping[str, str] | None, *,
           stdin: int | IO[Any] | None, stdout: int | IO[Any] | None, stderr: int | IO[Any] | None,
           text: bool = True) -> subprocess.Popen[Any]:
    try:
        # Its own session: a timeout or Ctrl-C can end the program and everything it started.
        proc = subprocess.Popen(args, stdin=stdin, stdout=stdout, stderr=stderr, text=text,
                                env={**os.environ, **env} if env else None, start_new_session=True)
    except FileNotFoundError:
        raise CommandError(args, 127, f"{args[0]}: not installed", hint=hint) from None
    _live.add(proc)
    return proc


def _wait(proc: subprocess.Popen[Any], input: str | None, timeout: float, args: list[str],
          hint: str | None, tail: Callable[[], str]) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        _log.debug("timed out after %g s: %s", timeout, shlex.join(args))
        raise CommandError(args, -1, f"{tail()}\ntimed out after {timeout:g} s", hint=hint) from None
    except BaseException:
        _stop(proc)
        raise
    finally:
        _live.discard(proc)
    return proc.returncode, out or "", err or ""


def _stop(proc: subprocess.Popen[Any]) -> None:
    """End the program's whole process group: SIGTERM, then SIGKILL after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            proc.wait(_GRACE_S)
            break
        except subprocess.TimeoutExpired:
            continue
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _finish(result: Result, began: float, check: bool, hint: str | None,
            output: Callable[[], str]) -> Result:
    seconds = time.monotonic() - began
    if result.returncode == 0:
        _log.debug("exit 0 after %.2f s: %s", seconds, shlex.join(result.args)[:200])
        return result
    text = output()
    tail = "\n".join(text.strip().splitlines()[-CommandError.TAIL_LINES:])
    _log.debug("exit %d after %.2f s: %s\n%s", result.returncode, seconds, shlex.join(result.args), tail)
    if check:
        raise CommandError(result.args, result.returncode, text, hint=hint)
    return result


def _tail(log: Path, size: int = 4000) -> str:
    with log.open("rb") as handle:
        handle.seek(max(0, log.stat().st_size - size))
        return handle.read().decode(errors="replace")
