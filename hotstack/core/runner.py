"""The one wrapper host modules use to run a program (nft, exportfs, ovs-ctl, mount, ...).

Command lines are built by pure functions in the modules that need them; this only runs them
and turns a failure into a CommandError that shows the command, its exit code and stderr.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from hotstack.core.errors import CommandError


def in_netns(netns: str | None, argv: Sequence[str]) -> list[str]:
    """argv run inside a named network namespace (unchanged when netns is None)."""
    return ["ip", "netns", "exec", netns, *argv] if netns else list(argv)


def available(program: str) -> bool:
    return shutil.which(program) is not None


def run(
    argv: Sequence[str],
    input: str | None = None,
    *,
    check: bool = True,
    timeout: float | None = 60.0,
    hint: str | None = None,
    log: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run argv, capturing text output; raise CommandError on a non-zero exit when check.
    With `log`, output is appended to that file instead (long builds) and its tail is the error."""
    args = list(argv)
    if log is not None:
        return _run_logged(args, log, check=check, timeout=timeout, hint=hint)
    try:
        proc = subprocess.run(args, input=input, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        raise CommandError(args, 127, f"{args[0]}: not installed", hint=hint) from None
    except subprocess.TimeoutExpired:
        raise CommandError(args, -1, f"timed out after {timeout:g} s", hint=hint) from None
    if check and proc.returncode != 0:
        raise CommandError(args, proc.returncode, proc.stderr or proc.stdout, hint=hint)
    return proc


def _run_logged(args: list[str], log: Path, *, check: bool, timeout: float | None,
                hint: str | None) -> subprocess.CompletedProcess[str]:
    with log.open("a") as out:
        out.write("$ " + " ".join(args) + "\n")
        out.flush()
        try:
            proc = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
        except FileNotFoundError:
            raise CommandError(args, 127, f"{args[0]}: not installed", hint=hint) from None
        except subprocess.TimeoutExpired:
            raise CommandError(args, -1, f"timed out after {timeout:g} s", hint=hint) from None
    if check and proc.returncode != 0:
        raise CommandError(args, proc.returncode, log.read_text()[-4000:], hint=hint)
    return subprocess.CompletedProcess(args, proc.returncode, "", "")
