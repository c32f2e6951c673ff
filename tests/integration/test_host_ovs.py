"""OVS step against a private ovsdb-server (the host's OVS is never touched)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostfixtures import ovsdb

from hotstack import catalog
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import ovs
from hotstack.host.step import run_plan
from hotstack.host.system import Host

pytestmark = pytest.mark.integration


@pytest.fixture
def db(tmp_path: Path) -> Iterator[str]:
    yield from ovsdb(tmp_path)


@pytest.fixture
def host(db: str, tmp_path: Path) -> Host:
    (tmp_path / "sys" / "module").mkdir(parents=True)  # a kernel without the openvswitch module
    return Host(ovsdb=db, sys=tmp_path / "sys", wait_vswitchd=False, start_daemons=False)


def vsctl(db: str, *args: str) -> str:
    return subprocess.run(["ovs-vsctl", f"--db={db}", "--no-wait", *args], check=True,
                          capture_output=True, text=True).stdout.strip()


def state(host: Host) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    with ovs.session(host) as api:
        bridges = {r["name"]: r for r in api.db_list("Bridge").execute(check_error=True)}
        ifaces = {r["name"]: r for r in api.db_list("Interface").execute(check_error=True)}
        ids = api.db_get("Open_vSwitch", ".", "external_ids").execute(check_error=True)
    return bridges, ifaces, ids


def test_apply_twice_then_remove(settings: Settings, paths: Paths, host: Host, db: str) -> None:
    vsctl(db, "set", "Open_vSwitch", ".", "external_ids:keep-me=yes")
    # what a second deployment's ovn-controller keeps (its chassis: e2e-chassis) must survive
    vsctl(db, "set", "Open_vSwitch", ".", "other_config:ovn-chassis-idx-e2e-chassis=2", "other_config:vlan-limit=0")
    vsctl(db, "add-br", "someone-elses")
    step = ovs.OvsBridges(catalog.build(settings, paths), host)
    assert step.check()

    first = run_plan([step], dry_run=False)
    assert first["ok"] and first["changes"]
    assert step.check() == []
    assert run_plan([step], dry_run=False)["changes"] == []

    bridges, ifaces, ids = state(host)
    for name in ("hot-int", "hot-ex"):
        assert bridges[name]["datapath_type"] == "netdev"
        assert ifaces[name]["mtu_request"] in (1500, [1500])
        assert ifaces[name]["type"] == "internal"
    assert ids["ovn-remote"] == "tcp:172.31.0.16:6642"
    assert ids["ovn-encap-type"] == "geneve"
    assert ids["ovn-encap-ip"] == "172.31.0.129"
    assert ids["ovn-bridge"] == "hot-int"
    assert ids["ovn-bridge-mappings"] == "provider:hot-ex"
    assert ids["ovn-bridge-datapath-type"] == "netdev"
    assert ids["ovn-cms-options"] == "enable-chassis-as-gw"
    assert ids["hostname"] == settings.nova.host
    assert ids["system-id"]
    system_id = ids["system-id"]
    vsctl(db, "set", "Open_vSwitch", ".", f"other_config:ovn-chassis-idx-{system_id}=1")  # ovn-controller's

    removed = step.remove()
    assert "deleted bridge hot-int" in removed and "deleted bridge hot-ex" in removed
    bridges, _, ids = state(host)
    assert set(bridges) == {"someone-elses"}
    assert ids["keep-me"] == "yes"
    with ovs.session(host) as api:
        other = api.db_get("Open_vSwitch", ".", "other_config").execute(check_error=True)
    # this chassis's index goes; another deployment's and the rest stay
    assert other == {"vlan-limit": "0", "ovn-chassis-idx-e2e-chassis": "2"}
    assert not any(k.startswith("ovn-") for k in ids)
    assert "system-id" not in ids  # hotstack chose it, so hotstack removes it
    assert system_id
    assert step.remove() == []


def test_existing_system_id_is_kept(settings: Settings, paths: Paths, host: Host, db: str) -> None:
    vsctl(db, "set", "Open_vSwitch", ".", "external_ids:system-id=chassis-1")
    step = ovs.OvsBridges(catalog.build(settings, paths), host)
    step.apply()
    assert state(host)[2]["system-id"] == "chassis-1"
    step.remove()
    assert state(host)[2]["system-id"] == "chassis-1"


def test_changed_mtu_is_converged(settings: Settings, paths: Paths, host: Host, db: str) -> None:
    step = ovs.OvsBridges(catalog.build(settings, paths), host)
    step.apply()
    vsctl(db, "set", "Interface", "hot-ex", "mtu_request=1400")
    assert step.check() == ["set hot-ex MTU to 1500"]
    step.apply()
    assert step.check() == []


def test_kernel_module_means_system_datapath(tmp_path: Path) -> None:
    (tmp_path / "module" / "openvswitch").mkdir(parents=True)
    assert ovs.datapath_type(Host(sys=tmp_path)) == "system"
    assert ovs.datapath_type(Host(sys=tmp_path / "none")) == "netdev"


def test_a_second_deployment_keeps_to_its_own_keys(settings: Settings, paths: Paths, host: Host, db: str,
                                                    tmp_path: Path) -> None:
    """Two deployments on one Open vSwitch: the second's ovn-controller is chassis e2e-chassis and
    reads keys suffixed with it; its clean removes its bridges and keys and nothing of the first."""
    first = ovs.OvsBridges(catalog.build(settings, paths), host)
    first.apply()
    before = state(host)[2]
    other = settings.model_copy(update={"name": "e2e", "network": settings.network.model_copy(
        update={"int_bridge": "e2e-int", "ex_bridge": "e2e-ex"})})
    second = ovs.OvsBridges(catalog.build(other, Paths(tmp_path / "e2e")), host)
    second.apply()
    assert second.check() == [] and first.check() == []
    bridges, _, ids = state(host)
    assert {"hot-int", "hot-ex", "e2e-int", "e2e-ex"} <= set(bridges)
    assert ids["ovn-bridge-e2e-chassis"] == "e2e-int" and ids["ovn-bridge"] == "hot-int"
    assert ids["ovn-bridge-mappings-e2e-chassis"] == "provider:e2e-ex"
    second.remove()
    bridges, _, ids = state(host)
    assert {"hot-int", "hot-ex"} <= set(bridges) and not {"e2e-int", "e2e-ex"} & set(bridges)
    assert ids == before  # the first deployment's keys, untouched
    assert first.check() == []
