"""The /run/netns step's clean-up, on a directory of the test's own (never the host's /run/netns)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hotstack.host.netns import SharedNetns, inner_links, mount_propagation

pytestmark = pytest.mark.integration


def test_remove_deletes_the_metadata_agents_namespaces_only(tmp_path: Path, ns: str) -> None:
    target = tmp_path / "netns"
    target.mkdir()
    live = target / "ovnmeta-0a1b"  # a real namespace handle, mounted as ip-netns leaves it
    live.touch()
    subprocess.run(["mount", "--bind", f"/run/netns/{ns}", str(live)], check=True)
    (target / "ovnmeta-stale").touch()  # a handle whose mount is already gone
    (target / "someone-elses").touch()
    try:
        step = SharedNetns(target, tmp_path / "marker")  # no marker: hotstack did not mount target
        assert step.remove() == ["deleted network namespace ovnmeta-0a1b",
                                 "deleted network namespace ovnmeta-stale"]
        assert sorted(p.name for p in target.iterdir()) == ["someone-elses"]
        assert mount_propagation(Path("/proc/self/mountinfo").read_text(), live) is None
    finally:
        subprocess.run(["umount", str(live)], capture_output=True)


def test_another_deployments_namespaces_and_the_mount_they_need_are_kept(tmp_path: Path, ns: str) -> None:
    """Two deployments share /run/netns: the one cleaning removes its own namespaces and leaves
    the other's (live), and keeps the shared mount they need even though it made it."""
    target, marker = tmp_path / "netns", tmp_path / "marker"
    target.mkdir()
    handles = {name: target / name for name in ("ovnmeta-ours", "ovnmeta-theirs")}
    for handle in handles.values():
        handle.touch()
        subprocess.run(["mount", "--bind", f"/run/netns/{ns}", str(handle)], check=True)
    marker.write_text("hotstack bind-mounted this path onto itself\n")
    try:
        step = SharedNetns(target, marker, owns=lambda handle: handle.name == "ovnmeta-ours")
        assert step.remove() == ["deleted network namespace ovnmeta-ours",
                                 f"kept the mount {target}: 1 namespace(s) of another deployment"]
        assert sorted(p.name for p in target.iterdir()) == ["ovnmeta-theirs"]
    finally:
        for handle in handles.values():
            subprocess.run(["umount", str(handle)], capture_output=True)


def test_inner_links_names_the_interfaces_inside(ns: str) -> None:
    subprocess.run(["ip", "link", "add", "tapabc0", "type", "veth", "peer", "name", "tapabc1", "netns", ns], check=True)
    try:
        assert {"lo", "tapabc1"} <= inner_links(Path(f"/run/netns/{ns}"))
    finally:
        subprocess.run(["ip", "link", "del", "tapabc0"], capture_output=True)
