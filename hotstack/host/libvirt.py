"""libvirt: the daemon nova-compute drives, the virt type, and nova's storage paths.

nova-compute runs in a container but talks to the host's libvirtd through its system socket:
/run/libvirt is mounted into the container and nova uses qemu:///system. That way qemu runs
on the host — guests survive a recreated nova-compute container, the disk paths nova writes are
the paths qemu opens, and the privileged daemon can create tap devices and plug them into the
host's OVS. The session driver (qemu:///session under a dedicated user) could do none of that
without extra privileges, and would die with the container.

The virt type is decided by trying, not by listing: a tiny transient guest is defined and
started as `kvm` with the CPU model nova uses for kvm (host-model); if it is still running a
few seconds later the host can run kvm guests, else nova gets `qemu` (TCG) and a warning. The
guest boots a one-MiB SYSLINUX disk that waits at its prompt, switching between real and
protected mode on every BIOS call, as a guest's boot loader does: some nested hosts run a
BIOS that boots nothing happily and then fail those switches (qemu pauses the guest with an
"emulation failure"), which an empty guest never shows.
"""

from __future__ import annotations

import contextlib
import grp
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import libvirt

from hotstack.catalog import USERS
from hotstack.core import distro, runner
from hotstack.core.errors import HotstackError
from hotstack.core.paths import Paths
from hotstack.guest.image import mcopy_argv, mkfs_argv, syslinux_argv
from hotstack.host.step import Step

PROBE_NAME = "hotstack-virt-probe"
PROBE_VERSION = "syslinux-1"  # part of the probe key: a new probe re-decides cached results
PROBE_PROMPT = "boot:"  # what the probe disk's loader prints on the serial port
PROBE_CFG = "SERIAL 0 115200\nPROMPT 1\nTIMEOUT 0\nDEFAULT none\n"
KVM_DEVICE = Path("/dev/kvm")


def _silence(_ctx: object, _err: object) -> None:
    """libvirt prints every error to stderr by default; hotstack reports them itself."""


libvirt.registerErrorHandler(_silence, None)


def connect(uri: str) -> Any:
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise HotstackError(f"cannot connect to libvirt at {uri}: {exc}",
                            hint="start libvirtd (libvirtd -d, or systemctl start libvirtd)") from exc


def probe_disk(folder: Path) -> Path:
    """A 1 MiB FAT disk whose SYSLINUX waits at its prompt forever (folder: readable by qemu)."""
    img, cfg = folder / "probe.img", folder / "syslinux.cfg"
    cfg.write_text(PROBE_CFG)
    hint = f"install the guest image's tools ({distro.hint('guest-tools')}, or scripts/install-deps)"
    runner.run(mkfs_argv(img, 1024), hint=hint)
    runner.run(syslinux_argv(img), hint=hint)
    runner.run(mcopy_argv(img, cfg), hint=hint)
    img.chmod(0o644)
    return img


def probe_xml(virt_type: str, disk: Path | None) -> str:
    cpu = "<cpu mode='host-model'/>" if virt_type == "kvm" else ""
    devices = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='{disk}'/>"
               "<target dev='vda' bus='virtio'/><readonly/></disk>") if disk else ""
    return (f"<domain type='{virt_type}'><name>{PROBE_NAME}-{virt_type}</name>"
            "<memory unit='MiB'>32</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>"
            f"{cpu}<on_poweroff>destroy</on_poweroff><on_crash>destroy</on_crash>"
            f"<devices>{devices}</devices></domain>")


def guest_runs(conn: Any, virt_type: str, disk: Path | None = None, settle_s: float = 3.0) -> tuple[bool, str]:
    """Start a transient guest of virt_type; (still running after settle_s, why not).
    A guest that stops or pauses earlier (an emulation failure) is not waited for."""
    try:
        dom = conn.createXML(probe_xml(virt_type, disk), 0)
    except libvirt.libvirtError as exc:
        return False, str(exc).splitlines()[-1]
    try:
        deadline = time.monotonic() + settle_s
        while True:
            state = dom.state()[0]
            if state != libvirt.VIR_DOMAIN_RUNNING:
                return False, f"guest {_STATES.get(state, state)} while its boot loader ran"
            if time.monotonic() >= deadline:
                return True, ""
            time.sleep(0.2)
    except libvirt.libvirtError as exc:  # it went away on its own
        return False, str(exc).splitlines()[-1]
    finally:
        with contextlib.suppress(libvirt.libvirtError):  # already gone
            dom.destroy()


_STATES = {libvirt.VIR_DOMAIN_PAUSED: "paused (emulation failure?)", libvirt.VIR_DOMAIN_SHUTOFF: "shut off",
           libvirt.VIR_DOMAIN_CRASHED: "crashed"}


