"""Real, private host components for the host tests: a network namespace, an ovsdb-server and a
firewalld on its own D-Bus."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")


def need(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")


def netns() -> Iterator[str]:
    """A fresh network namespace, deleted afterwards whatever happens."""
    need("ip")
    name = f"hotstack-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def ovsdb(tmp_path: Path) -> Iterator[str]:
    """A private ovsdb-server with the Open_vSwitch schema; yields its unix: connection string."""
    need("ovsdb-server", "ovsdb-tool", "ovs-vsctl")
    if not SCHEMA.exists():
        pytest.skip(f"{SCHEMA} missing")
    db, sock = tmp_path / "conf.db", tmp_path / "db.sock"
    subprocess.run(["ovsdb-tool", "create", str(db), str(SCHEMA)], check=True)
    server = subprocess.Popen(
        ["ovsdb-server", str(db), f"--remote=punix:{sock}", f"--unixctl={tmp_path / 'ctl'}",
         "--no-chdir", f"--log-file={tmp_path / 'ovsdb.log'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not sock.exists():
            assert time.monotonic() < deadline, "ovsdb-server did not create its socket"
            time.sleep(0.05)
        subprocess.run(["ovs-vsctl", f"--db=unix:{sock}", "--no-wait", "init"], check=True)
        yield f"unix:{sock}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def ip(ns: str, *args: str) -> str:
    """`ip -n NS ARGS...`, its output (the namespace is the test's own)."""
    return subprocess.run(["ip", "-n", ns, *args], check=True, capture_output=True, text=True).stdout


BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/>
  </policy>
</busconfig>
"""
FIREWALLD_CONF = "DefaultZone=public\nFirewallBackend=nftables\nCleanupOnExit=yes\nLogDenied=off\n"
# Inside a private mount namespace: the host's /etc/firewalld is hidden behind the test's own
# config dir, and /run is a fresh tmpfs (firewalld's /run/firewalld lands there).
PRIVATE_MOUNTS = 'mount --bind "$1" /etc/firewalld && mount -t tmpfs tmpfs /run && shift && exec "$@"'


def _wait_for(what: str, ready: Callable[[], bool], proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"{what} exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"{what} did not come up in {timeout} s"
        time.sleep(0.2)


def firewalld(ns: str, tmp_path: Path) -> Iterator[str]:
    """A real firewalld (nftables backend) in the test's namespace, on a D-Bus system bus of its
    own; yields that bus's address. The host's firewalld config and ruleset are never touched."""
    need("firewalld", "firewall-cmd", "dbus-daemon", "unshare")
    if not Path("/etc/firewalld").is_dir():
        pytest.skip("/etc/firewalld missing (nothing to hide behind the test's config)")
    socket, conf, log = tmp_path / "bus", tmp_path / "firewalld", tmp_path / "firewalld.log"
    for sub in ("zones", "policies", "services", "ipsets", "icmptypes", "helpers"):
        (conf / sub).mkdir(parents=True)
    (conf / "firewalld.conf").write_text(FIREWALLD_CONF)
    (tmp_path / "bus.conf").write_text(BUS_CONF.format(socket=socket))
    address = f"unix:path={socket}"
    bus = subprocess.Popen(["ip", "netns", "exec", ns, "dbus-daemon", f"--config-file={tmp_path / 'bus.conf'}",
                            "--nofork", "--nopidfile"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    daemon = None
    try:
        _wait_for("dbus-daemon", socket.exists, bus)
        with log.open("wb") as sink:
            daemon = subprocess.Popen(
                ["ip", "netns", "exec", ns, "unshare", "--mount", "--propagation", "private",
                 "sh", "-c", PRIVATE_MOUNTS, "sh", str(conf),
                 "firewalld", "--nofork", "--nopid", "--log-target", "console", "--system-config", str(conf)],
                stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address})
        _wait_for("firewalld", lambda: _state(ns, address), daemon)
        yield address
    finally:
        for proc in (daemon, bus):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)


def _state(ns: str, address: str) -> bool:
    return subprocess.run(["ip", "netns", "exec", ns, "firewall-cmd", "--state"], capture_output=True,
                          env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": address}).returncode == 0
