"""The OCI runtime and container limits hotstack's podman calls use.

crun refuses hosts with hybrid cgroups (v1 controllers plus a cgroup2 `unified` mount), and
podman's default ulimits exceed the hard limits of some hosts (EPERM at container start). Both
are detected here and written to hotstack's own containers.conf in its state directory;
hotstack/podman.py points every podman call at it (CONTAINERS_CONF_OVERRIDE). The host's
/etc/containers is never edited.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass
from pathlib import Path

from hotstack.core import fsutil, runner
from hotstack.core.errors import HotstackError
from hotstack.core.paths import Paths
from hotstack.host.step import Step

CONF_NAME = "containers.conf"
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
    return runner.available(name) and runner.run([name, "--version"], check=False).returncode == 0


def choose_runtime(mode: str) -> tuple[str, str]:
    """(runtime, why). crun where it can work, else runc."""
    if mode != "hybrid" and runtime_works("crun"):
        return "crun", f"cgroups {mode}: crun works"
    if runtime_works("runc"):
        why = "crun fails with hybrid cgroups" if mode == "hybrid" else "crun is not installed"
        return "runc", f"cgroups {mode}: {why}"
    raise HotstackError(f"no working OCI runtime (cgroups {mode})",
                        hint="apt-get install runc")


@dataclass(frozen=True)
class Limits:
    nofile: int
    nproc: int


def host_limits() -> Limits:
    def cap(limit: int, want: int) -> int:
        return want if limit == resource.RLIM_INFINITY else min(limit, want)

    return Limits(cap(resource.getrlimit(resource.RLIMIT_NOFILE)[1], WANT_NOFILE),
                  cap(resource.getrlimit(resource.RLIMIT_NPROC)[1], WANT_NPROC))


def conf_text(runtime: str, limits: Limits) -> str:
    ulimits = f'"nofile={limits.nofile}:{limits.nofile}", "nproc={limits.nproc}:{limits.nproc}"'
    return "\n".join(["# written by hotstack; used only by hotstack's own podman calls", "",
                      "[containers]", f"default_ulimits = [{ulimits}]", "",
                      "[engine]", f'runtime = "{runtime}"', ""])


def wanted_conf(mountinfo: Path = Path("/proc/self/mountinfo")) -> tuple[str, str]:
    """The containers.conf text this host needs, and why (the runtime choice)."""
    runtime, why = choose_runtime(cgroup_mode(mountinfo.read_text()))
    return conf_text(runtime, host_limits()), f"runtime {runtime} ({why})"


def ensure_conf(path: Path, mountinfo: Path = Path("/proc/self/mountinfo")) -> Path:
    """Write the override where it is missing or stale; podman.py points podman at it."""
    fsutil.write_if_changed(path, wanted_conf(mountinfo)[0])
    return path


def conf_path(paths: Paths) -> Path:
    return paths.state / CONF_NAME


class PodmanRuntime(Step):
    id = "podman-runtime"
    fix = "install runc (apt-get install runc) and run prepare again"

    def __init__(self, paths: Paths, mountinfo: Path = Path("/proc/self/mountinfo")) -> None:
        self.path = conf_path(paths)
        self.mountinfo = mountinfo

    def wanted(self) -> tuple[str, str]:
        return wanted_conf(self.mountinfo)

    def describe(self) -> str:
        return f"hotstack's containers.conf override ({self.path})"

    def check(self) -> list[str]:
        text, why = self.wanted()
        try:
            if self.path.read_text() == text:
                return []
        except FileNotFoundError:
            pass
        limits = host_limits()
        return [f"write {self.path}: {why}, nofile={limits.nofile} nproc={limits.nproc}"]

    def apply(self) -> None:
        ensure_conf(self.path, self.mountinfo)

    def remove(self) -> list[str]:
        if not self.path.exists():
            return []
        self.path.unlink()
        return [f"removed {self.path}"]
