"""`hotstack render`: write every config file and the compose file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.commands import data
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.images import refs
from hotstack.render.configs import RenderResult, render


@dataclass(frozen=True)
class RenderReport:
    rendered: Path
    compose_file: Path
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    hashes: dict[str, str] = field(default_factory=dict)
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "compose_file": str(self.compose_file), "written": [str(p) for p in self.written],
                "unchanged": self.unchanged, "hashes": self.hashes}


def render_catalog(cat: Catalog) -> RenderResult:
    """The render stage: every file for this catalog, images named by their content hash."""
    known = refs.all_refs(cat.settings.release)
    return render(cat, known.__getitem__)


def render_command(settings: Settings, output: Path | None) -> RenderReport:
    paths = Paths(settings.data_dir, rendered_override=output.resolve() if output else None)
    data.ensure(settings, paths)  # the secrets file lives there, even with --output
    result = render_catalog(catalog.build(settings, paths))
    return RenderReport(paths.rendered, paths.compose_file, result.written, len(result.unchanged), result.hashes)