def probe_virt_type(uri: str) -> tuple[str, str]:
    """('kvm' | 'qemu', warning or '')."""
    conn = connect(uri)
    folder = Path(tempfile.mkdtemp(prefix="hotstack-virt-probe."))
    try:
        folder.chmod(0o755)  # qemu runs as its own user
        disk = probe_disk(folder)
        ok, why = guest_runs(conn, "kvm", disk)
        if ok:
            return "kvm", ""
        ok_qemu, why_qemu = guest_runs(conn, "qemu", disk)
        if not ok_qemu:
            raise HotstackError(f"libvirt at {uri} cannot start a qemu guest: {why_qemu}",
                                hint=f"check /var/log/libvirt/qemu/ and that qemu is installed ({distro.hint('qemu')})")
        return "qemu", f"KVM guests do not run here ({why}); nova uses qemu (TCG emulation, slower)"
    finally:
        conn.close()
        shutil.rmtree(folder, ignore_errors=True)


def probe_key(uri: str) -> str:
    """What the probe result depends on; a cached result is reused while this stays equal."""
    conn = connect(uri)
    try:
        kvm = KVM_DEVICE.stat() if KVM_DEVICE.exists() else None
        dev = f"{kvm.st_mode:o}:{kvm.st_gid}" if kvm else "none"
        return f"{conn.getType()}:{conn.getVersion()}:{conn.getLibVersion()}:{dev}:{PROBE_VERSION}"
    finally:
        conn.close()


class KvmDevice(Step):
    """/dev/kvm as udev would leave it (root:kvm 0660), on hosts without udev.

    libvirtd probes qemu as root but checks /dev/kvm as the qemu user: when these disagree it
    throws its capability cache away and re-probes qemu on every call (seconds each).
    """

    id = "kvm-device"

    def __init__(self, marker: Path, device: Path = KVM_DEVICE) -> None:
        self.marker, self.device = marker, device

    def describe(self) -> str:
        return f"{self.device} usable by the kvm group (root:kvm 0660)"

    def _wanted(self) -> tuple[int, int] | None:
        try:
            return grp.getgrnam("kvm").gr_gid, 0o660
        except KeyError:
            return None

    def check(self) -> list[str]:
        wanted = self._wanted()
        if wanted is None or not self.device.exists():
            return []
        st = self.device.stat()
        if st.st_gid == wanted[0] and st.st_mode & 0o777 == wanted[1]:
            return []
        return [f"{self.device}: mode {st.st_mode & 0o777:o} gid {st.st_gid} → root:kvm 0660 "
                "(as udev would; else libvirt re-probes qemu on every call)"]

    def apply(self) -> None:
        wanted = self._wanted()
        assert wanted is not None
        st = self.device.stat()
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        if not self.marker.exists():
            self.marker.write_text(f"{st.st_mode & 0o777:o} {st.st_gid}\n")
        os.chown(self.device, 0, wanted[0])
        os.chmod(self.device, wanted[1])

    def remove(self) -> list[str]:
        if not self.marker.exists():
            return []
        mode, gid = self.marker.read_text().split()
        if self.device.exists():
            os.chown(self.device, 0, int(gid))
            os.chmod(self.device, int(mode, 8))
        self.marker.unlink()
        return [f"restored {self.device} to mode {mode} gid {gid}"]


class NovaPaths(Step):
    """The instances directory and the NFS mount base, owned by nova, traversable by qemu."""

    id = "nova-paths"

    def __init__(self, paths: Paths, uri: str | None = None) -> None:
        self.dirs = (paths.nova_instances, paths.nova_mnt)
        self.data_dir = paths.data_dir
        self.uid = USERS["nova"]
        self.uri = uri  # where nova's guests run, so remove() can take them away too

    def describe(self) -> str:
        return f"{', '.join(map(str, self.dirs))} owned by nova ({self.uid}), mode 0755"

    def check(self) -> list[str]:
        diffs = []
        for d in self.dirs:
            if not d.is_dir():
                diffs.append(f"create {d}")
                continue
            st = d.stat()
            if (st.st_uid, st.st_gid, st.st_mode & 0o777) != (self.uid, self.uid, 0o755):
                diffs.append(f"set {d} to nova:nova 0755")
        return diffs

    def apply(self) -> None:
        self.data_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        for d in self.dirs:
            d.mkdir(mode=0o755, exist_ok=True)
            os.chown(d, self.uid, self.uid)
            d.chmod(0o755)

    def remove(self) -> list[str]:
        """Nova's guests (their disks live under the instances directory) are stopped and
        undefined; the directories themselves go with the data dir, removed as a whole by clean."""
        if self.uri is None:
            return []
        conn = connect(self.uri)
        removed = []
        try:
            for dom in conn.listAllDomains():
                if f"'{self.dirs[0]}/" not in dom.XMLDesc(0).replace('"', "'"):
                    continue
                if dom.isActive():
                    dom.destroy()
                if dom.isPersistent():
                    try:
                        dom.undefine()
                    except libvirt.libvirtError:  # a UEFI guest: its NVRAM file goes too
                        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
                removed.append(f"removed nova's guest {dom.name()}")
        finally:
            conn.close()
        return removed
