"""Guests reach beyond the host: forwarding and masquerade of the provider network, in three
namespaces the test creates (host, guest on the provider side, outside behind the default route)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostfixtures import ip, need, netns

from hotstack import catalog
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host.firewall import NftTable
from hotstack.host.forwarding import IpForward
from hotstack.host.system import Host

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NETWORK = {"provider_cidr": "10.77.0.128/25", "brex_ip": "10.77.0.129", "container_cidr": "10.77.0.0/25",
           "ex_bridge": "tst-ex"}
GUEST, HOST_OUT, OUTSIDE = "10.77.0.140", "10.78.0.1", "10.78.0.2"
SERVER = """
import socket, sys
with socket.create_server(("{addr}", 8099)) as srv:
    print("listening", flush=True)
    srv.settimeout(20)
    conn, peer = srv.accept()
    with conn:
        conn.sendall(b"hello " + peer[0].encode())
        print(peer[0], flush=True)
"""
CLIENT = """
import socket
with socket.create_connection(("{addr}", 8099), timeout=5) as s:
    print(s.recv(100).decode())
"""
PING = "from hotstack.cloud.icmp import ping; import sys; sys.exit(0 if ping('{addr}', count=2, timeout=1) else 1)"


@pytest.fixture
def spaces() -> Iterator[tuple[str, str, str]]:
    need("nft", "sysctl")
    for host in netns():
        for guest in netns():
            for outside in netns():
                wire(host, guest, outside)
                yield host, guest, outside


def wire(host: str, guest: str, outside: str) -> None:
    ip(host, "link", "add", "tst-ex", "type", "bridge")
    ip(host, "addr", "add", f"{NETWORK['brex_ip']}/25", "dev", "tst-ex")
    ip(host, "link", "add", "g0", "type", "veth", "peer", "name", "g1", "netns", guest)
    ip(host, "link", "set", "g0", "master", "tst-ex")
    ip(guest, "addr", "add", f"{GUEST}/25", "dev", "g1")
    ip(host, "link", "add", "o0", "type", "veth", "peer", "name", "o1", "netns", outside)
    ip(host, "addr", "add", f"{HOST_OUT}/24", "dev", "o0")
    ip(outside, "addr", "add", f"{OUTSIDE}/24", "dev", "o1")
    for ns, devs in ((host, ("tst-ex", "g0", "o0", "lo")), (guest, ("g1", "lo")), (outside, ("o1", "lo"))):
        for dev in devs:
            ip(ns, "link", "set", dev, "up")
    ip(guest, "route", "add", "default", "via", NETWORK["brex_ip"])
    ip(host, "route", "add", "default", "via", OUTSIDE)  # the outside has no route back to the guests


def python_in(ns: str, code: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=30, cwd=ROOT, **kw)  # type: ignore[call-overload]


def sysctl(ns: str) -> str:
    return subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-n", "net.ipv4.ip_forward"],
                          check=True, capture_output=True, text=True).stdout.strip()


def test_guest_reaches_outside_masqueraded(settings: Settings, paths: Paths, tmp_path: Path,
                                           spaces: tuple[str, str, str]) -> None:
    host_ns, guest, outside = spaces
    s = settings.model_copy(update={"network": settings.network.model_validate(
        {**settings.network.model_dump(), **NETWORK})})
    host = Host(netns=host_ns)
    # A new namespace may inherit the host's forwarding: start from "off", as on a fresh host.
    subprocess.run(["ip", "netns", "exec", host_ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0"], check=True)
    assert python_in(guest, PING.format(addr=OUTSIDE)).returncode == 1  # not forwarded yet

    forward = IpForward(host, tmp_path / "ip-forward")
    table = NftTable(catalog.build(s, paths), host)
    assert forward.check() == ["set net.ipv4.ip_forward=1 (is 0)"]
    assert "masquerade 10.77.0.128/25 out of o0" in table.check()[0]
    for step in (forward, table):
        step.apply()
        assert step.check() == []
    listed = subprocess.run(["ip", "netns", "exec", host_ns, "nft", "list", "table", "inet", "hotstack"],
                            check=True, capture_output=True, text=True).stdout
    assert 'ip saddr 10.77.0.128/25 oifname "o0" masquerade' in listed

    assert python_in(guest, PING.format(addr=OUTSIDE)).returncode == 0
    server = subprocess.Popen(["ip", "netns", "exec", outside, sys.executable, "-c", SERVER.format(addr=OUTSIDE)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "listening"
        client = python_in(guest, CLIENT.format(addr=OUTSIDE))
        assert client.stdout.strip() == f"hello {HOST_OUT}", client.stderr
        assert server.stdout.readline().strip() == HOST_OUT  # the outside saw the host, not the guest
    finally:
        server.kill()
        server.wait()

    assert forward.remove() == ["restored net.ipv4.ip_forward=0"]
    assert sysctl(host_ns) == "0" and not (tmp_path / "ip-forward").exists()
    assert forward.remove() == []
    assert table.remove()


def test_forwarding_left_alone_when_already_on(tmp_path: Path) -> None:
    need("sysctl")
    for ns in netns():
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], check=True)
        step = IpForward(Host(netns=ns), tmp_path / "ip-forward")
        assert step.check() == []
        step.apply()
        assert step.remove() == [] and sysctl(ns) == "1"
