"""The only module that runs podman (and podman-compose).

How hotstack's podman settings are applied: by explicit flags on every
command, built by pure functions here, so nothing depends on a file on disk
and the host's own containers.conf is never edited:

* ``--runtime runc`` (a global flag) when runc is installed: crun fails on
  hosts with hybrid cgroups ("cgroups in hybrid mode not supported");
* ``--ulimit nofile=20000:20000 --ulimit nproc=32768:32768`` on ``run``,
  ``create`` and ``build``: podman's default limits exceed the hard limits
  of some hosts and fail with EPERM.

podman-compose starts podman itself, so for it :func:`conf_env` returns the
environment that points podman at the containers.conf host preparation writes
(hotstack/host/runtime.py) with the same settings.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from hotstack.core.errors import CommandError

PODMAN = "podman"
RUNTIME = "runc"
ULIMITS: tuple[str, ...] = ("nofile=20000:20000", "nproc=32768:32768")
_ULIMIT_SUBCOMMANDS = frozenset({"run", "create", "build"})


def runtime_flags(runtime_available: bool) -> list[str]:
    """Global flags: pin the OCI runtime to runc where it exists."""
    return ["--runtime", RUNTIME] if runtime_available else []


def ulimit_flags() -> list[str]:
    return [flag for limit in ULIMITS for flag in ("--ulimit", limit)]


def command(args: Sequence[str], *, runtime_available: bool = True) -> list[str]:
    """The full podman command line for ``args`` with hotstack's settings applied."""
    argv = [PODMAN, *runtime_flags(runtime_available)]
    if args and args[0] in _ULIMIT_SUBCOMMANDS:
        return [*argv, args[0], *ulimit_flags(), *args[1:]]
    return [*argv, *args]


def conf_env(state_dir: Path) -> dict[str, str]:
    """The environment that points podman (and podman-compose's podman calls) at hotstack's
    containers.conf, which `prepare` writes (host/runtime.py; written here too when missing).
    podman 4.3 reads CONTAINERS_CONF; newer podman also CONTAINERS_CONF_OVERRIDE."""
    from hotstack.host.runtime import CONF_NAME, ensure_conf

    path = ensure_conf(state_dir / CONF_NAME)
    return {"CONTAINERS_CONF": str(path), "CONTAINERS_CONF_OVERRIDE": str(path)}


def _runc_available() -> bool:
    return shutil.which(RUNTIME) is not None


def available() -> bool:
    """Is podman installed at all?"""
    return shutil.which(PODMAN) is not None


def run(
    args: list[str],
    *,
    check: bool = True,
    input: str | None = None,
    timeout: float | None = None,
    capture: bool = True,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``podman ARGS`` with hotstack's settings; raise CommandError when it fails and check."""
    argv = command(args, runtime_available=_runc_available())
    full_env = {**os.environ, **env} if env else None
    try:
        proc = subprocess.run(
            argv,
            input=input,
            timeout=timeout,
            text=True,
            capture_output=capture,
            env=full_env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CommandError(argv, -1, f"timed out after {timeout} s") from exc
    except FileNotFoundError as exc:
        raise CommandError(argv, 127, "podman is not installed",
                           hint="apt-get install podman") from exc
    if check and proc.returncode != 0:
        raise CommandError(argv, proc.returncode, proc.stderr or "")
    return proc


def run_to_file(args: list[str], log: Path, *, env: Mapping[str, str] | None = None) -> int:
    """Run ``podman ARGS`` with stdout and stderr going to ``log``; return the exit code."""
    argv = command(args, runtime_available=_runc_available())
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **env} if env else None
    with log.open("w") as out:
        out.write("$ " + " ".join(argv) + "\n")
        out.flush()
        proc = subprocess.run(
            argv, stdout=out, stderr=subprocess.STDOUT, env=full_env, check=False
        )
    return proc.returncode


def image_exists(ref: str) -> bool:
    return run(["image", "exists", ref], check=False).returncode == 0


def image_size(ref: str) -> int:
    """Size in bytes of a local image (its own and its parents' layers)."""
    out = run(["image", "inspect", "--format", "{{.Size}}", ref]).stdout.strip()
    return int(out or 0)


def import_tarball(stream_cmd: list[str], ref: str, *, timeout: float = 600) -> None:
    """``STREAM_CMD | podman import - REF``: import a root file system tar stream."""
    argv = command(["import", "-", ref], runtime_available=_runc_available())
    with subprocess.Popen(stream_cmd, stdout=subprocess.PIPE) as producer:
        proc = subprocess.run(
            argv, stdin=producer.stdout, capture_output=True, text=True, timeout=timeout,
            check=False,
        )
        if producer.stdout is not None:
            producer.stdout.close()
        producer.wait()
    if producer.returncode != 0:
        raise CommandError(stream_cmd, producer.returncode, "")
    if proc.returncode != 0:
        raise CommandError(argv, proc.returncode, proc.stderr)


COMPOSE = "podman-compose"


def compose_command() -> list[str]:
    """podman-compose as a module of this interpreter when installed beside hotstack (skips a
    shim such as pyenv's, ~0.5 s a call), else the program on PATH."""
    if importlib.util.find_spec("podman_compose") is not None:
        return [sys.executable, "-m", "podman_compose"]
    return [COMPOSE]


def compose(args: list[str], *, env: Mapping[str, str] | None = None,
            timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``podman-compose ARGS`` (env usually from :func:`conf_env`); CommandError on failure."""
    argv = [*compose_command(), *args]
    try:
        proc = subprocess.run(argv, text=True, capture_output=True, timeout=timeout,
                              env={**os.environ, **(env or {})}, check=False)
    except subprocess.TimeoutExpired as exc:
        raise CommandError(argv, -1, f"timed out after {timeout} s") from exc
    except FileNotFoundError as exc:
        raise CommandError(argv, 127, "podman-compose is not installed",
                           hint="pip install 'podman-compose>=1.6'") from exc
    if proc.returncode != 0:
        raise CommandError(argv, proc.returncode, (proc.stderr or "") + (proc.stdout or ""))
    return proc
