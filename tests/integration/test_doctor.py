"""doctor on this machine, read-only: every finding has the JSON shape, levels are known, a
failing check says how to fix it, and `skip` leaves a check out. libvirt is the test driver, so
the KVM try does not touch the host's daemon."""

from __future__ import annotations

import pytest

from hotstack import catalog
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import doctor
from hotstack.host.system import Host

pytestmark = pytest.mark.integration
HOST = Host(libvirt_uri="test:///default", start_daemons=False)


def test_findings_have_the_documented_shape(settings: Settings, paths: Paths) -> None:
    report = doctor.run(catalog.build(settings, paths), HOST)
    assert set(report) == {"ok", "findings"}
    checks = {f["check"] for f in report["findings"]}
    assert {"virtualization", "kernel-ovs", "kernel-nfs", "disk", "memory"} <= checks
    for finding in report["findings"]:
        assert set(finding) == {"check", "level", "message", "fix"}
        assert finding["level"] in ("ok", "warn", "fail")
        assert finding["message"]
        if finding["level"] == "fail":
            assert finding["fix"], finding
    assert report["ok"] == all(f["level"] != "fail" for f in report["findings"])


def test_skip_leaves_a_check_out(settings: Settings, paths: Paths) -> None:
    report = doctor.run(catalog.build(settings, paths), HOST, skip=("virtualization",))
    assert "virtualization" not in {f["check"] for f in report["findings"]}
