"""Integration fixtures shared across files."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostfixtures import netns

from hotstack.containers import podman
from hotstack.core.settings import PortSettings
from hotstack.images import builder
from hotstack.images.builder import BuildOptions


@pytest.fixture(scope="session")
def hotstack_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every hotstack image of this checkout, built when missing.

    A fresh machine builds them once (~5 min on 2 cores; kept in podman's storage for later
    runs); where they exist this is a no-op. The tests then exercise the real images."""
    if not podman.available():
        pytest.skip("podman is not installed")
    work: Path = tmp_path_factory.mktemp("image-build")
    report = builder.build(None, BuildOptions(log_dir=work / "logs", cache_dir=work / "apt", parallel=3))
    if not report.ok:
        pytest.fail(f"building image {report.failed} failed:\n" + "\n".join(report.log_tail))
    return report.refs


@pytest.fixture
def ns() -> Iterator[str]:
    """A network namespace of the test's own, removed afterwards."""
    yield from netns()


# A second deployment beside any real one: its own name (container names), podman network,
# addresses and ports, so integration stacks never touch the real stack (and run while it is up).
TEST_NAME = "hsitest"
TEST_NETWORK = {"network.podman_network": "hsitest", "network.container_cidr": "10.213.46.0/26",
                "network.provider_cidr": "10.213.46.128/25", "network.brex_ip": "10.213.46.129",
                "network.ex_bridge": "hsitest-ex", "network.int_bridge": "hsitest-int"}
TEST_PORTS = {f"ports.{name}": str(port + 10000) for name, port in PortSettings().model_dump().items()}


def isolated_overrides(data_dir: Path) -> dict[str, str]:
    return {"name": TEST_NAME, "data_dir": str(data_dir), **TEST_NETWORK, **TEST_PORTS}


@pytest.fixture
def test_brex() -> Iterator[str]:
    """The test deployment's brex_ip on a Linux bridge the test owns (removed afterwards): what
    `prepare` gives the real stack on hot-ex, without touching hot-ex."""
    bridge, address = TEST_NETWORK["network.ex_bridge"], TEST_NETWORK["network.brex_ip"]
    subprocess.run(["ip", "link", "del", bridge], capture_output=True)
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", f"{address}/25", "dev", bridge], check=True)
        subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
        yield address
    finally:
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
