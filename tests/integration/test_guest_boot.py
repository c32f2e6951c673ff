"""Boot hotstack's guest image under qemu TCG, as nova will, and read its serial console.

qemu's user networking with restrict=on answers DHCP inside qemu and lets no packet leave
the machine. A disk is hot-plugged and unplugged through QMP the way nova attaches a volume,
and the ACPI power button (libvirt's clean shutdown) must power the guest off. A second boot
puts the guest on 169.254/16 with the metadata address forwarded (slirp guestfwd) to a
local one-shot responder, to prove the metadata read and its console line. The same image
boots under UEFI (OVMF, found through the host's firmware descriptors as nova finds it, on
q35 with a copy of the variable store), and a rescue disk added last with boot order 1 — nova's
stable device rescue — boots before the original disk, under either firmware.
"""

from __future__ import annotations

import contextlib
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

from hotstack.cloud.smoke import greeting
from hotstack.core import distro
from hotstack.core.settings_cloud import DEFAULT_FLAVORS, SMOKE_FLAVOR
from hotstack.guest.image import SERIAL, GuestImage, build_guest_image, volume_id, with_serial
from hotstack.guest.init import MARKER, TCP_GREETING, TCP_PORT, heartbeats
from hotstack.host import firmware

QEMU = distro.current().qemu  # /usr/libexec/qemu-kvm on EL
TOOLS = (QEMU, "qemu-img", "mkfs.vfat", "syslinux", "mcopy", "apt-cache", "apt-get")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not all(map(shutil.which, TOOLS)),
                       reason=f"needs {', '.join(TOOLS)} (qemu-system-x86, qemu-utils, dosfstools, "
                              "syslinux, mtools)"),
    pytest.mark.timeout(180),
]


SLIRP = "user,id=n0,restrict=on"  # DHCP answered inside qemu; no packet leaves the machine
UUID = "0f1e2d3c-aaaa-bbbb-cccc-123456789abc"


RESCUE_SERIAL = "BEEF5E5C"  # the rescue disk's FAT serial: its boot reads BEEF-5E5C


def uefi_argv(tmp_path: Path) -> list[str]:
    """q35 with OVMF as two pflash units: the code read-only, a private copy of the variable store;
    with the memory of the flavor nova boots it with (UEFI loaders have failed with little)."""
    found = firmware.plain_uefi(firmware.descriptors())
    if found is None or firmware.missing_files(found):
        pytest.skip(f"needs UEFI firmware for q35 ({distro.hint('ovmf')})")
    nvram = tmp_path / "VARS.fd"
    shutil.copyfile(found.vars_template, nvram)
    return ["-machine", "q35,accel=tcg", "-m", str(DEFAULT_FLAVORS[SMOKE_FLAVOR].ram_mb),
            "-drive", f"if=pflash,unit=0,format=raw,readonly=on,file={found.code}",
            "-drive", f"if=pflash,unit=1,format=raw,file={nvram}"]


