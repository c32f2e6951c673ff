"""Real, private host components for the host tests: a network namespace and an ovsdb-server."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
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
