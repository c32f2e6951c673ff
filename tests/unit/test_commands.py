"""up/down/status/logs pieces that need no containers: selection, status rows, progress lines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from hotstack import catalog
from hotstack.cli.live import ServiceView
from hotstack.commands.logs_cmd import logs
from hotstack.commands.status_cmd import rows
from hotstack.commands.up_cmd import report_json, selection
from hotstack.containers.control import Container
from hotstack.core.errors import BadInput
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.probes.basic import ProbeResult
from hotstack.stack.bringup import Outcome


def test_unknown_services_are_bad_input(settings: Settings, paths: Paths) -> None:
    cat = catalog.build(settings, paths)
    assert selection(cat, ()) is None and selection(cat, ("keystone",)) == ["keystone"]
    with pytest.raises(BadInput, match="keystne"):
        selection(cat, ("keystne",))
    with pytest.raises(BadInput, match="unknown service 'nope'"):
        logs(settings, "nope", follow=False)


def test_status_rows_from_a_snapshot(settings: Settings, paths: Paths) -> None:
    cat = catalog.build(settings, paths)
    snapshot = {"hotstack-mariadb": Container("hotstack-mariadb", "mariadb", "exited", "h", 0.0)}
    found = {r["name"]: r for r in rows(cat, snapshot)}
    assert list(found) == list(cat.services)
    assert found["mariadb"]["state"] == "exited" and not found["mariadb"]["healthy"]
    assert found["keystone"] == {"name": "keystone", "container": "hotstack-keystone", "state": "missing",
                                 "healthy": False, "uptime_s": None, "config_current": False,
                                 "endpoint": "http://keystone.hotstack-os.local:5000/v3"}


def test_up_json_contract() -> None:
    probe = ProbeResult(True, "ok", 1.0)
    outcomes = {"mariadb": Outcome("created", 4.4, probe), "memcached": Outcome("kept", None, probe)}
    data = report_json(True, 12.345, outcomes)
    assert data == {"ok": True, "elapsed_s": 12.3, "services": {
        "mariadb": {"action": "created", "healthy_after_s": 4.4},
        "memcached": {"action": "kept", "healthy_after_s": None}}}


def test_progress_prints_plain_lines_without_a_terminal() -> None:
    out = io.StringIO()
    with ServiceView(Console(file=out, force_terminal=False)) as view:
        view.notify("mariadb", "waiting")
        view.notify("mariadb", "starting", "created")
        view.notify("mariadb", "healthy", "created")
        view.notify("keystone", "skipped", "a dependency failed")
    lines = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines[0] == "mariadb: starting (created)"
    assert lines[1].startswith("mariadb: healthy (created) after ")
    assert lines[2] == "keystone: skipped (a dependency failed)"
    assert "mariadb" in str(view.table().columns[0]._cells)


def test_one_up_or_down_at_a_time(paths: Paths) -> None:
    from hotstack.core.errors import HotstackError
    from hotstack.core.runlock import exclusive

    with exclusive(paths, "up"), pytest.raises(HotstackError, match="another hotstack command"), \
            exclusive(paths, "down"):
        pass
    with exclusive(paths, "up"):  # released
        pass


def test_host_checks_are_skipped_only_when_every_container_is_current(settings: Settings, paths: Paths) -> None:
    from hotstack.commands.up_cmd import all_current

    cat = catalog.build(settings, paths)
    hashes = {name: f"h-{name}" for name in cat.services}
    found = {cat[n].container: Container(cat[n].container, n, "running", f"h-{n}", 1.0) for n in cat.services}
    assert all_current(cat, None, hashes, found)
    assert not all_current(cat, None, {**hashes, "keystone": "new"}, found)
    found["hotstack-mariadb"] = Container("hotstack-mariadb", "mariadb", "exited", "h-mariadb", 0.0)
    assert not all_current(cat, None, hashes, found) and all_current(cat, ["memcached"], hashes, found)


def test_up_json_on_failure_prints_the_report_then_raises(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from hotstack.cli import output
    from hotstack.commands.up_cmd import UpReport
    from hotstack.core.errors import HotstackError

    probe = ProbeResult(True, "ok", 1.0)
    failure = HotstackError("keystone is not healthy: probe token missed its 120 s deadline")
    report = UpReport({"mariadb": Outcome("kept", None, probe)}, 3.21, failure)
    with pytest.raises(HotstackError, match="keystone is not healthy"):
        output.up(report, True)
    printed = json.loads(capsys.readouterr().out)
    assert printed["ok"] is False and printed["services"] == {"mariadb": {"action": "kept", "healthy_after_s": None}}
    assert printed["error"].startswith("keystone is not healthy")


def test_the_user_cloud_entry_is_kept_once_it_exists(paths: Paths) -> None:
    from hotstack.cloud.clouds_yaml import has_user_cloud

    settings = Settings()
    assert not has_user_cloud(settings, paths)
    paths.clouds_yaml.parent.mkdir(parents=True, exist_ok=True)
    paths.clouds_yaml.write_text("clouds:\n  hotstack-os-admin: {}\n")
    assert not has_user_cloud(settings, paths)
    paths.clouds_yaml.write_text("clouds:\n  hotstack-os-admin: {}\n  hotstack-os: {}\n")
    assert has_user_cloud(settings, paths)


def test_a_host_daemon_down_makes_status_unhealthy(tmp_path: Path) -> None:
    from hotstack.commands.status_cmd import StatusReport, daemon_rows
    from hotstack.host.system import Host

    host = Host(ovsdb=f"unix:{tmp_path}/db.sock", libvirt_uri="qemu:///system")  # nothing listens there
    found = {d["name"]: d["running"] for d in daemon_rows(host)}
    assert found.keys() >= {"ovsdb-server", "ovs-vswitchd", "libvirtd"} and not found["ovsdb-server"]
    healthy = [{"healthy": True}]
    assert not StatusReport(healthy, daemon_rows(host)).ok
    assert StatusReport(healthy, [{"name": "ovs-vswitchd", "running": True}]).ok


def test_up_json_answers_a_lock_refusal_too(settings: Settings, paths: Paths) -> None:
    """Another command holds the run lock: `up --json` still prints its JSON answer, exit 1."""
    import json

    from click.testing import CliRunner

    from hotstack.cli.main import cli
    from hotstack.commands import data
    from hotstack.core.runlock import exclusive

    data.ensure(settings, Paths(settings.data_dir))  # a data_dir hotstack made
    with exclusive(paths, "prepare"):
        result = CliRunner().invoke(cli, ["--set", f"data_dir={settings.data_dir}", "up", "--json"], env={})
    assert result.exit_code == 1
    answer = json.loads(result.stdout)
    assert answer["ok"] is False and "another hotstack command" in answer["error"]


def test_the_first_up_renders_what_prepare_detected(settings: Settings, paths: Paths,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """On a KVM host the very first `up` must give nova kvm: the host stage records the facts,
    and the catalog and files are derived again from them before anything starts. This machine
    has no usable KVM, so the host stage is a fake that records kvm; everything else is real."""
    import json

    from hotstack.commands import up_cmd
    from hotstack.commands.progress import QUIET
    from hotstack.commands.render_cmd import render_catalog
    from hotstack.core.hostfacts import FACTS_FILE

    def detect_kvm(cat: catalog.Catalog, progress: object) -> None:
        cat.paths.state.mkdir(parents=True, exist_ok=True)
        facts = {"virt_type": "kvm", "nfs_mode": "local", "datapath_type": "netdev"}
        (cat.paths.state / FACTS_FILE).write_text(json.dumps(facts))

    monkeypatch.setattr(up_cmd.plan, "ensure", detect_kvm)
    cat = catalog.build(settings, paths)
    before = render_catalog(cat)
    assert "virt_type = qemu" in (paths.rendered / "nova" / "nova-compute.conf").read_text()  # nothing detected yet
    after_cat, after = up_cmd.prepared(cat, before, QUIET)
    assert "virt_type = kvm" in (paths.rendered / "nova" / "nova-compute.conf").read_text()
    assert after.hashes["nova-compute"] != before.hashes["nova-compute"] and after_cat is not cat
    # facts unchanged on a later run: nothing derived again, so nothing would be recreated
    again_cat, again = up_cmd.prepared(after_cat, after, QUIET)
    assert again_cat is after_cat and again.hashes == after.hashes


def test_clean_removes_exactly_its_own_clouds_yaml_entries(settings: Settings, tmp_path: Path) -> None:
    """The admin password must not outlive the cloud in /etc/openstack/clouds.yaml, and another
    deployment's entries and the user's own clouds stay."""
    import dataclasses

    import yaml

    from hotstack.cloud.clouds_yaml import remove_clouds_yaml, write_clouds_yaml

    system = tmp_path / "etc-openstack" / "clouds.yaml"
    system.parent.mkdir()
    system.write_text(yaml.safe_dump({"clouds": {"mine": {"auth": {"auth_url": "http://example.invalid"}}}}))
    other = settings.model_copy(update={"name": "e2e", "data_dir": tmp_path / "e2e"})
    paths = {s.name: dataclasses.replace(Paths(s.data_dir), system_clouds_yaml=system) for s in (settings, other)}
    for s in (settings, other):
        write_clouds_yaml(s, paths[s.name], with_user=True)
    assert set(yaml.safe_load(system.read_text())["clouds"]) == {
        "mine", "hotstack-os", "hotstack-os-admin", "e2e-os", "e2e-os-admin"}
    changed = remove_clouds_yaml(settings, paths[settings.name])
    assert system in changed and not paths[settings.name].clouds_yaml.exists()
    assert set(yaml.safe_load(system.read_text())["clouds"]) == {"mine", "e2e-os", "e2e-os-admin"}
