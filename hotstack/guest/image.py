"""hotstack's own guest image, built from this host and Debian's packages with no download
of any cloud image.

The disk is one FAT filesystem over the whole disk (no partition table): mkfs.vfat -C makes
it in a plain file, syslinux --install writes its boot sector and loader through mtools and
mcopy adds the kernel, the initramfs and the boot menu — no loop device, no mount, no root.
SeaBIOS boots such a disk directly. The same disk boots under UEFI too: systemd-boot's EFI
binary sits at UEFI's removable-media path /EFI/BOOT/BOOTX64.EFI, which OVMF finds on the
partition-less FAT, and starts the kernel (its own EFI stub) from /loader/entries/hotstack.conf
with no menu. (SYSLINUX's EFI build, which would read the same syslinux.cfg, hands the kernel
over through the EFI handover protocol and faults under OVMF below ~200 MiB of guest memory;
systemd-boot boots hotstack.tiny's 192 MiB.) A `.qcow2` output name converts it with qemu-img.

A build is skipped when the output exists and the hash of everything that went into it
(kernel, initramfs, boot menu, loaders, layout) matches the stamp written beside it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hotstack.core import distro, runner
from hotstack.core.errors import HotstackError
from hotstack.core.fsutil import sha256, write_if_changed
from hotstack.guest import init
from hotstack.guest import initramfs as guest_initramfs
from hotstack.guest import sources as guest_sources

LAYOUT = "fat-superfloppy-bios-uefi-2"  # change when the disk layout changes, to force a rebuild
_KERNEL, _INITRD, _CFG = "vmlinuz", "initrd.gz", "syslinux.cfg"
# UEFI's removable-media boot path for x86_64; systemd-boot's settings and its one entry.
EFI_LOADER, LOADER_CONF, ENTRY = "EFI/BOOT/BOOTX64.EFI", "loader/loader.conf", "loader/entries/hotstack.conf"
SYSTEMD_BOOT = Path("/usr/lib/systemd/boot/efi/systemd-bootx64.efi")  # every family's package puts it here
SERIAL = "48535354"  # the FAT's volume serial, fixed for a reproducible image; the guest prints it


def _hint() -> str:
    return f"install the guest image's tools ({distro.hint('guest-tools', 'qemu-img')})"


@dataclass(frozen=True)
class GuestImage:
    path: Path
    format: str  # "raw" or "qcow2"
    size_bytes: int
    kernel_version: str
    marker: str
    built: bool = True  # False when the existing image was kept

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


def image_format(out: Path) -> str:
    return "qcow2" if out.suffix == ".qcow2" else "raw"


def stamp_path(out: Path) -> Path:
    return out.with_name(out.name + ".json")


def inputs_hash(files: dict[str, bytes], fmt: str) -> str:
    """Everything that goes into the disk: its layout, format and each file's name and content."""
    parts = [LAYOUT, fmt, *(f"{name} {sha256(data)}" for name, data in sorted(files.items()))]
    return sha256("\n".join(parts))


def disk_kib(payload: int) -> int:
    """FAT size for the payload plus room for the loader and FAT overhead, in whole MiB."""
    mib = -(-(payload + 2 * 1024 * 1024) // (1024 * 1024))
    return mib * 1024


def mkfs_argv(img: Path, kib: int) -> list[str]:
    return ["mkfs.vfat", "-C", "-n", "HOTSTACK", "-i", SERIAL, str(img), str(kib)]


def syslinux_argv(img: Path) -> list[str]:
    return ["syslinux", "--install", str(img)]


# The whole-disk FAT has no partition table; mtools must not insist on one.
_MTOOLS = ["env", "MTOOLS_SKIP_CHECK=1"]


def mcopy_argv(img: Path, src: Path, dest: str = "") -> list[str]:
    return [*_MTOOLS, "mcopy", "-o", "-i", str(img), str(src), f"::/{dest or src.name}"]


def mmd_argv(img: Path, folder: str) -> list[str]:
    return [*_MTOOLS, "mmd", "-i", str(img), f"::/{folder}"]


def serial_argv(img: Path, serial: str) -> list[str]:
    """Give the FAT another volume serial (8 hex digits), keeping its label."""
    return [*_MTOOLS, "mlabel", "-i", str(img), "-N", serial, "::HOTSTACK"]


def volume_id(serial: str) -> str:
    """How the FAT's serial reads on the guest's console (and in blkid): 48535354 -> 4853-5354."""
    return f"{serial[:4]}-{serial[4:]}".upper()


def folders(names: list[str]) -> list[str]:
    """The folders the files need, each after its parent: ["EFI", "EFI/BOOT"]."""
    found = {"/".join(n.split("/")[:i]) for n in names for i in range(1, n.count("/") + 1)}
    return sorted(found, key=lambda f: (f.count("/"), f))


def convert_argv(raw: Path, dst: Path) -> list[str]:
    return ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(dst)]


