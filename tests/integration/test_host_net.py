"""The brex address step inside a network namespace the test creates."""

from __future__ import annotations

import pytest
from hostfixtures import ip

from hotstack.core.errors import BadInput
from hotstack.core.settings import Settings
from hotstack.host.net import BrexAddress
from hotstack.host.step import run_plan
from hotstack.host.system import Host

pytestmark = pytest.mark.integration




@pytest.fixture
def brex(ns: str) -> str:
    # No dummy driver on every kernel; a Linux bridge stands in for the OVS internal port.
    ip(ns, "link", "add", "hot-ex", "type", "bridge")
    ip(ns, "link", "add", "other0", "type", "bridge")
    ip(ns, "addr", "add", "10.9.8.7/24", "dev", "hot-ex")  # someone else's address stays
    return ns


def test_address_applied_idempotent_removed(settings: Settings, brex: str) -> None:
    step = BrexAddress(settings, Host(netns=brex))
    assert "add 172.31.0.129/25 to hot-ex" in step.check()
    assert run_plan([step], dry_run=False)["changes"]
    shown = ip(brex, "-4", "addr", "show", "hot-ex")
    assert "inet 172.31.0.129/25" in shown
    flags = ip(brex, "link", "show", "hot-ex").split("<")[1].split(">")[0].split(",")
    assert "UP" in flags
    assert step.check() == []
    assert run_plan([step], dry_run=False)["changes"] == []
    assert step.remove() == ["removed 172.31.0.129/25 from hot-ex"]
    shown = ip(brex, "-4", "addr", "show", "hot-ex")
    assert "172.31.0.129" not in shown and "10.9.8.7/24" in shown
    assert step.remove() == []


def test_mtu_is_set(settings: Settings, brex: str) -> None:
    ip(brex, "link", "set", "hot-ex", "mtu", "1400")
    step = BrexAddress(settings, Host(netns=brex))
    assert "set hot-ex MTU 1400 → 1500" in step.check()
    step.apply()
    assert "mtu 1500" in ip(brex, "link", "show", "hot-ex")


def test_brex_ip_on_another_interface_is_bad_input(settings: Settings, brex: str) -> None:
    ip(brex, "addr", "add", "172.31.0.129/32", "dev", "other0")
    step = BrexAddress(settings, Host(netns=brex))
    with pytest.raises(BadInput, match=r"network.brex_ip.*already on other0") as err:
        run_plan([step], dry_run=False)
    assert err.value.exit_code == 2
    assert "172.31.0.129" not in ip(brex, "-4", "addr", "show", "hot-ex")  # nothing changed


def test_container_cidr_overlapping_a_route_is_bad_input(settings: Settings, brex: str) -> None:
    ip(brex, "link", "set", "other0", "up")
    ip(brex, "route", "add", "172.31.0.0/24", "dev", "other0")
    step = BrexAddress(settings, Host(netns=brex))
    with pytest.raises(BadInput, match=r"network.container_cidr.*overlaps route 172.31.0.0/24 via other0"):
        run_plan([step], dry_run=False)
    assert "172.31.0.129" not in ip(brex, "-4", "addr", "show", "hot-ex")


def test_own_state_is_not_a_collision(settings: Settings, brex: str) -> None:
    """A prepared host (address on hot-ex, podman's bridge holding the gateway) passes again."""
    ip(brex, "addr", "add", "172.31.0.1/25", "dev", "other0")
    ip(brex, "link", "set", "other0", "up")
    step = BrexAddress(settings, Host(netns=brex))
    step.apply()
    step.validate()
