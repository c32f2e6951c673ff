"""The nftables table, inside a network namespace the test creates."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from hostfixtures import need, netns

from hotstack import catalog
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host.firewall import NftTable, observed
from hotstack.host.step import run_plan
from hotstack.host.system import Host

pytestmark = pytest.mark.integration


@pytest.fixture
def ns() -> Iterator[str]:
    need("nft")
    yield from netns()


def nft(ns: str, *args: str, input: str | None = None) -> str:
    return subprocess.run(["ip", "netns", "exec", ns, "nft", *args], input=input, check=True,
                          capture_output=True, text=True).stdout


def test_table_created_idempotent_removed(settings: Settings, paths: Paths, ns: str) -> None:
    nft(ns, "-f", "-", input="table inet keepme {\n chain c { type filter hook input priority 0; }\n}\n")
    host = Host(netns=ns)
    step = NftTable(catalog.build(settings, paths), host)
    assert step.check()
    assert run_plan([step], dry_run=False)["changes"]
    listed = nft(ns, "list", "table", "inet", "hotstack")
    for port in ("5000", "9292", "8774", "9696", "8404", "8775"):
        assert port in listed
    assert "ip daddr 172.31.0.129 ct state new drop" in listed
    assert step.check() == []
    assert run_plan([step], dry_run=False)["changes"] == []

    nft(ns, "flush", "chain", "inet", "hotstack", "input")  # someone damaged it: noticed, repaired
    assert step.check()
    step.apply()
    assert step.check() == []

    assert step.remove() == ["deleted nftables table inet hotstack"]
    assert observed(host, ("inet", "hotstack")) is None
    assert "table inet keepme" in nft(ns, "list", "tables")
    assert step.remove() == []


def test_nfs_mode_opens_nfs_to_the_containers(settings: Settings, paths: Paths, ns: str) -> None:
    host = Host(netns=ns)
    plain = NftTable(catalog.build(settings, paths), host)
    plain.apply()
    with_nfs = NftTable(catalog.build(settings, paths), host, nfs_server=True)
    assert with_nfs.check()  # a different rule set is noticed
    with_nfs.apply()
    assert with_nfs.check() == []
    assert "2049" in nft(ns, "list", "table", "inet", "hotstack")
    assert with_nfs.remove()
