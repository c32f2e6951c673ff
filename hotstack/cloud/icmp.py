"""ICMP echo from Python (the host may have no `ping` program): raw socket as root, else the
unprivileged ping socket where net.ipv4.ping_group_range allows it."""

from __future__ import annotations

import os
import select
import socket
import struct
import time


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return int(~total & 0xFFFF)


def echo_request(ident: int, seq: int, payload: bytes = b"hotstack") -> bytes:
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload


def ping(address: str, *, count: int = 1, timeout: float = 2.0) -> float | None:
    """Round-trip seconds of the first reply among `count` echoes, or None if none came back."""
    raw = os.geteuid() == 0
    kind = socket.SOCK_RAW if raw else socket.SOCK_DGRAM
    ident = os.getpid() & 0xFFFF
    with socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP) as sock:
        for seq in range(1, count + 1):
            sent = time.monotonic()
            sock.sendto(echo_request(ident, seq), (address, 0))
            deadline = sent + timeout
            while (left := deadline - time.monotonic()) > 0:
                if not select.select([sock], [], [], left)[0]:
                    break
                data, (src, _) = sock.recvfrom(2048)
                reply = data[20:] if raw else data  # raw sockets include the IP header
                kind_code, _, _, rid, rseq = struct.unpack("!BBHHH", reply[:8])
                if src == address and kind_code == 0 and rseq == seq and (rid == ident or not raw):
                    return time.monotonic() - sent
    return None
