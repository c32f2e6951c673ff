"""The /run/netns step's clean-up, on a directory of the test's own (never the host's /run/netns)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hotstack.host.netns import SharedNetns, mount_propagation

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
