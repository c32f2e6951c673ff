"""Probes against real servers started on 127.0.0.1 by the test: a TCP listener, an HTTP server,
a real ovsdb-server. (MySQL and AMQP against real MariaDB and RabbitMQ: tests/integration.)"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from localhttp import QuietHandler, serving

from hotstack.probes import basic, deep, ovsdb_rpc
from hotstack.probes.basic import Miss, parse_amqp_start, parse_mysql_greeting, until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def listener() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield int(sock.getsockname()[1])
    sock.close()


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        status = {"/stats": 200, "/moved": 302, "/login": 200}.get(self.path, 404)
        body = b'<form id="login" action="/login"><input name="password"></form>' if self.path == "/login" else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def http_port() -> Iterator[int]:
    with serving(_Handler) as port:
        yield port


def test_tcp_passes_on_a_listener_and_misses_a_closed_port_by_its_deadline(listener: int) -> None:
    ok = until(basic.tcp("127.0.0.1", listener), 2, "tcp")
    assert ok.ok and ok.seconds < 0.5 and "accepts" in ok.detail
    start = time.monotonic()
    miss = until(basic.tcp("127.0.0.1", free_port()), 0.7, "tcp")
    assert not miss.ok and "ConnectionRefused" in miss.detail
    assert 0.6 <= time.monotonic() - start < 1.5


def test_tcp_passes_once_a_late_server_starts() -> None:
    port = free_port()
    sock = socket.socket()

    def start_late() -> None:
        time.sleep(0.5)
        sock.bind(("127.0.0.1", port))
        sock.listen(1)

    threading.Thread(target=start_late).start()
    result = until(basic.tcp("127.0.0.1", port), 5, "tcp")
    sock.close()
    assert result.ok and 0.4 < result.seconds < 2.5


def test_http_status_set(http_port: int) -> None:
    assert until(basic.http("127.0.0.1", http_port, "/stats"), 2).ok
    assert until(basic.http("127.0.0.1", http_port, "/moved", (200, 302)), 2).ok  # no redirect following
    miss = until(basic.http("127.0.0.1", http_port, "/nothing"), 0.3)
    assert not miss.ok and "404" in miss.detail


def test_http_expect_looks_in_the_body(http_port: int) -> None:
    found = until(basic.http("127.0.0.1", http_port, "/login", expect='name="password"'), 2)
    assert found.ok and "password" in found.detail
    miss = until(basic.http("127.0.0.1", http_port, "/stats", expect='name="password"'), 0.3)
    assert not miss.ok and "without" in miss.detail and "200" in miss.detail


def test_backoff_starts_at_0_2_s_doubles_and_is_capped() -> None:
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    def never(timeout: float) -> str:
        raise Miss("not yet")

    result = until(never, 10, "x", clock=lambda: now[0], sleep=sleep)
    assert not result.ok and result.detail == "Miss: not yet"
    assert sleeps[:5] == [0.2, 0.4, 0.8, 1.6, 2.0] and max(sleeps) == 2.0
    assert sum(sleeps) == pytest.approx(10)


def test_a_probe_gives_up_at_once_when_the_container_has_exited() -> None:
    states = iter(["running", "exited"])

    def refused(timeout: float) -> str:
        raise ConnectionRefusedError("refused")

    start = time.monotonic()
    result = until(basic.unless_exited(refused, "hotstack-x", lambda _c: next(states)), 30)
    assert not result.ok and time.monotonic() - start < 1.0
    assert result.detail.startswith("GiveUp: container hotstack-x is exited (refused)")


def test_mysql_greeting_parser() -> None:
    greeting = b"\x0a" + b"11.8.3-MariaDB-1\x00" + b"\x01\x00\x00\x00" + b"abcdefgh\x00"
    assert parse_mysql_greeting(greeting) == "server 11.8.3-MariaDB-1"
    no_account = b"\xff" + (1130).to_bytes(2, "little") + b"Host '10.0.0.1' is not allowed to connect"
    assert "1130" in parse_mysql_greeting(no_account)  # a running server, no user for us yet
    too_many = b"\xff" + (1040).to_bytes(2, "little") + b"Too many connections"
    with pytest.raises(Miss, match="1040 Too many connections"):
        parse_mysql_greeting(too_many)
    with pytest.raises(Miss, match="protocol 10"):
        parse_mysql_greeting(b"\x09old")


def test_amqp_start_parser() -> None:
    payload = b"\x00\x0a\x00\x0a\x00\x09" + b"\x00" * 8 + b"\xce"
    header = b"\x01\x00\x00" + (len(payload) - 1).to_bytes(4, "big")
    assert parse_amqp_start(header, payload) == "AMQP connection.start 0-9"
    with pytest.raises(Miss, match="another protocol"):
        parse_amqp_start(b"AMQP\x00\x00\x09", b"")
    with pytest.raises(Miss, match=r"connection\.start"):
        parse_amqp_start(header, b"\x00\x14\x00\x28" + payload[4:])


SB_SCHEMA = {
    "name": "OVN_Southbound", "version": "1.0.0",
    "tables": {
        "Chassis": {"columns": {"name": {"type": "string"}, "hostname": {"type": "string"}}, "isRoot": True},
        "Chassis_Private": {"columns": {"name": {"type": "string"}}, "isRoot": True},
    },
}


@pytest.fixture
def ovsdb(tmp_path: Path) -> Iterator[int]:
    """A real ovsdb-server with a two-table OVN_Southbound-shaped schema, on a free port."""
    if not shutil.which("ovsdb-server"):
        pytest.skip("ovsdb-server is not installed")
    schema, db, port = tmp_path / "sb.ovsschema", tmp_path / "sb.db", free_port()
    schema.write_text(json.dumps(SB_SCHEMA))
    subprocess.run(["ovsdb-tool", "create", str(db), str(schema)], check=True)
    proc = subprocess.Popen(["ovsdb-server", f"--remote=ptcp:{port}:127.0.0.1", "--no-chdir",
                             f"--unixctl={tmp_path}/ctl", "--log-file=" + str(tmp_path / "log"), str(db)])
    try:
        assert until(basic.tcp("127.0.0.1", port), 10).ok
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _insert(port: int, table: str, row: dict[str, str]) -> None:
    ovsdb_rpc.call("127.0.0.1", port, "transact", ["OVN_Southbound", {"op": "insert", "table": table, "row": row}],
                   timeout=5)


def test_ovsdb_echo_on_a_real_server(ovsdb: int) -> None:
    result = until(basic.ovsdb("127.0.0.1", ovsdb), 5, "ovsdb")
    assert result.ok and result.detail == "OVSDB echo answered"


def test_chassis_probe_waits_for_both_rows(ovsdb: int) -> None:
    check = deep.chassis("127.0.0.1", ovsdb, "compute1")
    assert "no Chassis row" in until(check, 0.2).detail
    _insert(ovsdb, "Chassis", {"name": "abc-123", "hostname": "compute1.example"})
    assert "no Chassis_Private" in until(check, 0.2).detail
    _insert(ovsdb, "Chassis_Private", {"name": "abc-123"})
    result = until(check, 2)
    assert result.ok and result.detail == "chassis abc-123 registered"


def test_a_service_record_counts_only_when_reported_after_the_container_started() -> None:
    started = datetime(2026, 11, 23, 19, 10, 13, tzinfo=UTC).timestamp()
    assert deep.reported_since("2026-11-23T19:10:20.000000", started)
    assert deep.reported_since("2026-11-23 19:10:12", started)  # whole seconds: slack
    assert not deep.reported_since("2026-11-23T19:09:40.000000", started)  # the old process
    assert not deep.reported_since(None, started)
    assert deep.reported_since(None, None)  # kept containers: no start to compare with
