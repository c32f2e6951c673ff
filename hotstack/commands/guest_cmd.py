"""`hotstack guest-image`: build (or keep) hotstack's own bootable guest disk image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotstack.commands import data
from hotstack.commands.progress import QUIET, Progress
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.guest.image import GuestImage, build_guest_image


@dataclass(frozen=True)
class GuestReport:
    image: GuestImage
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.image.to_json()}


def guest_image(settings: Settings, output: Path | None, progress: Progress = QUIET) -> GuestReport:
    """Build the image at output (default <data_dir>/images/hotstack-guest.img; a .qcow2 name
    gives qcow2)."""
    paths = Paths(settings.data_dir)
    data.ensure(settings, paths)  # the download cache lives there
    out = (output or paths.guest_image).resolve()
    return GuestReport(build_guest_image(out, paths.guest_cache, progress=progress.line))
