"""The firewalld zones against a real firewalld, running in a network namespace the test creates
on a D-Bus system bus of its own (hostfixtures.firewalld)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostfixtures import firewalld, ip, netns

from hotstack import catalog
from hotstack.core.paths import Paths
from hotstack.core.scope import Scope
from hotstack.core.settings import Settings
from hotstack.host import firewalld as fwd
from hotstack.host.step import run_plan
from hotstack.host.system import Host

pytestmark = pytest.mark.integration
MASQ = Scope("hotstack").masquerade_policy


@pytest.fixture
def ns() -> Iterator[str]:
    yield from netns()


@pytest.fixture
def host(ns: str, tmp_path: Path) -> Iterator[Host]:
    # An uplink: a veth pair inside the namespace, the default route through one end.
    ip(ns, "link", "add", "up0", "type", "veth", "peer", "name", "up1")
    ip(ns, "addr", "add", "10.99.0.2/24", "dev", "up0")
    for dev in ("up0", "up1", "lo"):
        ip(ns, "link", "set", dev, "up")
    ip(ns, "route", "add", "default", "via", "10.99.0.1", "dev", "up0")
    for bus in firewalld(ns, tmp_path):
        yield Host(netns=ns, system_bus=bus)


def fc(host: Host, *args: str) -> str:
    assert host.netns and host.system_bus
    return subprocess.run(["ip", "netns", "exec", host.netns, "firewall-cmd", *args], check=True,
                          capture_output=True, text=True,
                          env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": host.system_bus}).stdout


def with_keystone_port(settings: Settings, port: int) -> Settings:
    return settings.model_copy(update={"ports": settings.ports.model_copy(update={"keystone": port})})


def test_zones_converge_both_ways(settings: Settings, paths: Paths, host: Host) -> None:
    assert fwd.running(host) and not fwd.running(Host(netns=host.netns))
    fc(host, "--permanent", "--new-zone=keepme")
    step = fwd.FirewalldZones(catalog.build(settings, paths), host)
    assert any(d.startswith("create zone hotstack-os") for d in step.check())
    assert run_plan([step], dry_run=False)["changes"]
    assert step.check() == []
    ports = fc(host, "--zone=hotstack-external", "--list-ports").split()
    assert "5000/tcp" in ports and "53/udp" in ports and "5900-6923/tcp" not in ports
    assert "5900-6923/tcp" in fc(host, "--zone=hotstack-os", "--list-ports").split()
    assert fc(host, "--zone=hotstack-os", "--list-sources").split() == [str(settings.network.container_cidr)]
    assert fc(host, f"--policy={MASQ}", "--list-egress-zones").split() == ["public"]
    assert "masquerade" in fc(host, f"--policy={MASQ}", "--list-rich-rules")

    # Someone adds things to hotstack's zone, at runtime and permanently: both are noticed and undone.
    fc(host, "--zone=hotstack-os", "--add-port=4444/tcp")
    fc(host, "--permanent", "--zone=hotstack-external", "--add-service=ssh")
    fc(host, "--permanent", "--zone=hotstack-external", "--add-masquerade")
    fc(host, "--reload")
    fc(host, "--zone=hotstack-os", "--add-port=4444/tcp")
    diffs = step.check()
    assert "zone hotstack-os: remove ports 4444/tcp" in diffs
    assert "zone hotstack-external: remove services ssh" in diffs
    assert "zone hotstack-external: set masquerade no (is yes)" in diffs
    step.apply()
    assert step.check() == []
    assert "ssh" not in fc(host, "--permanent", "--zone=hotstack-external", "--list-services")

    # The policy changes (keystone moves, NFS served by the kernel): the difference is listed,
    # applied, and the port no longer wanted is really closed.
    moved = fwd.FirewalldZones(catalog.build(with_keystone_port(settings, 5001), paths), host, nfs_server=True)
    diffs = moved.check()
    assert "zone hotstack-external: remove ports 5000/tcp" in diffs
    assert any(d.startswith("zone hotstack-os: add ports") and "2049/tcp" in d for d in diffs)
    assert run_plan([moved], dry_run=False)["changes"]
    assert moved.check() == []
    for zone in ("hotstack-external", "hotstack-os"):
        for listing in (fc(host, f"--zone={zone}", "--list-ports"),
                        fc(host, "--permanent", f"--zone={zone}", "--list-ports")):
            assert "5000/tcp" not in listing.split() and "5001/tcp" in listing.split()
    assert "2049/tcp" in fc(host, "--zone=hotstack-os", "--list-ports").split()

    assert moved.remove() == [f"deleted firewalld policy {MASQ}", "deleted firewalld zone hotstack-os",
                              "deleted firewalld zone hotstack-external"]
    zones = fc(host, "--get-zones").split()
    assert "keepme" in zones and "public" in zones and "hotstack-os" not in zones
    assert MASQ not in fc(host, "--get-policies").split()
    assert moved.remove() == []


def test_masquerade_off_drops_the_policy(settings: Settings, paths: Paths, host: Host) -> None:
    fwd.FirewalldZones(catalog.build(settings, paths), host).apply()
    off = settings.model_copy(update={"network": settings.network.model_copy(update={"masquerade": False})})
    step = fwd.FirewalldZones(catalog.build(off, paths), host)
    assert step.check() == [f"delete policy {MASQ}"]
    step.apply()
    assert step.check() == []
    assert MASQ not in fc(host, "--get-policies").split()


def test_another_machine_s_node_gets_a_zone_of_its_own_address(settings: Settings, paths: Paths, host: Host) -> None:
    """A node registered on another machine: the zone hotstack-nodes binds its address and opens
    what it reaches on node one's host (migration, sshd, the NFS server); unregistered, it goes."""
    from hotstack.commands.node_cmd import bundle_command
    from hotstack.core.noderegistry import Registry

    fwd.FirewalldZones(catalog.build(settings, paths), host, nfs_server=True).apply()
    bundle_command(settings, "lab-b", "10.99.0.12", None)
    step = fwd.FirewalldZones(catalog.build(settings, paths), host, nfs_server=True)
    assert step.check() == [
        "create zone hotstack-nodes: sources 10.99.0.12; ports 111/tcp, 111/udp, 16514/tcp, 2049/tcp, 2049/udp, "
        "49152-49215/tcp, 5672/tcp, 6643/tcp, 8022/tcp"]
    step.apply()
    assert step.check() == []
    assert fc(host, "--zone=hotstack-nodes", "--list-sources").split() == ["10.99.0.12"]
    assert fc(host, "--get-zone-of-source=10.99.0.12").strip() == "hotstack-nodes"
    assert "16514/tcp" not in fc(host, "--zone=hotstack-external", "--list-ports").split()

    Registry(paths.state).drop("lab-b")
    gone = fwd.FirewalldZones(catalog.build(settings, paths), host, nfs_server=True)
    assert gone.check() == ["delete zone hotstack-nodes"]
    gone.apply()
    assert "hotstack-nodes" not in fc(host, "--get-zones").split()
