"""Kernel and busybox from Debian's packages, for hosts whose own kernel cannot serve.

`apt-get download` fetches a .deb through the host's apt sources (no root, nothing
installed); the few files the guest needs are read straight out of the package (an ar
archive holding data.tar.*) and kept in a cache directory keyed by package and version, so
a second build touches neither the mirror nor the 400 MB of a kernel package.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from hotstack.core import distro, runner
from hotstack.core.errors import HotstackError
from hotstack.guest.kernel import (
    OPTIONAL,
    REQUIRED,
    Kernel,
    decompress,
    is_module,
    load_order,
    modinfo_depends,
    module_name,
    parse_builtin,
)

KERNEL_META = "linux-image-amd64"
BUSYBOX = "busybox-static"
_APT_HINT = "run `apt-get update` (Debian's mirror must answer), or set guest.image to your own"
_NO_APT_HINT = "this host has no apt (Debian's busybox comes through it): set guest.image to your own image"


def _hint() -> str:
    return _APT_HINT if distro.current().family == "debian" else _NO_APT_HINT


def parse_apt_show(text: str) -> dict[str, dict[str, str]]:
    """`apt-cache show` stanzas -> {package: {field: value}} (first stanza of a package wins)."""
    result: dict[str, dict[str, str]] = {}
    for stanza in text.strip().split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            key, sep, value = line.partition(":")
            if sep and not line.startswith(" "):
                fields[key] = value.strip()
        if "Package" in fields:
            result.setdefault(fields["Package"], fields)
    return result


def kernel_package(meta: dict[str, str]) -> tuple[str, str]:
    """The versioned image package the meta package points at: (name, version)."""
    for dep in meta.get("Depends", "").split(","):
        name, _, rest = dep.strip().partition(" ")
        if name.startswith("linux-image-") and name[12:13].isdigit():
            version = rest.strip("() =") or meta.get("Version", "")
            return name, version
    raise HotstackError(f"{KERNEL_META} depends on no versioned kernel package", hint=_hint())


def _data_member(handle: BinaryIO, deb: Path) -> str:
    """Seek handle to the data.tar.* member of an ar archive; returns the tar mode."""
    if handle.read(8) != b"!<arch>\n":
        raise HotstackError(f"{deb} is not a Debian package")
    while len(header := handle.read(60)) == 60:
        name, size = header[:16].decode().strip().rstrip("/"), int(header[48:58])
        if name.startswith("data.tar"):
            return {"data.tar": "r|", "data.tar.xz": "r|xz", "data.tar.gz": "r|gz"}.get(
                name, "r|*")
        handle.seek(size + (size & 1), os.SEEK_CUR)
    raise HotstackError(f"{deb} has no data.tar member")


def deb_files(deb: Path, wanted: Callable[[str], bool]) -> Iterator[tuple[str, bytes]]:
    """(path, content) of every regular file in a .deb whose path wanted() accepts."""
    with deb.open("rb") as handle:
        mode = _data_member(handle, deb)
        with tarfile.open(fileobj=handle, mode=mode) as tar:  # type: ignore[call-overload]
            for member in tar:
                if member.isfile() and wanted(member.name):
                    extracted = tar.extractfile(member)
                    if extracted is not None:
                        yield member.name.removeprefix("."), extracted.read()


def candidates() -> dict[str, dict[str, str]]:
    """What apt would install now for the kernel meta package and busybox-static."""
    out = runner.run(["apt-cache", "show", "--no-all-versions", KERNEL_META, BUSYBOX],
                  hint=_hint()).stdout
    return parse_apt_show(out)


def download(name: str, version: str, into: Path) -> Path:
    runner.run(["env", "-C", str(into), "apt-get", "download", f"{name}={version}"],
            timeout=900, hint=_hint())
    debs = sorted(into.glob(f"{name}_*.deb"))
    if not debs:
        raise HotstackError(f"apt-get download {name} left no .deb in {into}", hint=_hint())
    return debs[0]


@dataclass
class _Scan:
    vmlinuz: bytes = b""
    version: str = ""
    builtin: set[str] = field(default_factory=set)
    deps: dict[str, list[str]] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)


def _scan(deb: Path, keep: set[str]) -> _Scan:
    """One pass over a kernel package: vmlinuz, every module's dependencies, and the bytes
    of the modules in keep (grown by their dependencies as they are seen)."""
    scan, keep = _Scan(), set(keep)
    for path, data in deb_files(deb, lambda p: is_module(p) or "/boot/vmlinuz-" in p
                                or p.endswith("/modules.builtin")):
        if "/boot/vmlinuz-" in path:
            scan.vmlinuz, scan.version = data, path.rsplit("vmlinuz-", 1)[1]
        elif path.endswith("/modules.builtin"):
            scan.builtin = parse_builtin(data.decode())
        else:
            name, plain = module_name(path), decompress(path, data)
            scan.deps[name] = modinfo_depends(plain)
            if name in keep:
                scan.blobs[name] = plain
                keep.update(scan.deps[name])
    return scan


def scan_kernel(deb: Path) -> Kernel:
    """The kernel and its needed modules in load order, out of a linux-image package."""
    scan = _scan(deb, {*REQUIRED, *OPTIONAL})
    if not scan.vmlinuz:
        raise HotstackError(f"{deb} holds no /boot/vmlinuz-*")
    try:
        order = load_order(scan.deps, scan.builtin)
    except ValueError as exc:
        raise HotstackError(f"kernel {scan.version}: {exc}") from None
    missing = {n for n in order if n not in scan.blobs}
    if missing:  # a dependency came before its user in the archive: one more pass
        scan.blobs.update(_scan(deb, missing).blobs)
    return Kernel(scan.version, deb.name, scan.vmlinuz, {n: scan.blobs[n] for n in order})
