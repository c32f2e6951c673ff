"""Integration fixtures shared across files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hostfixtures import netns

from hotstack import image_build, podman
from hotstack.image_build import BuildOptions


@pytest.fixture(scope="session")
def hotstack_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every (non-optional) hotstack image of this checkout, built when missing.

    A fresh machine builds them once (~5 min on 2 cores; kept in podman's storage for later
    runs); where they exist this is a no-op. The tests then exercise the real images."""
    if not podman.available():
        pytest.skip("podman is not installed")
    work: Path = tmp_path_factory.mktemp("image-build")
    report = image_build.build(None, BuildOptions(log_dir=work / "logs", cache_dir=work / "apt", parallel=3))
    if not report.ok:
        pytest.fail(f"building image {report.failed} failed:\n" + "\n".join(report.log_tail))
    return report.refs


@pytest.fixture
def ns() -> Iterator[str]:
    """A network namespace of the test's own, removed afterwards."""
    yield from netns()
