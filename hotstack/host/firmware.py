"""UEFI firmware for guests, as the host's firmware descriptors describe it.

A descriptor (QEMU's firmware interop JSON, shipped by Debian's `ovmf`, Fedora's `edk2-ovmf`)
names a firmware's code and variable-store template and the machine types it serves. Two
readers must agree on them: libvirt on the host, and nova-compute, which picks the loader and
NVRAM template for an image with `hw_firmware_type=uefi` from the descriptors *it* sees and
hands libvirt those paths. nova-compute's image carries trixie's own descriptors, whose paths
need not exist on the host, so it gets the host's descriptor directories mounted over its own
(catalog: nova-compute; host facts: `firmware_dirs`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotstack.host.system import Host

# Where QEMU's interop spec puts descriptors (nova and libvirt read both; $XDG_CONFIG_HOME neither, here).
DESCRIPTOR_DIRS = Host().qemu_firmware


@dataclass(frozen=True)
class Firmware:
    descriptor: Path
    code: Path
    vars_template: Path
    machines: tuple[str, ...]  # globs, e.g. pc-q35-*
    features: tuple[str, ...]

    @property
    def secure_boot(self) -> bool:
        return "secure-boot" in self.features

    def serves(self, machine: str) -> bool:
        """Does it serve this machine family (`pc-q35`, `pc-i440fx`)?"""
        return any(glob.startswith(machine) for glob in self.machines)


def present_dirs(dirs: Iterable[Path] = DESCRIPTOR_DIRS) -> list[Path]:
    return [d for d in dirs if d.is_dir()]


def _parse(path: Path, spec: Any) -> Firmware | None:
    """An x86_64 UEFI flash firmware of a descriptor; None for any other kind or shape."""
    try:
        if "uefi" not in spec["interface-types"] or spec["mapping"]["device"] != "flash":
            return None
        machines = [m for t in spec["targets"] if t["architecture"] == "x86_64" for m in t["machines"]]
        mapping = spec["mapping"]
        if not machines:
            return None
        return Firmware(path, Path(mapping["executable"]["filename"]), Path(mapping["nvram-template"]["filename"]),
                        tuple(machines), tuple(spec.get("features", ())))
    except (KeyError, TypeError):
        return None


def descriptors(dirs: Iterable[Path] = DESCRIPTOR_DIRS) -> list[Firmware]:
    """Every readable x86_64 UEFI descriptor, in the order nova reads them (directory, then name)."""
    found = []
    for folder in present_dirs(dirs):
        for path in sorted(folder.glob("*.json")):
            try:
                firmware = _parse(path, json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
            if firmware is not None:
                found.append(firmware)
    return found


def plain_uefi(found: Iterable[Firmware], machine: str = "pc-q35") -> Firmware | None:
    """The firmware nova picks for an image without secure boot on this machine family: the
    first such descriptor (whether its files exist is the caller's question, as nova never asks)."""
    return next((f for f in found if not f.secure_boot and f.serves(machine)), None)


def missing_files(firmware: Firmware) -> list[Path]:
    return [p for p in (firmware.code, firmware.vars_template) if not p.is_file()]
