"""The step runner and the plan: dry runs change nothing; failures name the step."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hotstack import catalog
from hotstack.core.errors import BadInput, HotstackError
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import plan
from hotstack.host.firewall import observed
from hotstack.host.ovs import datapath_type
from hotstack.host.step import Step, remove_plan, run_plan
from hotstack.host.system import Host


class Fake(Step):
    def __init__(self, step_id: str, diffs: list[str], log: list[str], *, bad: bool = False,
                 broken: bool = False) -> None:
        self.id, self.diffs, self.log, self.bad, self.broken = step_id, diffs, log, bad, broken

    def describe(self) -> str:
        return f"fake {self.id}"

    def validate(self) -> None:
        if self.bad:
            raise BadInput("network.brex_ip collides")

    def check(self) -> list[str]:
        return list(self.diffs)

    def apply(self) -> None:
        if self.broken:
            raise OSError("disk on fire")
        self.log.append(f"apply {self.id}")
        self.diffs = []

    def remove(self) -> list[str]:
        self.log.append(f"remove {self.id}")
        return [f"undid {self.id}"]


def test_json_shape_and_idempotence() -> None:
    log: list[str] = []
    steps = [Fake("a", ["make a"], log), Fake("b", [], log)]
    result = run_plan(steps, dry_run=False)
    assert result == {"ok": True, "changes": [{"step": "a", "change": "make a"}]}
    json.dumps(result)
    assert run_plan(steps, dry_run=False) == {"ok": True, "changes": []}
    assert log == ["apply a"]


def test_dry_run_applies_nothing() -> None:
    log: list[str] = []
    result = run_plan([Fake("a", ["make a"], log)], dry_run=True)
    assert result["changes"] == [{"step": "a", "change": "make a"}]
    assert log == []


def test_preflight_runs_before_any_apply() -> None:
    log: list[str] = []
    with pytest.raises(BadInput, match=r"step b.*collides") as err:
        run_plan([Fake("a", ["make a"], log), Fake("b", ["make b"], log, bad=True)], dry_run=False)
    assert err.value.exit_code == 2
    assert log == []


def test_failure_names_the_step_and_the_fix() -> None:
    with pytest.raises(HotstackError, match=r"step a \(fake a\) failed while applying: OSError: disk on fire"):
        run_plan([Fake("a", ["x"], [], broken=True)], dry_run=False)


def test_remove_runs_last_first() -> None:
    log: list[str] = []
    result = remove_plan([Fake("a", [], log), Fake("b", [], log)])
    assert log == ["remove b", "remove a"] and result["ok"]


@pytest.fixture
def test_host(tmp_path: Path) -> Host:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    return Host(ovsdb=f"unix:{tmp_path / 'no-ovsdb.sock'}", libvirt_uri="test:///default",
                etc_hosts=hosts, exports_dir=tmp_path / "exports.d", mounts=False)


def test_real_plan_dry_run_changes_nothing(settings: Settings, test_host: Host, tmp_path: Path) -> None:
    paths = Paths(settings.data_dir)
    steps = plan.steps(catalog.build(settings, paths), test_host)
    ids = [s.id for s in steps]
    assert len(ids) == len(set(ids))
    assert ids[0] == "podman-runtime" and ids[-1] == "host-facts"
    table_before = observed(test_host, ("inet", "hotstack"))
    result = run_plan(steps, dry_run=True)
    assert result["ok"] is True
    assert all(set(c) == {"step", "change"} and all(isinstance(v, str) for v in c.values())
               for c in result["changes"])
    assert {c["step"] for c in result["changes"]} >= {"podman-runtime", "ovs-bridges", "etc-hosts"}
    if datapath_type(test_host) == "netdev":  # guests' TCP needs checksum offload there
        assert "ovs-offload" in {c["step"] for c in result["changes"]}
    json.dumps(result)
    assert not settings.data_dir.exists()
    assert test_host.etc_hosts.read_text() == "127.0.0.1 localhost\n"
    assert observed(test_host, ("inet", "hotstack")) == table_before
    assert sorted(os.listdir(tmp_path)) == sorted(["hosts", "hotstack.yaml"])


def test_prepare_dry_run_json(settings: Settings, test_host: Host, capsys: pytest.CaptureFixture[str]) -> None:
    from hotstack.commands.prepare_cmd import prepare

    report = prepare(settings, dry_run=True, host=test_host)
    out = json.loads(json.dumps(report.to_json()))
    assert out["ok"] is True and out["changes"] and report.dry_run
    assert capsys.readouterr().out == ""  # commands never print
    assert not settings.data_dir.exists()


def test_clean_refuses_without_yes(settings: Settings) -> None:
    from hotstack.commands.clean_cmd import clean

    with pytest.raises(BadInput, match="clean deletes") as err:
        clean(settings, yes=False, images=False)
    assert err.value.exit_code == 2
