"""Render a deployment's configs into a test's temp dir, from settings overrides (unit tests of
what hotstack writes, nothing started)."""

from __future__ import annotations

from pathlib import Path

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.core.paths import Paths
from hotstack.core.settings import load
from hotstack.render import configs as render


def render_into(tmp_path: Path, **overrides: str) -> tuple[Catalog, Path]:
    """The catalog and the directory its rendered files went to (`<tmp_path>/out`)."""
    (tmp_path / "hotstack.yaml").write_text("")
    s = load(tmp_path / "hotstack.yaml", {"data_dir": str(tmp_path / "data"), **overrides}, environ={})
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 192.0.2.53\n")
    paths = Paths(s.data_dir, rendered_override=tmp_path / "out", resolv_confs=(resolv,))
    cat = catalog.build(s, paths)
    render.render(cat, lambda name: f"localhost/hotstack/{name}:test")
    return cat, tmp_path / "out"
