"""Which kernel the guest boots and which of its modules it must load, in what order.

A guest with no virtio drivers has no disk and no NIC, so the image carries the few modules
that make them work. Dependencies come from the modules themselves (`depends=` in their
.modinfo section) or from the host's modules.dep; the order is a depth-first walk that puts
every dependency before its user. Modules built into the kernel are simply not loaded.
"""

from __future__ import annotations

import gzip
import lzma
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hotstack.core import distro, runner
from hotstack.core.errors import CommandError

# Without these the guest has neither a NIC nor a disk.
REQUIRED = ("virtio_pci", "virtio_net", "virtio_blk")
# Loaded when the kernel has them as modules: split-out virtio PCI helpers, the failover
# pair virtio_net may want, and the ACPI power button with its event device (clean stop).
OPTIONAL = ("virtio_pci_modern_dev", "virtio_pci_legacy_dev", "failover", "net_failover",
            "button", "evdev")

_SUFFIXES = (".ko.xz", ".ko.gz", ".ko.zst", ".ko")
_DEPENDS = re.compile(rb"(?:^|\x00)depends=([^\x00]*)\x00")


@dataclass(frozen=True)
class Kernel:
    """A kernel ready to go into the image: its modules already in load order."""

    version: str
    origin: str  # "host" or the Debian package it came from
    vmlinuz: bytes
    modules: dict[str, bytes] = field(default_factory=dict)  # name -> .ko, load order


def module_name(path: str) -> str:
    """`.../virtio-rng.ko.xz` -> `virtio_rng` (the kernel treats - and _ alike)."""
    base = path.rsplit("/", 1)[-1]
    for suffix in _SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base.replace("-", "_")


def is_module(path: str) -> bool:
    return path.endswith(_SUFFIXES)


def modinfo_depends(ko: bytes) -> list[str]:
    """The direct dependencies a module records in its .modinfo section."""
    match = _DEPENDS.search(ko)
    if not match or not match.group(1):
        return []
    return [module_name(d.decode()) for d in match.group(1).split(b",") if d]


def parse_modules_dep(text: str) -> dict[str, tuple[str, list[str]]]:
    """modules.dep -> {name: (relative path, [dependency names])}."""
    table: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        path, sep, deps = line.partition(":")
        if sep:
            table[module_name(path)] = (path.strip(), [module_name(d) for d in deps.split()])
    return table


def parse_builtin(text: str) -> set[str]:
    return {module_name(line.strip()) for line in text.splitlines() if line.strip()}


def load_order(deps: Mapping[str, Iterable[str]], builtin: set[str],
               required: Iterable[str] = REQUIRED,
               optional: Iterable[str] = OPTIONAL) -> list[str]:
    """Modules to insmod, each after its dependencies; ValueError names a missing one."""
    order: list[str] = []

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in order or name in builtin or name in trail:
            return
        if name not in deps:
            raise ValueError(f"module {name} (needed by {' -> '.join(trail) or 'the guest'}) "
                             "is neither built in nor a module of this kernel")
        for dep in deps[name]:
            visit(dep, (*trail, name))
        order.append(name)

    for name in required:
        visit(name, ())
    for name in optional:
        if name in deps:
            visit(name, ())
    return order


def decompress(path: str, data: bytes) -> bytes:
    """A module file's plain ELF bytes (.ko.zst needs the zstd program)."""
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if path.endswith(".zst"):
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp, "m.zst"), Path(tmp, "m.ko")
            src.write_bytes(data)
            runner.run(["zstd", "-q", "-d", "-f", "-o", str(dst), str(src)],
                    hint=f"install zstd ({distro.hint('zstd')})")
            return dst.read_bytes()
    return data


def host_kernel(boot: Path = Path("/boot"), modroot: Path = Path("/lib/modules"),
                release: str | None = None) -> Kernel | None:
    """The running kernel when /boot and /lib/modules hold it and it has the drivers; else None."""
    release = release or os.uname().release
    vmlinuz, moddir = boot / f"vmlinuz-{release}", modroot / release
    try:
        table = parse_modules_dep((moddir / "modules.dep").read_text())
        builtin_file = moddir / "modules.builtin"
        builtin = parse_builtin(builtin_file.read_text()) if builtin_file.exists() else set()
        order = load_order({n: d for n, (_, d) in table.items()}, builtin)
        modules = {}
        for name in order:
            path = table[name][0]
            modules[name] = decompress(path, (moddir / path).read_bytes())
        return Kernel(release, "host", vmlinuz.read_bytes(), modules)
    except (OSError, ValueError, CommandError):
        return None
