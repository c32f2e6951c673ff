"""/run/netns as a shared mount point.

neutron's OVN metadata agent runs in a container with /run/netns mounted `shared`: the network
namespaces it creates must be visible on the host (and to ovs-vswitchd). podman refuses shared
propagation unless the source is on a shared mount, so /run/netns is bind-mounted onto itself
and made shared — only when it is not already. A marker in hotstack's state dir records that
hotstack made the mount, so `clean` undoes it only then — and only when no other deployment's
namespaces still live there. `clean` also deletes the agent's `ovnmeta-*` namespaces, which
outlive its container (they are mounts under /run/netns): those of this deployment, told by
`owns` (the plan asks whether the namespace's veth leads to this deployment's bridge).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hotstack.core import runner
from hotstack.host.step import Step


def mount_propagation(mountinfo: str, target: Path) -> str | None:
    """'shared' / 'private' for the mount whose mount point is target; None when not a mount."""
    found = None
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[4] == str(target):
            optional = fields[6:fields.index("-")]
            found = "shared" if any(f.startswith("shared:") for f in optional) else "private"
    return found


METADATA_PREFIX = "ovnmeta-"  # the OVN metadata agent's namespaces


def inner_links(handle: Path) -> set[str]:
    """Interface names inside the namespace behind a handle (nsenter works on any path)."""
    proc = runner.run(["nsenter", f"--net={handle}", "ip", "-o", "link", "show"], check=False, timeout=10)
    return {line.split(": ")[1].split("@")[0] for line in proc.stdout.splitlines() if line.count(": ") >= 2}


def bind_argv(target: Path) -> list[str]:
    return ["mount", "--bind", str(target), str(target)]


def shared_argv(target: Path) -> list[str]:
    return ["mount", "--make-shared", str(target)]


class SharedNetns(Step):
    id = "netns-mount"
    fix = "check `findmnt -o TARGET,PROPAGATION /run/netns`"

    def __init__(self, target: Path, marker: Path, mountinfo: Path = Path("/proc/self/mountinfo"),
                 owns: Callable[[Path], bool] = lambda _handle: True) -> None:
        self.target, self.marker, self.mountinfo, self.owns = target, marker, mountinfo, owns

    def describe(self) -> str:
        return f"{self.target} is a shared mount (network namespaces visible to containers)"

    def _state(self) -> str | None:
        return mount_propagation(self.mountinfo.read_text(), self.target)

    def check(self) -> list[str]:
        state = self._state()
        if state is None:
            return [f"bind-mount {self.target} onto itself and make it shared"]
        return [] if state == "shared" else [f"make the mount {self.target} shared"]

    def apply(self) -> None:
        state = self._state()
        if state is None:
            self.target.mkdir(parents=True, exist_ok=True)
            runner.run(bind_argv(self.target))
            self.marker.parent.mkdir(parents=True, exist_ok=True)
            self.marker.write_text("hotstack bind-mounted this path onto itself\n")
        if state != "shared":
            runner.run(shared_argv(self.target))

    def remove(self) -> list[str]:
        removed, others = [], []
        mountinfo = self.mountinfo.read_text()
        for ns in sorted(self.target.glob(f"{METADATA_PREFIX}*")):
            if mount_propagation(mountinfo, ns) is not None:  # a live namespace is a mount here
                if not self.owns(ns):
                    others.append(ns.name)
                    continue
                runner.run(["umount", str(ns)])
            ns.unlink()
            removed.append(f"deleted network namespace {ns.name}")
        if not self.marker.exists():
            return removed
        if others:  # another deployment's agent still needs the shared mount
            return [*removed, f"kept the mount {self.target}: {len(others)} namespace(s) of another deployment"]
        if self._state() is not None:
            runner.run(["umount", str(self.target)])
        self.marker.unlink()
        return [*removed, f"unmounted {self.target} (hotstack had bind-mounted it)"]
