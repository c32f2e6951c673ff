"""`hotstack build`: build the container images."""

from __future__ import annotations

from hotstack import catalog
from hotstack.commands import data
from hotstack.commands.progress import QUIET, Progress
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.images import builder, stage
from hotstack.images.base import BaseMethod
from hotstack.images.builder import BuildReport


def build_command(settings: Settings, *, parallel: int | None, only: tuple[str, ...],
                  base: BaseMethod | None, progress: Progress = QUIET) -> BuildReport:
    """Build the named images (default: the ones the catalog's services run, so a dashboard
    switched off is not built) and their parents."""
    paths = Paths(settings.data_dir)
    data.ensure(settings, paths)  # build logs and the apt cache live there
    opts = stage.options(settings, paths, parallel, base)
    return builder.build(list(only) or stage.wanted(catalog.build(settings, paths)), opts, progress.image)
