"""The one runtime and limits policy of every container hotstack runs or builds.

crun refuses hosts with hybrid cgroups (v1 controllers plus a cgroup2 `unified` mount), and
podman's default ulimits exceed the hard limits of some hosts (EPERM at container start). Both
are decided here, once, from the host. Direct podman calls get the decision as flags
(podman.command); podman-compose's podman calls read it from hotstack's containers.conf
(CONTAINERS_CONF, text from :func:`conf_text`). podman 4.3 applies that file's runtime and
default_ulimits to run, create and build, so the compose file carries no ulimits of its own.
The host's /etc/containers is never edited.
"""

from __future__ import annotations

import functools
import resource
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hotstack.core import distro, fsutil, runner
from hotstack.core.errors import HotstackError

CONF_NAME = "containers.conf"
MOUNTINFO = Path("/proc/self/mountinfo")
WANT_NOFILE = 65536
WANT_NPROC = 32768  # above this podman fails on some hosts even when the hard limit is higher


def cgroup_mode(mountinfo: str) -> str:
    """unified (cgroup v2 only), hybrid (v1 plus a v2 mount) or legacy (v1 only)."""
    types = {}
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) > 4 and fields[4].startswith("/sys/fs/cgroup"):
            types[fields[4]] = right.split()[0] if right else ""
    if types.get("/sys/fs/cgroup") == "cgroup2":
        return "unified"
    return "hybrid" if "cgroup2" in types.values() else "legacy"


def runtime_works(name: str) -> bool:
    return runner.available(name) and runner.run([name, "--version"], check=False, timeout=10).returncode == 0


def choose_runtime(mode: str, works: Callable[[str], bool] = runtime_works) -> tuple[str | None, str]:
    """(runtime, why): crun where it can work, else runc, else None (podman's own default)."""
    if mode != "hybrid" and works("crun"):
        return "crun", f"cgroups {mode}: crun works"
    if works("runc"):
        why = "crun fails with hybrid cgroups" if mode == "hybrid" else "crun is not installed"
        return "runc", f"cgroups {mode}: {why}"
    return None, f"cgroups {mode}: no working OCI runtime"


@dataclass(frozen=True)
class Limits:
    nofile: int
    nproc: int


def capped(hard_nofile: int, hard_nproc: int) -> Limits:
    """The limits hotstack wants, lowered to the host's hard limits (never above them)."""
    def cap(hard: int, want: int) -> int:
        return want if hard == resource.RLIM_INFINITY else min(hard, want)

    return Limits(cap(hard_nofile, WANT_NOFILE), cap(hard_nproc, WANT_NPROC))


def host_limits() -> Limits:
    return capped(resource.getrlimit(resource.RLIMIT_NOFILE)[1], resource.getrlimit(resource.RLIMIT_NPROC)[1])


@dataclass(frozen=True)
class Policy:
    runtime: str | None
    limits: Limits
    why: str

    def ulimits(self) -> list[str]:
        n, p = self.limits.nofile, self.limits.nproc
        return [f"nofile={n}:{n}", f"nproc={p}:{p}"]


def detect(mountinfo: Path = MOUNTINFO) -> Policy:
    runtime, why = choose_runtime(cgroup_mode(mountinfo.read_text()))
    return Policy(runtime, host_limits(), why)


def require(policy: Policy) -> str:
    """The policy's runtime, or the error that says how to get one."""
    if policy.runtime is None:
        raise HotstackError(policy.why, hint=distro.hint("runc"))
    return policy.runtime


@functools.cache
def current() -> Policy:
    """This host's policy, detected on first use (a `--version` of each runtime) and kept."""
    return detect()


def global_flags(policy: Policy) -> list[str]:
    return ["--runtime", policy.runtime] if policy.runtime else []


def ulimit_flags(policy: Policy) -> list[str]:
    return [flag for limit in policy.ulimits() for flag in ("--ulimit", limit)]


def conf_text(policy: Policy) -> str:
    ulimits = ", ".join(f'"{u}"' for u in policy.ulimits())
    lines = ["# written by hotstack; used only by hotstack's own podman calls", "",
             "[containers]", f"default_ulimits = [{ulimits}]", ""]
    if policy.runtime:
        lines += ["[engine]", f'runtime = "{policy.runtime}"', ""]
    return "\n".join(lines)


def ensure_conf(path: Path, policy: Policy) -> Path:
    """Write the file where it is missing or stale (both podman.conf_env and `prepare` do)."""
    fsutil.write_if_changed(path, conf_text(policy))
    return path
