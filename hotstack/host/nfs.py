"""cinder's NFS share, by `cinder.nfs_mode`.

`nfs`: the kernel NFS server exports the share directory to the container network (a file in
/etc/exports.d, then `exportfs -ra`). `local`, for kernels without NFS: nothing is mounted over
NFS at all. os-brick treats a share as mounted when its mount point
(<nfs_mount_point_base>/<md5 of the share string>) is in /proc/mounts, so the share directory
is bind-mounted there — on the host here, so qemu sees volumes at the path nova gives it, and in
the cinder-volume and nova-compute containers by their own volume definitions. `auto` picks
`nfs` when the kernel has NFS and exportfs is installed, else `local`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from hotstack.catalog import USERS
from hotstack.catalog.services.cinder import nfs_mount_dir
from hotstack.core import distro, fsutil, runner
from hotstack.core.paths import Paths
from hotstack.core.scope import Scope
from hotstack.core.settings import Settings
from hotstack.host.netns import mount_propagation
from hotstack.host.step import Step
from hotstack.host.system import Host


def choose_mode(s: Settings, host: Host) -> tuple[str, str]:
    """(nfs | local, why)."""
    if s.cinder.nfs_mode != "auto":
        return s.cinder.nfs_mode, "set by cinder.nfs_mode"
    if not (host.kernel_has_filesystem("nfs") or host.kernel_has_filesystem("nfs4")):
        return "local", "the kernel has no NFS (/proc/filesystems): bind-mounted share"
    if not runner.available("exportfs"):
        return "local", f"exportfs is not installed ({distro.hint('nfs-server')} for real NFS)"
    return "nfs", "the kernel has NFS and exportfs is installed"


def exports_line(s: Settings, p: Paths, nodes: Sequence[str] = ()) -> str:
    """The share to the container network and this host's own addresses (node one's nova-compute
    mounts it), and to each other machine's node address alone."""
    opts = "rw,sync,no_subtree_check,no_root_squash"
    hosts = dict.fromkeys([str(s.network.brex_ip), str(s.nodes.control_address or s.network.brex_ip), *nodes])
    return " ".join([str(p.cinder_nfs), f"{s.network.container_cidr}({opts})",
                     *(f"{h}/32({opts})" for h in hosts)]) + "\n"


def _share_dir(p: Paths) -> list[str]:
    d = p.cinder_nfs
    if not d.is_dir():
        return [f"create {d}"]
    st = d.stat()
    uid = USERS["cinder"]
    return [] if (st.st_uid, st.st_mode & 0o777) == (uid, 0o775) else [f"set {d} to cinder 0775"]


def _make_share_dir(p: Paths) -> None:
    p.cinder_nfs.mkdir(mode=0o775, parents=True, exist_ok=True)
    os.chown(p.cinder_nfs, USERS["cinder"], USERS["cinder"])
    p.cinder_nfs.chmod(0o775)


class NfsExports(Step):
    id = "nfs-exports"
    fix = "check `exportfs -v` and that nfs-kernel-server is running"

    def __init__(self, s: Settings, p: Paths, host: Host, nodes: Sequence[str] = ()) -> None:
        self.s, self.p, self.line = s, p, exports_line(s, p, nodes)
        self.file = host.exports_dir / Scope(s.name).exports_file

    def describe(self) -> str:
        return f"export {self.p.cinder_nfs} to {self.s.network.container_cidr} ({self.file})"

    def check(self) -> list[str]:
        diffs = _share_dir(self.p)
        try:
            current = self.file.read_text()
        except FileNotFoundError:
            current = None
        if current != self.line:
            diffs.append(f"write {self.file} and run exportfs -ra")
        return diffs

    def apply(self) -> None:
        _make_share_dir(self.p)
        if fsutil.write_if_changed(self.file, self.line):
            runner.run(["exportfs", "-ra"])

    def remove(self) -> list[str]:
        if not self.file.exists():
            return []
        self.file.unlink()
        runner.run(["exportfs", "-ra"], check=False)
        return [f"removed {self.file} and re-exported"]


class LocalShare(Step):
    id = "nfs-local"
    fix = "check `findmnt` for the share's mount point"

    def __init__(self, s: Settings, p: Paths, mountinfo: Path = Path("/proc/self/mountinfo")) -> None:
        self.p, self.mountinfo = p, mountinfo
        self.mount_dir = Path(nfs_mount_dir(s, p))

    def describe(self) -> str:
        return f"{self.p.cinder_nfs} bind-mounted at {self.mount_dir} (NFS without the kernel's NFS)"

    def _mounted(self) -> bool:
        return mount_propagation(self.mountinfo.read_text(), self.mount_dir) is not None

    def check(self) -> list[str]:
        diffs = _share_dir(self.p)
        if not self._mounted():
            diffs.append(f"bind-mount {self.p.cinder_nfs} at {self.mount_dir}")
        return diffs

    def apply(self) -> None:
        _make_share_dir(self.p)
        if not self._mounted():
            self.mount_dir.mkdir(parents=True, exist_ok=True)
            runner.run(["mount", "--bind", str(self.p.cinder_nfs), str(self.mount_dir)])

    def remove(self) -> list[str]:
        if not self._mounted():
            return []
        runner.run(["umount", str(self.mount_dir)])
        return [f"unmounted {self.mount_dir}"]
