"""The images stage of `up` and `build`: what the selected services need, built when missing."""

from __future__ import annotations

from hotstack.catalog import Catalog
from hotstack.core.errors import HotstackError
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.images import builder, refs
from hotstack.images.base import BaseMethod
from hotstack.images.builder import BuildOptions, BuildReport, ProgressFn


def options(settings: Settings, paths: Paths, parallel: int | None = None,
            base: BaseMethod | None = None) -> BuildOptions:
    return BuildOptions(
        log_dir=paths.logs / "build",
        cache_dir=paths.cache / "apt",
        release=settings.release,
        parallel=parallel or settings.images.parallel,
        base=base or settings.images.base,
        mirror=settings.images.mirror,
    )


def wanted(cat: Catalog, names: list[str] | None = None) -> list[str]:
    """The images the selected services (default: every service of the catalog) run."""
    return sorted({cat[n].image for n in (names or cat.services)})


def missing(cat: Catalog, names: list[str] | None, images: list[str] | None = None) -> list[str]:
    """Images the selected services (or the named `images`) need that are not built yet (one
    podman call)."""
    known = refs.all_refs(cat.settings.release)
    present = builder.local_images()
    return [name for name in (images or wanted(cat, names)) if known.get(name) not in present]


def ensure(cat: Catalog, names: list[str] | None, progress: ProgressFn,
           images: list[str] | None = None) -> BuildReport | None:
    """Build what the selected services (or the named `images`) lack; None when nothing was missing."""
    todo = missing(cat, names, images)
    if not todo:
        return None
    report = builder.build(todo, options(cat.settings, cat.paths), progress)
    if not report.ok:
        tail = "\n".join(report.log_tail)
        raise HotstackError(f"image {report.failed} failed to build:\n{tail}",
                            hint=f"full log: {report.failed_log}; or run `hotstack build` alone")
    return report
