"""The checksum-offload step against a private ovsdb-server and ovs-vswitchd (userspace datapath)
running in a network namespace of the test's own: the host's OVS is never touched."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostfixtures import need, ovsdb

from hotstack.core import runner
from hotstack.host import ovs_offload
from hotstack.host.ovs import session
from hotstack.host.step import remove_plan, run_plan
from hotstack.host.system import Host

pytestmark = pytest.mark.integration

BRIDGE = "hsoff-int"


def vswitchd_argv(db: str, tmp_path: Path) -> list[str]:
    return ["ovs-vswitchd", db, f"--pidfile={tmp_path / 'vswitchd.pid'}", f"--unixctl={tmp_path / 'vswitchd.ctl'}",
            f"--log-file={tmp_path / 'vswitchd.log'}", "--no-chdir", "--detach"]


def restart_argv(db: str, tmp_path: Path, ns: str) -> list[str]:
    """What `ovs-ctl --no-ovsdb-server restart` does for the host's daemon, for the private one."""
    script = (f"ovs-appctl -t {tmp_path / 'vswitchd.ctl'} exit && " + " ".join(vswitchd_argv(db, tmp_path)))
    return runner.in_netns(ns, ["sh", "-c", script])


@pytest.fixture
def private_ovs(tmp_path: Path, ns: str) -> Iterator[str]:
    need("ovs-vswitchd", "ovs-appctl")
    for db in ovsdb(tmp_path):
        subprocess.run(runner.in_netns(ns, vswitchd_argv(db, tmp_path)), check=True, capture_output=True)
        try:
            subprocess.run(["ovs-vsctl", f"--db={db}", "add-br", BRIDGE, "--", "set", "bridge", BRIDGE,
                            "datapath_type=netdev"], check=True, capture_output=True, timeout=30)
            yield db
        finally:
            subprocess.run(["ovs-appctl", "-t", str(tmp_path / "vswitchd.ctl"), "exit"], capture_output=True)


def other_config(host: Host) -> tuple[dict[str, str], dict[str, str]]:
    with session(host) as api:
        row = api.db_list("Open_vSwitch", columns=["other_config", "external_ids"]).execute(check_error=True)[0]
    return row["other_config"], row["external_ids"]


def test_turns_offload_on_restarts_once_and_removes_its_key(private_ovs: str, ns: str, tmp_path: Path) -> None:
    host = Host(ovsdb=private_ovs, netns=ns, start_daemons=False)
    step = ovs_offload.OvsUserspaceOffload(host, BRIDGE, restart=restart_argv(private_ovs, tmp_path, ns))
    # A userspace bridge's internal port starts without offload: what guests' TCP trips on.
    assert ovs_offload.tx_checksum_offload(BRIDGE, ns) is False
    assert step.check() == [f"set other_config:{ovs_offload.KEY}=true and restart ovs-vswitchd"]

    pid = (tmp_path / "vswitchd.pid").read_text()
    assert run_plan([step], dry_run=False)["changes"]
    assert ovs_offload.tx_checksum_offload(BRIDGE, ns) is True
    assert (tmp_path / "vswitchd.pid").read_text() != pid  # restarted
    other, ids = other_config(host)
    assert other[ovs_offload.KEY] == "true" and ids[ovs_offload.OWNED] == "true"

    pid = (tmp_path / "vswitchd.pid").read_text()
    assert run_plan([step], dry_run=False)["changes"] == []
    assert (tmp_path / "vswitchd.pid").read_text() == pid  # no second restart

    assert remove_plan([step])["changes"] == [{"step": "ovs-offload",
                                               "change": f"removed other_config:{ovs_offload.KEY}"}]
    other, ids = other_config(host)
    assert ovs_offload.KEY not in other and ovs_offload.OWNED not in ids
    assert step.remove() == []


def test_key_set_by_hand_without_restart_is_seen(private_ovs: str, ns: str, tmp_path: Path) -> None:
    subprocess.run(["ovs-vsctl", f"--db={private_ovs}", "set", "Open_vSwitch", ".",
                    f"other_config:{ovs_offload.KEY}=true"], check=True, timeout=30)
    host = Host(ovsdb=private_ovs, netns=ns, start_daemons=False)
    step = ovs_offload.OvsUserspaceOffload(host, BRIDGE, restart=restart_argv(private_ovs, tmp_path, ns))
    assert step.check() == [f"restart ovs-vswitchd (its ports were opened before {ovs_offload.KEY} was set)"]
    run_plan([step], dry_run=False)
    assert ovs_offload.tx_checksum_offload(BRIDGE, ns) is True
    assert step.remove() == []  # the operator set it, so clean leaves it


def test_no_way_to_restart_is_one_clear_error(private_ovs: str, ns: str, tmp_path: Path) -> None:
    host = Host(ovsdb=private_ovs, netns=ns, start_daemons=False, proc=tmp_path)  # proc: no systemd
    step = ovs_offload.OvsUserspaceOffload(host, BRIDGE)
    assert step.restart is None  # no systemd here and not allowed to start daemons
    with pytest.raises(Exception, match="ovs-vswitchd must be restarted"):
        run_plan([step], dry_run=False)
