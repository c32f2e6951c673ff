"""The guest's initramfs: a gzipped newc cpio archive written in Python.

Written here rather than with cpio(1) so it needs no root (the /dev/console node an init
needs before devtmpfs is mounted is just a header) and is byte-for-byte reproducible: fixed
owner, times and inode numbers, so the image's input hash only changes with its content.
"""

from __future__ import annotations

import gzip
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hotstack.guest import init as guest_init

_DIRS = ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "etc", "lib", "lib/modules",
         "proc", "sys", "tmp", "run", "root")


@dataclass(frozen=True)
class Entry:
    name: str
    mode: int  # full st_mode, type bits included
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def _header(ino: int, entry: Entry) -> bytes:
    name = entry.name.encode() + b"\0"
    nlink = 2 if stat.S_ISDIR(entry.mode) else 1
    fields = (ino, entry.mode, 0, 0, nlink, 0, len(entry.data), 0, 0, *entry.rdev,
              len(name), 0)
    head = b"070701" + b"".join(b"%08x" % f for f in fields) + name
    return head + b"\0" * (-len(head) % 4)


def cpio_newc(entries: Iterable[Entry]) -> bytes:
    """A newc archive of the entries (in order) followed by the trailer."""
    out = bytearray()
    for ino, entry in enumerate([*entries, Entry("TRAILER!!!", 0)], start=1):
        out += _header(ino if entry.mode else 0, entry)
        out += entry.data + b"\0" * (-len(entry.data) % 4)
    return bytes(out)


def entries(busybox: bytes, modules: Mapping[str, bytes]) -> list[Entry]:
    """Everything in the guest's root: busybox, /init, the DHCP and TCP hooks and the modules.

    `modules` maps a module name to its (uncompressed) .ko, in load order.
    """
    items = [Entry(d, stat.S_IFDIR | 0o755) for d in _DIRS]
    items += [
        Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
        Entry("dev/null", stat.S_IFCHR | 0o666, rdev=(1, 3)),
        Entry("bin/busybox", stat.S_IFREG | 0o755, busybox),
        Entry("bin/sh", stat.S_IFLNK | 0o777, b"busybox"),
        Entry("init", stat.S_IFREG | 0o755, guest_init.init_script(list(modules)).encode()),
        Entry(guest_init.UDHCPC_SCRIPT.lstrip("/"), stat.S_IFREG | 0o755,
              guest_init.udhcpc_script().encode()),
        Entry(guest_init.TCP_HELLO.lstrip("/"), stat.S_IFREG | 0o755, guest_init.hello_script().encode()),
    ]
    module_dir = guest_init.MODULE_DIR.lstrip("/")
    items += [Entry(f"{module_dir}/{name}.ko", stat.S_IFREG | 0o644, data)
              for name, data in modules.items()]
    return items


def initramfs(busybox: bytes, modules: Mapping[str, bytes]) -> bytes:
    """The gzipped archive the kernel unpacks as its root (mtime 0: reproducible)."""
    return gzip.compress(cpio_newc(entries(busybox, modules)), compresslevel=9, mtime=0)
