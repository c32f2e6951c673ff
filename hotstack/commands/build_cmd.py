"""`hotstack build`: build the container images."""

from __future__ import annotations

from hotstack.commands import data
from hotstack.commands.progress import QUIET, Progress
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.images import builder, stage
from hotstack.images.base import BaseMethod
from hotstack.images.builder import BuildReport


def build_command(settings: Settings, *, parallel: int | None, only: tuple[str, ...],
                  base: BaseMethod | None, progress: Progress = QUIET) -> BuildReport:
    """Build the named images (default: every non-optional one) and their parents."""
    paths = Paths(settings.data_dir)
    data.ensure(settings, paths)  # build logs and the apt cache live there
    opts = stage.options(settings, paths, parallel, base)
    return builder.build(list(only) or None, opts, progress.image)
