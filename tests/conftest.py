"""Shared fixtures. The guard makes any write hotstack does outside a test's own root fail loudly."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotstack.core import fsutil, log
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings, load

GUARDED = (Path("/etc"), Path("/var/lib"), Path.home())


@pytest.fixture(autouse=True)
def guard_host(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("HOTSTACK_"):
            monkeypatch.delenv(name)
    if request.node.get_closest_marker("host") is None:
        real = fsutil.write_if_changed

        def guarded(path: Path, content: str, *, mode: int = 0o644) -> bool:
            resolved = Path(path).resolve()
            if not resolved.is_relative_to(tmp_path) and any(resolved.is_relative_to(g) for g in GUARDED):
                raise AssertionError(f"test wrote {resolved} on the host: give it a root under tmp_path")
            return real(path, content, mode=mode)

        monkeypatch.setattr(fsutil, "write_if_changed", guarded)
        for mod in ("hotstack.render.configs", "hotstack.core.secrets", "hotstack.core.datadir"):
            monkeypatch.setattr(f"{mod}.write_if_changed", guarded, raising=False)
        real_use_dir = log.use_dir

        def guarded_log(directory: Path) -> Path | None:
            resolved = Path(directory).resolve()
            if not resolved.is_relative_to(tmp_path) and any(resolved.is_relative_to(g) for g in GUARDED):
                raise AssertionError(f"test logged to {resolved} on the host: give it a data_dir under tmp_path")
            return real_use_dir(directory)

        monkeypatch.setattr(log, "use_dir", guarded_log)
    monkeypatch.setattr(log, "FALLBACK_ROOT", tmp_path)  # a run's log before settings load
    yield
    log.stop()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """An empty settings file, so the host's /etc/hotstack/hotstack.yaml never leaks into a test."""
    path = tmp_path / "hotstack.yaml"
    path.write_text("")
    return path


@pytest.fixture
def settings(tmp_path: Path, config_file: Path) -> Settings:
    """Default settings rooted in the test's temp dir."""
    return load(config_file, {"data_dir": str(tmp_path / "data")}, environ={})


@pytest.fixture
def paths(settings: Settings, tmp_path: Path) -> Paths:
    return Paths(settings.data_dir, rendered_override=tmp_path / "out")
