"""The host step that writes hotstack's own containers.conf (<state>/containers.conf).

What goes in it — the OCI runtime and the container limits — is decided by the one policy in
hotstack/containers/runtime.py; this step only checks, writes and removes the file.
"""

from __future__ import annotations

from pathlib import Path

from hotstack.containers import runtime
from hotstack.core import distro
from hotstack.core.paths import Paths
from hotstack.host.step import Step


def conf_path(paths: Paths) -> Path:
    return paths.state / runtime.CONF_NAME


class PodmanRuntime(Step):
    id = "podman-runtime"
    def __init__(self, paths: Paths, mountinfo: Path = runtime.MOUNTINFO) -> None:
        self.fix = f"install runc ({distro.hint('runc')}) and run prepare again"
        self.path = conf_path(paths)
        self.mountinfo = mountinfo

    def policy(self) -> runtime.Policy:
        policy = runtime.detect(self.mountinfo)
        runtime.require(policy)  # no working runtime: refuse before writing anything
        return policy

    def describe(self) -> str:
        return f"hotstack's containers.conf override ({self.path})"

    def check(self) -> list[str]:
        policy = self.policy()
        try:
            if self.path.read_text() == runtime.conf_text(policy):
                return []
        except FileNotFoundError:
            pass
        limits = policy.limits
        return [f"write {self.path}: runtime {policy.runtime} ({policy.why}), "
                f"nofile={limits.nofile} nproc={limits.nproc}"]

    def apply(self) -> None:
        runtime.ensure_conf(self.path, self.policy())

    def remove(self) -> list[str]:
        if not self.path.exists():
            return []
        self.path.unlink()
        return [f"removed {self.path}"]
