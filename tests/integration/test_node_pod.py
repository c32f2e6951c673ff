"""A pod node's infrastructure for real: the podman pod with its own network namespace, its Open
vSwitch (netdev) and libvirtd containers, and the underlay to the host — then removed without a
trace.

The host side of the underlay is a private ovsdb-server and ovs-vswitchd (netdev) in a network
namespace of the test's own, standing in for the host's Open vSwitch: the running clouds' Open
vSwitch is never touched. Everything carries a test name (`tn<hex>`), never hotstack-*/e2e-*.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

import pytest
from hostfixtures import need, netns, ovsdb

from hotstack.containers import podman
from hotstack.host.node_pod import NodePod, PodSpec, netns_path
from hotstack.host.step import remove_plan, run_plan
from hotstack.host.system import Host
from hotstack.host.underlay import POD_END, NodeLink, UnderlayBridge, host_end
from hotstack.images import builder
from hotstack.images.builder import BuildOptions

pytestmark = pytest.mark.integration

HOST_IFACE = IPv4Interface("10.213.47.1/29")  # the test's own addresses (no cloud uses them)
NODE_IFACE = IPv4Interface("10.213.47.2/29")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The three images a pod node runs, built when missing (node-libvirt ~1 min here)."""
    if not podman.available():
        pytest.skip("podman is not installed")
    work = tmp_path_factory.mktemp("node-images")
    report = builder.build(["base", "ovn", "node-libvirt"],
                           BuildOptions(log_dir=work / "logs", cache_dir=work / "apt"))
    if not report.ok:
        pytest.fail("building the node images failed:\n" + "\n".join(report.log_tail))
    return report.refs


@pytest.fixture
def host_side(tmp_path: Path) -> Iterator[Host]:
    """A stand-in host: a namespace with its own ovsdb-server and ovs-vswitchd (netdev)."""
    need("ovs-vswitchd", "ip")
    for ns in netns():
        for db in ovsdb(tmp_path):
            # as the host's own step sets it (host/ovs_offload.py): without TSO on both Open
            # vSwitches, TCP over the veth carries checksums one side never fills in (ICMP passes)
            subprocess.run(["ovs-vsctl", f"--db={db}", "--no-wait", "set", "Open_vSwitch", ".",
                            "other_config:userspace-tso-enable=true"], check=True)
            vswitchd = subprocess.Popen(
                ["ip", "netns", "exec", ns, "ovs-vswitchd", db, f"--pidfile={tmp_path / 'vswitchd.pid'}",
                 f"--unixctl={tmp_path / 'vswitchd.ctl'}", f"--log-file={tmp_path / 'vswitchd.log'}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                # no openvswitch module in this fake /sys: the bridge's datapath is netdev
                (tmp_path / "sys" / "module").mkdir(parents=True)
                yield Host(ovsdb=db, netns=ns, sys=tmp_path / "sys")
            finally:
                vswitchd.terminate()
                vswitchd.wait(timeout=10)


def ping_from(ns: str, address: IPv4Address) -> float | None:
    """hotstack's own ICMP echo (no ping binary here), sent from inside namespace `ns`."""
    code = f"from hotstack.cloud.icmp import ping; print(ping({str(address)!r}, count=3, timeout=3))"
    proc = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    return None if proc.stdout.strip() == "None" else float(proc.stdout)


def tcp_from(ns: str, listener_ns: str, address: IPv4Address) -> bool:
    """A TCP connection from namespace `ns` to a listener at `address` in `listener_ns`."""
    listen = ("import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
              f"s.bind(({str(address)!r}, 5999)); s.listen(); s.settimeout(15); s.accept(); print('accepted')")
    server = subprocess.Popen(["ip", "netns", "exec", listener_ns, sys.executable, "-c", listen],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        connect = ("import socket, time\nfor _ in range(50):\n    try:\n"
                   f"        socket.create_connection(({str(address)!r}, 5999), 3).close(); break\n"
                   "    except ConnectionRefusedError:\n        time.sleep(0.1)")
        subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", connect], check=True, timeout=30)
        out, _ = server.communicate(timeout=20)
    finally:
        server.kill()
    return "accepted" in out


def test_a_pod_node_comes_up_links_to_the_host_and_goes_without_a_trace(
        images: dict[str, str], host_side: Host, tmp_path: Path) -> None:
    name = f"tn{uuid.uuid4().hex[:6]}"
    spec = PodSpec(name, "n1", images["ovn"], images["node-libvirt"], images["base"],
                   run=tmp_path / "run", root=tmp_path / "nodes" / "n1")
    bridge = f"{name}-ul"
    steps = [NodePod(spec, tmp_path / "state"),
             UnderlayBridge(host_side, bridge, HOST_IFACE, 1500),
             NodeLink(spec, host_side, bridge, "hot-tun", NODE_IFACE, HOST_IFACE.ip, 1500)]
    try:
        started = time.monotonic()
        report = run_plan(steps, dry_run=False)
        took = time.monotonic() - started
        assert report["changes"], "a fresh pod node is all changes"
        assert all(step.check() == [] for step in steps), "converged: nothing left to do"
        print(f"pod node infrastructure up in {took:.1f} s")

        # its own Open vSwitch, netdev bridge with the underlay port
        shown = subprocess.run(["podman", "exec", spec.ovs, "ovs-vsctl", "show"], capture_output=True, text=True,
                               check=True).stdout
        assert "Bridge hot-tun" in shown and "datapath_type: netdev" in shown and f"Port {POD_END}" in shown
        # its own libvirtd (trixie's qemu), on its socket under the node's run dir
        version = subprocess.run(["virsh", "-c", spec.libvirt_uri, "version"], capture_output=True, text=True,
                                 check=True, timeout=60).stdout
        assert "Running hypervisor: QEMU" in version
        # the pod is its own network namespace, named, holding the node's address
        addrs = subprocess.run(["ip", "-n", spec.netns, "-o", "addr"], capture_output=True, text=True,
                               check=True).stdout
        assert str(NODE_IFACE) in addrs
        # the underlay both ways: host → node and node → host, ICMP and TCP
        assert ping_from(host_side.netns or "", NODE_IFACE.ip) is not None
        assert ping_from(spec.netns, HOST_IFACE.ip) is not None
        assert tcp_from(host_side.netns or "", spec.netns, NODE_IFACE.ip)
        assert tcp_from(spec.netns, host_side.netns or "", HOST_IFACE.ip)
    finally:
        removed = remove_plan(steps)
    assert removed["ok"], removed["errors"]
    assert subprocess.run(["podman", "pod", "exists", spec.pod]).returncode == 1
    assert not [c for c in subprocess.run(["podman", "ps", "-a", "--format", "{{.Names}}"], capture_output=True,
                                          text=True, check=True).stdout.split() if c.startswith(spec.pod)]
    assert not netns_path(spec.netns).exists()
    assert subprocess.run(["ip", "-n", host_side.netns or "", "link", "show", host_end(spec.pod)],
                          capture_output=True).returncode != 0
    shown = subprocess.run(["ovs-vsctl", f"--db={host_side.ovsdb}", "list-br"], capture_output=True, text=True,
                           check=True).stdout
    assert bridge not in shown
    assert not spec.run.exists() and not spec.root.exists()