def kept_image(out: Path, digest: str) -> GuestImage | None:
    """The existing image when its stamp says it was built from these very inputs."""
    try:
        stamp = json.loads(stamp_path(out).read_text())
        if stamp.get("inputs") == digest and out.stat().st_size == stamp["size_bytes"]:
            return GuestImage(out, stamp["format"], stamp["size_bytes"],
                              stamp["kernel_version"], init.MARKER, built=False)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _assemble(work: Path, files: dict[str, bytes], fmt: str) -> Path:
    """The disk from files named by their path on it ("EFI/BOOT/BOOTX64.EFI")."""
    for name, data in files.items():
        (work / name.replace("/", "_")).write_bytes(data)
    raw = work / "disk.raw"
    runner.run(mkfs_argv(raw, disk_kib(sum(map(len, files.values())))), hint=_hint())
    runner.run(syslinux_argv(raw), hint=_hint())
    for folder in folders(list(files)):
        runner.run(mmd_argv(raw, folder), hint=_hint())
    for name in files:
        runner.run(mcopy_argv(raw, work / name.replace("/", "_"), name), hint=_hint())
    if fmt == "raw":
        return raw
    runner.run(convert_argv(raw, work / "disk.qcow2"), timeout=300, hint=_hint())
    return work / "disk.qcow2"


def efi_loader() -> bytes:
    """systemd-boot's EFI binary."""
    try:
        return SYSTEMD_BOOT.read_bytes()
    except OSError:
        raise HotstackError(f"the guest image's UEFI boot loader {SYSTEMD_BOOT} is missing",
                            hint=f"install it ({distro.hint('guest-efi')})") from None


def efi_files(serial: str) -> dict[str, bytes]:
    """The UEFI side of the disk: the loader, its settings and the entry (which carries the
    FAT's serial, as SYSLINUX appends it on the BIOS side)."""
    return {EFI_LOADER: efi_loader(), LOADER_CONF: init.loader_conf().encode(),
            ENTRY: init.boot_entry(_KERNEL, _INITRD, volume_id(serial)).encode()}


def with_serial(src: Path, dst: Path, serial: str) -> Path:
    """A raw copy of the image whose FAT carries another volume serial (and its UEFI entry with
    it): the guest's HOTSTACK-BOOT line then tells a boot from the copy (a rescue disk) from a
    boot from the original."""
    shutil.copyfile(src, dst)
    runner.run(serial_argv(dst, serial), hint=_hint())
    with tempfile.TemporaryDirectory(dir=dst.parent, prefix=f".{dst.name}.") as tmp:
        entry = Path(tmp, "hotstack.conf")
        entry.write_text(init.boot_entry(_KERNEL, _INITRD, volume_id(serial)))
        runner.run(mcopy_argv(dst, entry, ENTRY), hint=_hint())
    return dst


def build_guest_image(out: Path, cache: Path, *,
                      progress: Callable[[str], None] | None = None) -> GuestImage:
    """Build (or keep, when unchanged) the guest disk image at out; cache holds the sources."""
    say = progress or (lambda _message: None)
    kernel, busybox = guest_sources.sources(cache, say)
    initrd = guest_initramfs.initramfs(busybox, kernel.modules)
    cfg = init.syslinux_cfg(_KERNEL, _INITRD)
    files = {_KERNEL: kernel.vmlinuz, _INITRD: initrd, _CFG: cfg.encode(), **efi_files(SERIAL)}
    fmt = image_format(out)
    digest = inputs_hash(files, fmt)
    kept = kept_image(out, digest)
    if kept is not None:
        say(f"{out} is up to date")
        return kept
    say(f"building {fmt} image {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        os.replace(_assemble(Path(tmp), files, fmt), out)
    image = GuestImage(out, fmt, out.stat().st_size, kernel.version, init.MARKER)
    stamp = {**image.to_json(), "inputs": digest, "origin": kernel.origin}
    stamp.pop("built")
    write_if_changed(stamp_path(out), json.dumps(stamp, indent=2, sort_keys=True) + "\n")
    return image
