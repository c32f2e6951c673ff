"""Who listens on which port: /proc/net/{tcp,tcp6,udp,udp6} and the owners' /proc/PID/fd."""

from __future__ import annotations

import os
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path

LISTEN = "0A"  # TCP state; unbound UDP sockets are state 07


@dataclass(frozen=True)
class Listener:
    proto: str
    address: IPv4Address | IPv6Address
    port: int
    inode: int


def _address(hexaddr: str) -> IPv4Address | IPv6Address:
    raw = bytes.fromhex(hexaddr)
    if len(raw) == 4:
        return IPv4Address(raw[::-1])
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    addr = IPv6Address(words)
    return addr.ipv4_mapped or addr


def parse(text: str, proto: str) -> list[Listener]:
    found = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 10 or (proto == "tcp" and f[3] != LISTEN):
            continue
        host, port = f[1].split(":")
        found.append(Listener(proto, _address(host), int(port, 16), int(f[9])))
    return found


def listeners(proc: Path = Path("/proc")) -> list[Listener]:
    found = []
    for proto in ("tcp", "udp"):
        for name in (proto, f"{proto}6"):
            try:
                found += parse((proc / "net" / name).read_text(), proto)
            except OSError:
                continue
    return found


def owners(proc: Path = Path("/proc")) -> dict[int, str]:
    """socket inode → command name of a process holding it."""
    found: dict[int, str] = {}
    for pid in (p for p in os.listdir(proc) if p.isdigit()):
        try:
            comm = (proc / pid / "comm").read_text().strip()
            for fd in os.listdir(proc / pid / "fd"):
                link = os.readlink(proc / pid / "fd" / fd)
                if link.startswith("socket:["):
                    found[int(link[8:-1])] = comm
        except OSError:
            continue
    return found


def on(address: str, port: int, proto: str, found: list[Listener]) -> list[Listener]:
    """Listeners that would take address:port (the address itself or a wildcard)."""
    wanted = ip_address(address)
    return [lst for lst in found if lst.port == port and lst.proto == proto
            and (lst.address == wanted or lst.address.is_unspecified)]
