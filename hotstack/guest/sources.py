"""Where the guest's kernel and busybox come from: this host first, then Debian's packages.

Files taken from Debian's packages are cached under `<cache>/<package>_<version>/`; a cache
directory is complete or absent (it is written aside and renamed into place), so an
interrupted build never leaves a half kernel behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from hotstack.core.errors import CommandError, HotstackError
from hotstack.guest import debian as debian
from hotstack.guest.kernel import Kernel, host_kernel

Progress = Callable[[str], None]
_ORDER = "modules.order"


def _slot(cache: Path, name: str, version: str) -> Path:
    return cache / f"{name}_{version.replace(':', '_')}"


def _commit(tmp: Path, dest: Path) -> None:
    """Rename a filled temp dir into place; a concurrent build that got there first wins."""
    try:
        os.replace(tmp, dest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not dest.is_dir():
            raise


def save_kernel(kernel: Kernel, dest: Path) -> None:
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}."))
    (tmp / "modules").mkdir()
    (tmp / "vmlinuz").write_bytes(kernel.vmlinuz)
    for name, data in kernel.modules.items():
        (tmp / "modules" / f"{name}.ko").write_bytes(data)
    (tmp / _ORDER).write_text("".join(f"{n}\n" for n in kernel.modules))
    (tmp / "version").write_text(kernel.version + "\n")
    _commit(tmp, dest)


def load_kernel(src: Path) -> Kernel:
    order = (src / _ORDER).read_text().split()
    modules = {name: (src / "modules" / f"{name}.ko").read_bytes() for name in order}
    version = (src / "version").read_text().strip()
    return Kernel(version, src.name, (src / "vmlinuz").read_bytes(), modules)


def _newest(cache: Path, prefix: str) -> Path | None:
    slots = [p for p in cache.glob(f"{prefix}*") if p.is_dir()]
    return max(slots, key=lambda p: p.stat().st_mtime) if slots else None


def _fetch(cache: Path, name: str, version: str, unpack: Callable[[Path, Path], None],
           progress: Progress) -> Path:
    """The cache slot of a package, downloading and unpacking it first when absent."""
    slot = _slot(cache, name, version)
    if slot.is_dir():
        return slot
    cache.mkdir(parents=True, exist_ok=True)
    progress(f"downloading {name} {version} from the Debian mirror")
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download.") as tmp:
        deb = debian.download(name, version, Path(tmp))
        progress(f"unpacking {deb.name}")
        unpack(deb, slot)
    return slot


def _unpack_kernel(deb: Path, slot: Path) -> None:
    save_kernel(debian.scan_kernel(deb), slot)


def _unpack_busybox(deb: Path, slot: Path) -> None:
    found = dict(debian.deb_files(deb, lambda p: p.endswith("/bin/busybox")))
    if not found:
        raise HotstackError(f"{deb.name} holds no busybox binary")
    tmp = Path(tempfile.mkdtemp(dir=slot.parent, prefix=f".{slot.name}."))
    (tmp / "busybox").write_bytes(next(iter(found.values())))
    _commit(tmp, slot)


def _candidates(cache: Path) -> dict[str, dict[str, str]] | None:
    """apt's current versions; None when apt cannot answer but an earlier build cached both."""
    try:
        return debian.candidates()
    except CommandError:
        if _newest(cache, "linux-image-") and _newest(cache, debian.BUSYBOX):
            return None
        raise


def _busybox_slot(cache: Path, table: dict[str, dict[str, str]] | None,
                  progress: Progress) -> Path:
    if table is None:
        return _newest(cache, debian.BUSYBOX) or cache
    version = table[debian.BUSYBOX]["Version"]
    return _fetch(cache, debian.BUSYBOX, version, _unpack_busybox, progress)


def _kernel_slot(cache: Path, table: dict[str, dict[str, str]] | None,
                 progress: Progress) -> Path:
    if table is None:
        return _newest(cache, "linux-image-") or cache
    name, version = debian.kernel_package(table[debian.KERNEL_META])
    return _fetch(cache, name, version, _unpack_kernel, progress)


def sources(cache: Path, progress: Progress) -> tuple[Kernel, bytes]:
    """The kernel (this host's when usable, else Debian's) and a static busybox (Debian's)."""
    table = _candidates(cache)
    busybox = (_busybox_slot(cache, table, progress) / "busybox").read_bytes()
    kernel = host_kernel() or load_kernel(_kernel_slot(cache, table, progress))
    progress(f"kernel {kernel.version} from {kernel.origin}; modules: "
             f"{' '.join(kernel.modules) or 'none needed'}")
    return kernel, busybox
