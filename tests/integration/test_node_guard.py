"""The node guard (host/node_guard.py) with real nftables and real TCP, between two network
namespaces of the test's own: "host" (the control address, a listener on RabbitMQ's port) and
"lan" (a registered node's address and a stranger's). The node connects, the stranger's SYN is
dropped, and the host's own connection to its address (on lo, as hotstack's probes make) passes."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostfixtures import ip, need, netns

from hotstack import catalog
from hotstack.catalog.services.infra import AMQP_PORT
from hotstack.core.noderegistry import Entry, Registry
from hotstack.core.paths import Paths
from hotstack.core.settings import load
from hotstack.host.node_guard import NodeGuard
from hotstack.host.system import Host

pytestmark = pytest.mark.integration

CONTROL, NODE, STRANGER = "10.77.0.1", "10.77.0.2", "10.77.0.3"

CONNECT = """
import socket, sys
s = socket.socket()
s.settimeout(2)
s.bind((sys.argv[1], 0))
try:
    s.connect((sys.argv[2], int(sys.argv[3])))
    print("connected")
except OSError as exc:
    print(type(exc).__name__)
"""


@pytest.fixture
def pair() -> Iterator[tuple[str, str]]:
    need("nft")
    for host in netns():
        for lan in netns():
            subprocess.run(["ip", "link", "add", "hg0", "netns", host, "type", "veth", "peer", "name", "hg1",
                            "netns", lan], check=True, capture_output=True)
            ip(host, "addr", "add", f"{CONTROL}/24", "dev", "hg0")
            for address in (NODE, STRANGER):
                ip(lan, "addr", "add", f"{address}/24", "dev", "hg1")
            for ns, dev in ((host, "hg0"), (lan, "hg1")):
                ip(ns, "link", "set", "lo", "up")
                ip(ns, "link", "set", dev, "up")
            yield host, lan


def _connect(ns: str, source: str) -> str:
    return subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", CONNECT, source, CONTROL, str(AMQP_PORT)],
                          capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def test_only_registered_nodes_and_the_host_itself_reach_a_node_port(
        pair: tuple[str, str], tmp_path: Path, config_file: Path) -> None:
    host, lan = pair
    settings = load(config_file, {"data_dir": str(tmp_path / "data"), "nodes.control_address": CONTROL}, environ={})
    paths = Paths(settings.data_dir, rendered_override=tmp_path / "out")
    Registry(paths.state).put(Entry("lab-b", "machine", NODE))
    guard = NodeGuard(catalog.build(settings, paths), Host(netns=host))
    assert guard.check(), "no table yet"
    guard.apply()
    assert guard.check() == []

    listener = subprocess.Popen(["ip", "netns", "exec", host, sys.executable, "-c",
                                 "import socket, time\n"
                                 f"s = socket.create_server(('{CONTROL}', {AMQP_PORT}))\n"
                                 "while True: s.accept()[0].close()\n"])
    try:
        for _ in range(50):  # until it listens
            if _connect(host, CONTROL) == "connected":
                break
            time.sleep(0.1)
        assert _connect(host, CONTROL) == "connected", "the host's own connection (lo) passes"
        assert _connect(lan, NODE) == "connected", "the registered node reaches the port"
        assert _connect(lan, STRANGER) == "TimeoutError", "any other source's SYN is dropped"
        assert guard.remove() == [f"deleted nftables table inet {guard.table[1]}"]
        assert _connect(lan, STRANGER) == "connected", "without the guard the port is open"
    finally:
        listener.kill()
        listener.wait()
