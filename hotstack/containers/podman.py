"""podman and podman-compose command lines, run through the one process runner.

The runtime and ulimits come from one policy (containers/runtime.py): direct podman calls get
it as flags built by pure functions here (``--runtime`` globally, ``--ulimit`` on ``run``,
``create`` and ``build``), so they depend on no file on disk; podman-compose starts podman
itself, so for it :func:`conf_env` points podman at hotstack's containers.conf holding the same
policy. The host's own containers.conf is never edited.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from hotstack.containers import runtime
from hotstack.core import distro, runner
from hotstack.core.errors import CommandError

PODMAN = "podman"
COMPOSE = "podman-compose"
DEFAULT_TIMEOUT_S = 120.0
_ULIMIT_SUBCOMMANDS = frozenset({"run", "create", "build"})


def command(args: Sequence[str], policy: runtime.Policy) -> list[str]:
    """The full podman command line for ``args`` under ``policy``."""
    argv = [PODMAN, *runtime.global_flags(policy)]
    if args and args[0] in _ULIMIT_SUBCOMMANDS:
        return [*argv, args[0], *runtime.ulimit_flags(policy), *args[1:]]
    return [*argv, *args]


def conf_env(state_dir: Path) -> dict[str, str]:
    """The environment that points podman (and podman-compose's podman calls) at hotstack's
    containers.conf, written here when missing or stale. podman 4.3 reads CONTAINERS_CONF;
    newer podman also CONTAINERS_CONF_OVERRIDE."""
    path = runtime.ensure_conf(state_dir / runtime.CONF_NAME, runtime.current())
    return {"CONTAINERS_CONF": str(path), "CONTAINERS_CONF_OVERRIDE": str(path)}


def available() -> bool:
    """Is podman installed at all?"""
    return runner.available(PODMAN)


def run(
    args: list[str],
    *,
    check: bool = True,
    input: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    capture: bool = True,
    env: Mapping[str, str] | None = None,
) -> runner.Result:
    """Run ``podman ARGS`` with hotstack's settings; CommandError when it fails and check."""
    return runner.run(command(args, runtime.current()), input, check=check, timeout=timeout,
                      capture=capture, env=env, hint=_hint())


def run_to_file(args: list[str], log: Path, *, timeout: float,
                env: Mapping[str, str] | None = None) -> int:
    """Run ``podman ARGS`` with its output in ``log`` (replaced); return the exit code."""
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    argv = command(args, runtime.current())
    return runner.run(argv, check=False, timeout=timeout, log=log, env=env).returncode


def image_exists(ref: str) -> bool:
    return run(["image", "exists", ref], check=False).returncode == 0


def image_size(ref: str) -> int:
    """Size in bytes of a local image (its own and its parents' layers)."""
    out = run(["image", "inspect", "--format", "{{.Size}}", ref]).stdout.strip()
    return int(out or 0)


def import_tarball(stream_cmd: list[str], ref: str, *, timeout: float = 600) -> None:
    """``STREAM_CMD | podman import - REF``: import a root file system tar stream."""
    runner.run_piped(stream_cmd, command(["import", "-", ref], runtime.current()), timeout=timeout)


def compose_command() -> list[str]:
    """podman-compose as a module of this interpreter when installed beside hotstack (skips a
    shim such as pyenv's, ~0.5 s a call), else the program on PATH."""
    if importlib.util.find_spec("podman_compose") is not None:
        return [sys.executable, "-m", "podman_compose"]
    return [COMPOSE]


def compose(args: list[str], *, env: Mapping[str, str] | None = None,
            timeout: float = DEFAULT_TIMEOUT_S) -> runner.Result:
    """Run ``podman-compose ARGS`` (env usually from :func:`conf_env`); CommandError on failure."""
    argv = [*compose_command(), *args]
    missing = argv[0] == COMPOSE and not runner.available(COMPOSE)
    proc = runner.run(argv, check=False, timeout=timeout, env=env,
                      hint="pip install 'podman-compose>=1.6'" if missing else None)
    if proc.returncode != 0:  # podman-compose says some of it on stdout: show both
        raise CommandError(proc.args, proc.returncode, proc.stderr + proc.stdout)
    return proc


def _hint() -> str | None:
    return None if available() else distro.hint("podman")
