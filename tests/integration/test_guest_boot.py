"""Boot hotstack's guest image under qemu TCG, as nova will, and read its serial console.

qemu's user networking with restrict=on answers DHCP inside qemu and lets no packet leave
the machine. A disk is hot-plugged and unplugged through QMP the way nova attaches a volume,
and the ACPI power button (libvirt's clean shutdown) must power the guest off.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hotstack.guest import GuestImage, build_guest_image
from hotstack.guest_init import MARKER

QEMU = "qemu-system-x86_64"
TOOLS = (QEMU, "qemu-img", "mkfs.vfat", "syslinux", "mcopy", "apt-cache", "apt-get")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not all(map(shutil.which, TOOLS)),
                       reason=f"needs {', '.join(TOOLS)} (qemu-system-x86, qemu-utils, dosfstools, "
                              "syslinux, mtools)"),
    pytest.mark.timeout(180),
]


def qemu_argv(image: Path, extra: Path, log: Path, qmp: Path) -> list[str]:
    return [QEMU, "-machine", "accel=tcg", "-m", "256", "-nographic", "-monitor", "none",
            "-serial", f"file:{log}", "-qmp", f"unix:{qmp},server=on,wait=off",
            "-drive", f"file={image},if=virtio,format=raw",
            "-drive", f"file={extra},if=virtio,format=raw",
            "-netdev", "user,id=n0,restrict=on", "-device", "virtio-net-pci,netdev=n0"]


class Qmp:
    """Just enough of QEMU's monitor protocol: one command, one answer (events skipped)."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        for _ in range(50):
            try:
                self.sock.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.1)
        self.stream = self.sock.makefile("rw")
        self.stream.readline()  # greeting
        self.execute("qmp_capabilities")

    def execute(self, command: str, **arguments: Any) -> Any:
        self.stream.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
        self.stream.flush()
        while True:
            reply = json.loads(self.stream.readline())
            if "error" in reply:
                raise AssertionError(f"qmp {command}: {reply['error']}")
            if "return" in reply:
                return reply["return"]

    def close(self) -> None:
        self.sock.close()


def wait_for(log: Path, seen: Callable[[str], bool], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        if seen(text):
            return text
        time.sleep(0.25)
    raise AssertionError(f"not seen within {timeout:g} s; serial console so far:\n{text[-3000:]}")


def disks(text: str) -> str:
    found = re.findall(r"^HOTSTACK-DISKS (.*)$", text, re.M)
    return found[-1].strip() if found else ""


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> GuestImage:
    root = tmp_path_factory.mktemp("guest")
    return build_guest_image(root / "guest.img", root / "cache")


@pytest.fixture
def qemu(image: GuestImage, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, Qmp]]:
    extra, log, qmp_path = tmp_path / "extra.img", tmp_path / "serial.log", tmp_path / "qmp.sock"
    subprocess.run(["qemu-img", "create", "-f", "raw", str(extra), "16M"], check=True,
                   capture_output=True)
    proc = subprocess.Popen(qemu_argv(image.path, extra, log, qmp_path),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    qmp = None
    try:
        qmp = Qmp(qmp_path)
        yield proc, log, qmp
    finally:
        if qmp is not None:
            qmp.close()
        proc.kill()
        proc.wait()


def test_image_is_small_and_raw(image: GuestImage) -> None:
    assert image.format == "raw" and image.path.stat().st_size == image.size_bytes
    assert image.size_bytes < 64 * 2**20 and image.marker == MARKER


def test_guest_boots_takes_dhcp_sees_disks_and_powers_off(
        qemu: tuple[subprocess.Popen[bytes], Path, Qmp], tmp_path: Path) -> None:
    proc, log, qmp = qemu
    started = time.monotonic()
    text = wait_for(log, lambda t: re.search(rf"^{MARKER}\s*$", t, re.M) is not None, 60)
    print(f"marker after {time.monotonic() - started:.1f} s")
    assert re.search(r"^HOTSTACK-IP 10\.0\.2\.15/24 ", text, re.M), text
    assert re.search(r"^HOTSTACK-MODULES .*virtio_net", text, re.M), text
    assert disks(text) == "vda vdb"

    # Hot-plug a third disk, as nova attaches a volume; then unplug it again.
    hot = tmp_path / "hot.img"
    subprocess.run(["qemu-img", "create", "-f", "raw", str(hot), "8M"], check=True,
                   capture_output=True)
    qmp.execute("blockdev-add", driver="raw", **{"node-name": "hot0"},
                file={"driver": "file", "filename": str(hot)})
    qmp.execute("device_add", driver="virtio-blk-pci", drive="hot0", id="hotdisk")
    wait_for(log, lambda t: disks(t) == "vda vdb vdc", 20)
    qmp.execute("device_del", id="hotdisk")
    wait_for(log, lambda t: disks(t) == "vda vdb", 20)

    qmp.execute("system_powerdown")  # ACPI power button, as `virsh shutdown` sends
    proc.wait(timeout=20)
    assert "HOTSTACK-POWEROFF" in log.read_text(errors="replace")
