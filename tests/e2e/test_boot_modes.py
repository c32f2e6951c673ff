"""UEFI guests and nova's stable device rescue on the e2e cloud, with hotstack's own guest image.

The guest's `HOTSTACK-BOOT <firmware> <FAT serial> <disk>` line tells how it booted. A UEFI
server is the guest image uploaded again with hw_firmware_type=uefi and hw_machine_type=q35:
nova picks the loader from the host's firmware descriptors (mounted into nova-compute) and the
guest says `uefi`. The rescue image is a copy of the guest image with another FAT serial and
hw_rescue_device=disk, hw_rescue_bus=virtio: nova keeps the server's own disk as vda, adds the
rescue disk last (vdb) with boot order 1, and the guest says it booted the rescue serial from
vdb; unrescue brings back the original boot. Times are printed (run with -s to see them).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from e2efixtures import Deployment

from hotstack.cloud.glance import ensure_image
from hotstack.cloud.post_setup import GUEST_PROPERTIES
from hotstack.core.credentials import connect
from hotstack.core.settings_cloud import SMOKE_FLAVOR
from hotstack.guest.image import SERIAL, image_format, volume_id, with_serial
from hotstack.guest.init import MARKER
from hotstack.host import firmware
from hotstack.host import libvirt as host_libvirt

pytestmark = [pytest.mark.e2e, pytest.mark.host]

UEFI_PROPERTIES = {**GUEST_PROPERTIES, "hw_firmware_type": "uefi", "hw_machine_type": "q35"}
# virtio, not usb: SeaBIOS boots both, but reads a USB disk ~5x slower under TCG (docs/guest-boot.md),
# and the guest sees a virtio disk without USB drivers.
RESCUE_PROPERTIES = {**GUEST_PROPERTIES, "hw_rescue_device": "disk", "hw_rescue_bus": "virtio"}
RESCUE_SERIAL = "BEEF5E5C"


def last(kind: str, text: str) -> str:
    found = re.findall(rf"^HOTSTACK-{kind} (.*)$", text, re.M)
    return found[-1].strip() if found else ""


def wait_console(conn: Any, server: Any, seen: Callable[[str], bool], timeout: float = 240) -> str:
    deadline, text = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        text = str(conn.compute.get_server_console_output(server)["output"] or "")
        if seen(text):
            return text
        time.sleep(3)
    raise AssertionError(f"not seen within {timeout:g} s; console so far:\n{text[-3000:]}")


def booted(expected: str) -> Callable[[str], bool]:
    """The console's last boot line is this one, and that boot has printed its marker."""
    return lambda text: last("BOOT", text) == expected and MARKER in text.rsplit("HOTSTACK-BOOT", 1)[-1]


@pytest.fixture
def uploaded(e2e: Deployment) -> Iterator[Callable[[str, Path, dict[str, str]], Any]]:
    """Upload images for one test (public, as post-setup makes them); all deleted afterwards."""
    admin, names = connect(e2e.settings, e2e.paths), []

    def upload(name: str, path: Path, properties: dict[str, str]) -> Any:
        names.append(name)
        ensure_image(admin, name, path, image_format(path), "bare", properties)
        return admin.image.find_image(name)

    yield upload
    for name in names:
        if (image := admin.image.find_image(name)) is not None:
            admin.image.delete_image(image)


@pytest.fixture
def user(e2e: Deployment) -> Any:
    return connect(e2e.settings, e2e.paths, as_user=True)


@pytest.fixture
def boot(user: Any) -> Iterator[Callable[[str, Any], tuple[Any, float]]]:
    """Boot a server as the deployment's user on the smoke flavor: (server, seconds to ACTIVE);
    every one deleted afterwards."""
    made: list[Any] = []

    def create(name: str, image: Any) -> tuple[Any, float]:
        started = time.monotonic()
        server = user.create_server(name, image=image.id, flavor=SMOKE_FLAVOR, network="private", wait=True,
                                    timeout=300)
        made.append(server)
        return server, time.monotonic() - started

    yield create
    for server in made:
        user.delete_server(server.id, wait=True, timeout=180)  # by id: see test_cloud.py


def test_a_uefi_server_boots_the_guest_image_through_ovmf(e2e: Deployment, uploaded: Any, user: Any,
                                                          boot: Any) -> None:
    image = uploaded("e2e-guest-uefi", e2e.paths.guest_image, UEFI_PROPERTIES)
    server, active_s = boot("e2e-uefi", image)
    started = time.monotonic()
    expected = booted(f"uefi {volume_id(SERIAL)} vda")
    # and its network works on q35 (virtio behind PCIe root ports): a DHCP lease from OVN
    wait_console(user, server, lambda t: expected(t) and "HOTSTACK-IP " in t.rsplit("HOTSTACK-BOOT", 1)[-1])
    print(f"\nUEFI server: ACTIVE after {active_s:.1f} s, marker {time.monotonic() - started:.1f} s later")
    # libvirt runs it with the loader nova took from the host's descriptors, on q35
    name = connect(e2e.settings, e2e.paths).compute.get_server(server.id).instance_name
    conn = host_libvirt.connect("qemu:///system")
    try:
        xml = conn.lookupByName(name).XMLDesc(0)
    finally:
        conn.close()
    chosen = firmware.plain_uefi(firmware.descriptors())
    assert chosen is not None and str(chosen.code) in xml and "pflash" in xml, xml
    assert re.search(r"machine=['\"]pc-q35-", xml), xml


def test_stable_device_rescue_boots_the_rescue_disk_and_unrescue_the_server_again(
        e2e: Deployment, uploaded: Any, user: Any, boot: Any, tmp_path: Path) -> None:
    assert image_format(e2e.paths.guest_image) == "raw"  # hotstack's own image: its FAT can be relabelled
    rescue = uploaded("e2e-guest-rescue", with_serial(e2e.paths.guest_image, tmp_path / "rescue.img", RESCUE_SERIAL),
                      RESCUE_PROPERTIES)
    normal = f"bios {volume_id(SERIAL)} vda"
    server, _ = boot("e2e-rescue", user.image.find_image("hotstack-guest"))
    wait_console(user, server, booted(normal))

    started = time.monotonic()
    user.compute.rescue_server(server, image=rescue.id)
    user.compute.wait_for_server(server, status="RESCUE", failures=["ERROR"], wait=300)
    rescued_s = time.monotonic() - started
    text = wait_console(user, server, booted(f"bios {volume_id(RESCUE_SERIAL)} vdb"))
    print(f"\nrescue: RESCUE after {rescued_s:.1f} s, rescue marker {time.monotonic() - started:.1f} s after the call")
    assert last("DISKS", text) == "vda vdb"  # the server's own disk stays vda, the rescue disk came last

    started = time.monotonic()
    user.compute.unrescue_server(server)
    user.compute.wait_for_server(server, status="ACTIVE", failures=["ERROR"], wait=300)
    text = wait_console(user, server, booted(normal))
    print(f"unrescue: ACTIVE with its own marker {time.monotonic() - started:.1f} s after the call")
    assert last("DISKS", text) == "vda"