def qemu_argv(image: Path, disks: list[Path], log: Path, qmp: Path, netdev: str,
              machine: list[str] | None = None, rescue: Path | None = None) -> list[str]:
    # Each disk a device of its own, in order (their PCI slots, so vda, vdb, ... follow it); a rescue
    # disk is appended last and booted first, as nova's stable device rescue does.
    drives = []
    for i, disk in enumerate([image, *disks, *([rescue] if rescue else [])]):
        boot = ",bootindex=1" if disk == rescue else ""
        drives += ["-drive", f"file={disk},if=none,id=d{i},format=raw", "-device", f"virtio-blk-pci,drive=d{i}{boot}"]
    return [QEMU, *(machine or ["-machine", "accel=tcg", "-m", "256"]), "-nographic", "-monitor", "none",
            "-serial", f"file:{log}", "-qmp", f"unix:{qmp},server=on,wait=off", *drives,
            "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def metadata_netdev(tmp_path: Path) -> str:
    """Slirp on 169.254/16 with the metadata address forwarded to a one-shot local responder."""
    responder = tmp_path / "metadata.sh"
    body = json.dumps({"uuid": UUID, "name": "hotstack-test"})
    responder.write_text("#!/bin/sh\nread -r request\n"
                         f"printf 'HTTP/1.0 200 OK\\r\\n\\r\\n%s\\n' '{body}'\n")
    responder.chmod(0o755)
    return (f"{SLIRP},net=169.254.0.0/16,host=169.254.169.2,dhcpstart=169.254.169.15,"
            f"guestfwd=tcp:169.254.169.254:80-cmd:{responder}")


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


@contextlib.contextmanager
def booted(image: GuestImage, tmp_path: Path, netdev: str = SLIRP, disks: tuple[Path, ...] = (),
           machine: list[str] | None = None,
           rescue: Path | None = None) -> Iterator[tuple[subprocess.Popen[bytes], Path, Qmp]]:
    """qemu running the image; always killed on the way out."""
    log, qmp_path = tmp_path / "serial.log", tmp_path / "qmp.sock"
    proc = subprocess.Popen(qemu_argv(image.path, list(disks), log, qmp_path, netdev, machine, rescue),
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


def blank_disk(path: Path, size: str) -> Path:
    subprocess.run(["qemu-img", "create", "-f", "raw", str(path), size], check=True,
                   capture_output=True)
    return path


def marker_seen(text: str) -> bool:
    return re.search(rf"^{MARKER}\s*$", text, re.M) is not None


def boot_line(text: str) -> str:
    found = re.findall(r"^HOTSTACK-BOOT (.*)$", text, re.M)
    return found[-1].strip() if found else ""


def test_image_is_small_and_raw(image: GuestImage) -> None:
    assert image.format == "raw" and image.path.stat().st_size == image.size_bytes
    assert image.size_bytes < 64 * 2**20 and image.marker == MARKER


def test_guest_boots_takes_dhcp_sees_disks_and_powers_off(image: GuestImage,
                                                          tmp_path: Path) -> None:
    extra = blank_disk(tmp_path / "extra.img", "16M")
    with booted(image, tmp_path, disks=(extra,)) as (proc, log, qmp):
        started = time.monotonic()
        text = wait_for(log, marker_seen, 60)
        print(f"marker after {time.monotonic() - started:.1f} s")
        assert re.search(r"^HOTSTACK-IP 10\.0\.2\.15/24 ", text, re.M), text
        assert re.search(r"^HOTSTACK-MODULES .*virtio_net", text, re.M), text
        assert boot_line(text) == f"bios {volume_id(SERIAL)} vda"
        assert disks(text) == "vda vdb"

        # Hot-plug a third disk, as nova attaches a volume; then unplug it again.
        hot = blank_disk(tmp_path / "hot.img", "8M")
        qmp.execute("blockdev-add", driver="raw", **{"node-name": "hot0"},
                    file={"driver": "file", "filename": str(hot)})
        qmp.execute("device_add", driver="virtio-blk-pci", drive="hot0", id="hotdisk")
        wait_for(log, lambda t: disks(t) == "vda vdb vdc", 20)
        qmp.execute("device_del", id="hotdisk")
        wait_for(log, lambda t: disks(t) == "vda vdb", 20)

        # Two heartbeats of one boot, uptime going on (what a live migration's new console shows)
        beats = heartbeats(wait_for(log, lambda t: len(heartbeats(t)) >= 2, 30))
        assert len({boot for boot, _ in beats}) == 1 and beats[-1][1] > beats[0][1], beats

        qmp.execute("system_powerdown")  # ACPI power button, as `virsh shutdown` sends
        proc.wait(timeout=20)
        assert "HOTSTACK-POWEROFF" in log.read_text(errors="replace")


def test_guest_reads_the_metadata_service_and_answers_tcp(image: GuestImage, tmp_path: Path) -> None:
    port = free_port()
    netdev = f"{metadata_netdev(tmp_path)},hostfwd=tcp:127.0.0.1:{port}-:{TCP_PORT}"
    with booted(image, tmp_path, netdev=netdev) as (_, log, _qmp):
        # Until the whole line is in: the serial log is read while the guest still writes it.
        text = wait_for(log, lambda t: re.search(r"^HOTSTACK-METADATA .*\n", t, re.M) is not None, 60)
        assert re.search(rf"^HOTSTACK-METADATA ok {UUID}\s*$", text, re.M), text
        assert re.search(r"^HOTSTACK-IP 169\.254\.169\.15/16 ", text, re.M), text
        # The greeter smoke connects to through the floating IP; twice, as it serves every client.
        for _ in range(2):
            deadline = time.monotonic() + 20
            while (line := greeting("127.0.0.1", port)) is None and time.monotonic() < deadline:
                time.sleep(0.5)
            assert line == TCP_GREETING


def test_the_same_image_boots_under_uefi_on_q35(image: GuestImage, tmp_path: Path) -> None:
    with booted(image, tmp_path, machine=uefi_argv(tmp_path)) as (_, log, _qmp):
        started = time.monotonic()
        text = wait_for(log, marker_seen, 120)
        print(f"UEFI: marker after {time.monotonic() - started:.1f} s")
        assert boot_line(text) == f"uefi {volume_id(SERIAL)} vda"
        assert re.search(r"^HOTSTACK-IP 10\.0\.2\.15/24 ", text, re.M), text
        assert disks(text) == "vda"


@pytest.mark.parametrize("mode", ["bios", "uefi"])
def test_a_rescue_disk_added_last_with_boot_order_one_boots_first(image: GuestImage, tmp_path: Path,
                                                                  mode: str) -> None:
    """The original disk keeps its name (vda), the rescue copy with its own FAT serial comes last
    (vdb) and boots: the boot line names the rescue disk's serial and vdb."""
    rescue = with_serial(image.path, tmp_path / "rescue.img", RESCUE_SERIAL)
    machine = uefi_argv(tmp_path) if mode == "uefi" else None
    with booted(image, tmp_path, machine=machine, rescue=rescue) as (_, log, _qmp):
        started = time.monotonic()
        text = wait_for(log, marker_seen, 120)
        print(f"rescue under {mode}: marker after {time.monotonic() - started:.1f} s")
        assert boot_line(text) == f"{mode} {volume_id(RESCUE_SERIAL)} vdb"
        assert disks(text) == "vda vdb"
