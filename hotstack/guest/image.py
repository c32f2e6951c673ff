"""hotstack's own guest image, built from this host and Debian's packages with no download
of any cloud image.

The disk is one FAT filesystem over the whole disk (no partition table): mkfs.vfat -C makes
it in a plain file, syslinux --install writes its boot sector and loader through mtools and
mcopy adds the kernel, the initramfs and the boot menu — no loop device, no mount, no root.
SeaBIOS boots such a disk directly. A `.qcow2` output name converts it with qemu-img.

A build is skipped when the output exists and the hash of everything that went into it
(kernel, initramfs, boot menu, layout) matches the stamp written beside it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hotstack.core import distro, runner
from hotstack.core.fsutil import sha256, write_if_changed
from hotstack.guest import init
from hotstack.guest import initramfs as guest_initramfs
from hotstack.guest import sources as guest_sources

LAYOUT = "fat-superfloppy-1"  # change when the disk layout changes, to force a rebuild
_KERNEL, _INITRD, _CFG = "vmlinuz", "initrd.gz", "syslinux.cfg"


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


def inputs_hash(kernel: bytes, initrd: bytes, cfg: str, fmt: str) -> str:
    parts = [LAYOUT, fmt, sha256(kernel), sha256(initrd), sha256(cfg)]
    return sha256("\n".join(parts))


def disk_kib(payload: int) -> int:
    """FAT size for the payload plus room for the loader and FAT overhead, in whole MiB."""
    mib = -(-(payload + 2 * 1024 * 1024) // (1024 * 1024))
    return mib * 1024


def mkfs_argv(img: Path, kib: int) -> list[str]:
    return ["mkfs.vfat", "-C", "-n", "HOTSTACK", "-i", "48535354", str(img), str(kib)]


def syslinux_argv(img: Path) -> list[str]:
    return ["syslinux", "--install", str(img)]


def mcopy_argv(img: Path, src: Path) -> list[str]:
    # The whole-disk FAT has no partition table; mtools must not insist on one.
    return ["env", "MTOOLS_SKIP_CHECK=1", "mcopy", "-o", "-i", str(img), str(src),
            f"::/{src.name}"]


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
    for name, data in files.items():
        (work / name).write_bytes(data)
    raw = work / "disk.raw"
    runner.run(mkfs_argv(raw, disk_kib(sum(map(len, files.values())))), hint=_hint())
    runner.run(syslinux_argv(raw), hint=_hint())
    for name in files:
        runner.run(mcopy_argv(raw, work / name), hint=_hint())
    if fmt == "raw":
        return raw
    runner.run(convert_argv(raw, work / "disk.qcow2"), timeout=300, hint=_hint())
    return work / "disk.qcow2"


def build_guest_image(out: Path, cache: Path, *,
                      progress: Callable[[str], None] | None = None) -> GuestImage:
    """Build (or keep, when unchanged) the guest disk image at out; cache holds the sources."""
    say = progress or (lambda _message: None)
    kernel, busybox = guest_sources.sources(cache, say)
    initrd = guest_initramfs.initramfs(busybox, kernel.modules)
    cfg = init.syslinux_cfg(_KERNEL, _INITRD)
    fmt = image_format(out)
    digest = inputs_hash(kernel.vmlinuz, initrd, cfg, fmt)
    kept = kept_image(out, digest)
    if kept is not None:
        say(f"{out} is up to date")
        return kept
    say(f"building {fmt} image {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        files = {_KERNEL: kernel.vmlinuz, _INITRD: initrd, _CFG: cfg.encode()}
        os.replace(_assemble(Path(tmp), files, fmt), out)
    image = GuestImage(out, fmt, out.stat().st_size, kernel.version, init.MARKER)
    stamp = {**image.to_json(), "inputs": digest, "origin": kernel.origin}
    stamp.pop("built")
    write_if_changed(stamp_path(out), json.dumps(stamp, indent=2, sort_keys=True) + "\n")
    return image
