"""Health probes: one check per Probe.kind, retried with backoff until a deadline.

A check makes one attempt with a timeout and returns a short detail, or raises. `until` retries
it from 0.2 s, doubling up to 2 s, until it passes or the deadline is gone. The wire-level
checks here need nothing but sockets; the deep ones (keystone, service lists, OVN chassis)
live in :mod:`hotstack.deep_probes`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPConnection

from hotstack.containers import control
from hotstack.probes import ovsdb_rpc

FIRST_DELAY_S = 0.2
MAX_DELAY_S = 2.0
ATTEMPT_TIMEOUT_S = 5.0
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"
FRAME_END = 0xCE
HOST_NOT_ALLOWED = 1130  # MySQL ER_HOST_NOT_PRIVILEGED

Check = Callable[[float], str]  # one attempt with this timeout → detail; raises on a miss


class Miss(Exception):
    """The service answered, but not as a healthy one would."""


class GiveUp(Miss):
    """No point retrying (the container has exited): `until` fails at once."""


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str
    seconds: float
    kind: str = ""


def until(check: Check, deadline_s: float, kind: str = "", *,
          clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
          cancelled: threading.Event | None = None) -> ProbeResult:
    """Retry `check` with backoff until it passes or `deadline_s` has passed (at least one try),
    or until `cancelled` is set."""
    start, delay = clock(), FIRST_DELAY_S
    while True:
        if cancelled is not None and cancelled.is_set():
            return ProbeResult(False, "interrupted", clock() - start, kind)
        remaining = deadline_s - (clock() - start)
        try:
            detail = check(max(0.2, min(ATTEMPT_TIMEOUT_S, remaining)))
            return ProbeResult(True, detail, clock() - start, kind)
        except Exception as exc:  # any failure of one attempt is a miss; the last one is reported
            last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            final = isinstance(exc, GiveUp)
        remaining = deadline_s - (clock() - start)
        if remaining <= 0 or final:
            return ProbeResult(False, last, clock() - start, kind)
        sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_DELAY_S)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise Miss(f"connection closed after {len(data)} of {size} bytes")
        data += chunk
    return data


def tcp(host: str, port: int) -> Check:
    def check(timeout: float) -> str:
        with socket.create_connection((host, port), timeout=timeout):
            return f"{host}:{port} accepts connections"
    return check


HTTP_BODY_LIMIT = 1 << 20  # bytes of an answer searched for `expect`


def http(host: str, port: int, path: str = "/", statuses: tuple[int, ...] = (200,), expect: str = "") -> Check:
    """GET `path` answered with one of `statuses` and, when `expect` is given, a body that
    contains it (a login page that renders its form, not just any 200)."""
    def check(timeout: float) -> str:
        conn = HTTPConnection(host, port, timeout=timeout)
        try:
            conn.request("GET", path)
            answer = conn.getresponse()
            status = answer.status
            body = answer.read(HTTP_BODY_LIMIT) if expect else b""
        finally:
            conn.close()
        if status not in statuses:
            raise Miss(f"GET {path} answered {status}, expected {'/'.join(map(str, statuses))}")
        if expect and expect.encode() not in body:
            raise Miss(f"GET {path} answered {status} without {expect!r}")
        return f"GET {path} → {status}" + (f" with {expect!r}" if expect else "")
    return check


def parse_mysql_greeting(packet: bytes) -> str:
    """What a MySQL server's first packet says: the greeting (protocol 10) means ready; so does
    error 1130 "host not allowed", which a running server sends instead of the greeting while no
    account matches the prober's address (before the first SQL job adds user@'%'). Other error
    packets (too many connections, ...) are a miss."""
    if packet[:1] == b"\xff":
        code = int.from_bytes(packet[1:3], "little")
        if code == HOST_NOT_ALLOWED:
            return "server answering (error 1130: no account for this host yet)"
        raise Miss(f"server refused the connection: {code} {packet[3:].decode(errors='replace')}")
    if packet[:1] != b"\x0a":
        raise Miss(f"not a MySQL protocol 10 greeting (first byte {packet[:1].hex() or 'none'})")
    return "server " + packet[1:].split(b"\0", 1)[0].decode(errors="replace")


def mysql(host: str, port: int) -> Check:
    def check(timeout: float) -> str:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            header = _recv_exact(sock, 4)
            payload = _recv_exact(sock, int.from_bytes(header[:3], "little"))
        return f"MySQL greeting: {parse_mysql_greeting(payload)}"
    return check


def parse_amqp_start(frame_header: bytes, payload: bytes) -> str:
    """Check an AMQP 0-9-1 frame is connection.start; return the protocol version it offers."""
    if frame_header[:4] == b"AMQP":
        raise Miss(f"server wants another protocol version: {frame_header!r}")
    if frame_header[0] != 1 or frame_header[1:3] != b"\x00\x00":
        raise Miss(f"expected a method frame on channel 0, got type {frame_header[0]}")
    if payload[:4] != b"\x00\x0a\x00\x0a":
        raise Miss(f"expected connection.start (10,10), got {payload[:4].hex()}")
    return f"AMQP connection.start {payload[4]}-{payload[5]}"


def amqp(host: str, port: int) -> Check:
    def check(timeout: float) -> str:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(AMQP_HEADER)
            header = _recv_exact(sock, 7)
            size = int.from_bytes(header[3:7], "big") if header[:4] != b"AMQP" else 0
            payload = _recv_exact(sock, size + 1) if size else b""
        if payload and payload[-1] != FRAME_END:
            raise Miss("AMQP frame without its end marker")
        return parse_amqp_start(header, payload)
    return check


def ovsdb(host: str, port: int) -> Check:
    def check(timeout: float) -> str:
        answer = ovsdb_rpc.call(host, port, "echo", ["hotstack"], timeout=timeout)
        if answer != ["hotstack"]:
            raise Miss(f"echo answered {answer!r}")
        return "OVSDB echo answered"
    return check


def exec_check(container: str, command: tuple[str, ...], expect: str | None = None) -> Check:
    """The command exits 0 in the container (and prints exactly `expect`, when given)."""
    def check(timeout: float) -> str:
        code, out = control.exec_in(container, command, timeout=max(timeout, 10), check=False)
        tail = (out.strip().splitlines()[-1:] or [""])[0]
        if code != 0:
            raise Miss(f"`{' '.join(command)}` exited {code} {tail}".rstrip())
        if expect is not None and out.strip() != expect:
            raise Miss(f"`{' '.join(command)}` said {tail!r}, not {expect!r}")
        return f"`{' '.join(command)}` exited 0" + (f" ({expect})" if expect else "")
    return check


def both(first: Check, second: Check) -> Check:
    def check(timeout: float) -> str:
        return f"{first(timeout)}; {second(timeout)}"
    return check


def unless_exited(check: Check, container: str, state: Callable[[str], str]) -> Check:
    """`check`, but a miss while the container is not running ends the probe at once."""
    def guarded(timeout: float) -> str:
        try:
            return check(timeout)
        except Exception as exc:
            now = state(container)
            if now != "running":
                raise GiveUp(f"container {container} is {now} ({exc})") from exc
            raise
    return guarded


def running(container: str, is_running: Callable[[str], bool]) -> Check:
    def check(timeout: float) -> str:
        if not is_running(container):
            raise Miss(f"container {container} is not running")
        return "container running"
    return check
