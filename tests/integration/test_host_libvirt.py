"""libvirt steps against libvirt's test:///default driver and files under a temp dir."""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from hotstack.catalog import USERS
from hotstack.core import distro
from hotstack.core.errors import HotstackError
from hotstack.core.paths import Paths
from hotstack.host import libvirt as virt
from hotstack.host.step import run_plan

pytestmark = pytest.mark.integration
TEST_URI = "test:///default"


def test_probe_runs_a_guest_and_leaves_none() -> None:
    conn = virt.connect(TEST_URI)
    before = {d.name() for d in conn.listAllDomains()}
    ok, _ = virt.guest_runs(conn, "kvm", settle_s=0.05)
    assert ok
    assert {d.name() for d in conn.listAllDomains()} == before
    conn.close()


def test_probe_virt_type_and_key() -> None:
    assert virt.probe_virt_type(TEST_URI) == ("kvm", "")
    key = virt.probe_key(TEST_URI)
    assert key.startswith("TEST:") and key == virt.probe_key(TEST_URI)
    assert key.endswith(virt.PROBE_VERSION)  # a new probe re-decides what an old one cached


@pytest.mark.skipif(not all(map(shutil.which, (distro.current().qemu, "mkfs.vfat", "syslinux", "mcopy"))),
                    reason="needs qemu-system-x86, dosfstools, syslinux, mtools")
def test_probe_disk_really_boots_its_loader(tmp_path: Path) -> None:
    """The probe only means something if the loader runs: a disk that did not boot would leave
    the BIOS idling, which every host runs. Under qemu TCG the loader's prompt must appear."""
    disk, serial = virt.probe_disk(tmp_path), tmp_path / "serial.log"
    qemu = subprocess.Popen([distro.current().qemu, "-machine", "accel=tcg", "-m", "32", "-nographic",
                             "-monitor", "none", "-nodefaults", "-serial", f"file:{serial}",
                             "-drive", f"file={disk},if=virtio,format=raw,readonly=on"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while virt.PROBE_PROMPT not in (serial.read_text(errors="replace") if serial.exists() else ""):
            assert time.monotonic() < deadline, "the probe disk's loader never printed its prompt"
            time.sleep(0.2)
        assert qemu.poll() is None  # still waiting at the prompt, as the probe expects
    finally:
        qemu.kill()
        qemu.wait()


def test_unreachable_libvirt_says_what_to_do() -> None:
    with pytest.raises(HotstackError, match="cannot connect to libvirt") as err:
        virt.connect("qemu+unix:///system?socket=/nonexistent/sock")
    assert "libvirtd" in (err.value.hint or "")


def test_nova_paths(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "data")
    step = virt.NovaPaths(paths)
    assert len(step.check()) == 2
    run_plan([step], dry_run=False)
    for d in (paths.nova_instances, paths.nova_mnt):
        st = d.stat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (USERS["nova"], USERS["nova"], 0o755)
    assert step.check() == []


def test_nova_paths_remove_takes_novas_guests_only(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "data")
    conn = virt.connect(TEST_URI)  # the test driver's state is shared by the process's connections

    def domain(name: str, disk: Path) -> str:
        return (f"<domain type='test'><name>{name}</name><memory>8192</memory><os><type>hvm</type></os>"
                f"<devices><disk type='file' device='disk'><source file='{disk}'/><target dev='vda'/></disk>"
                "</devices></domain>")

    conn.defineXML(domain("instance-00000001", paths.nova_instances / "abc" / "disk")).create()
    conn.defineXML(domain("someone-elses", tmp_path / "elsewhere.img"))
    try:
        assert virt.NovaPaths(paths, TEST_URI).remove() == ["removed nova's guest instance-00000001"]
        names = {d.name() for d in conn.listAllDomains()}
        assert "someone-elses" in names and "instance-00000001" not in names
        assert virt.NovaPaths(paths).remove() == []  # no libvirt given: nothing to look at
    finally:
        conn.lookupByName("someone-elses").undefine()
        conn.close()


def test_kvm_device_mode_and_restore(tmp_path: Path) -> None:
    try:
        kvm_gid = grp.getgrnam("kvm").gr_gid
    except KeyError:
        pytest.skip("no kvm group on this host")
    device = tmp_path / "kvm"
    device.write_text("")
    device.chmod(0o600)
    step = virt.KvmDevice(tmp_path / "state" / "kvm-device", device)
    assert step.check()
    step.apply()
    assert (device.stat().st_gid, device.stat().st_mode & 0o777) == (kvm_gid, 0o660)
    assert step.check() == []
    assert step.remove()
    assert (device.stat().st_gid, device.stat().st_mode & 0o777) == (os.getgid(), 0o600)
