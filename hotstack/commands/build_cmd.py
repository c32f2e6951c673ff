"""`hotstack build`: build the container images."""

from __future__ import annotations

from hotstack.commands.progress import QUIET, Progress
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.images import builder, stage
from hotstack.images.base import BaseMethod
from hotstack.images.builder import BuildReport


def build_command(settings: Settings, *, parallel: int | None, only: tuple[str, ...],
                  base: BaseMethod | None, progress: Progress = QUIET) -> BuildReport:
    """Build the named images (default: every non-optional one) and their parents."""
    opts = stage.options(settings, Paths(settings.data_dir), parallel, base)
    return builder.build(list(only) or None, opts, progress.image)
