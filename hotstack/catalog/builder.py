"""Build the catalog once per run: every enabled service, filled in from the settings."""

from __future__ import annotations

from pathlib import PurePosixPath

from hotstack.catalog.model import Catalog
from hotstack.catalog.services import all_services
from hotstack.core.noderegistry import Registry
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings


def enabled(settings: Settings, profile: str | None) -> bool:
    """A service with a profile runs when the settings section of that name says `enabled`."""
    return profile is None or bool(getattr(getattr(settings, profile, None), "enabled", True))


def build(settings: Settings, paths: Paths) -> Catalog:
    """Every enabled service, with its addresses, files and probes filled in from settings."""
    nodes = tuple(Registry(paths.state).entries().values())
    cat = Catalog(settings, paths, nodes=nodes)
    for svc in all_services(settings, paths, nodes):
        if enabled(settings, svc.profile):
            cat.services[svc.name] = svc
    return cat


def data_entries(settings: Settings, paths: Paths) -> frozenset[str]:
    """Every top-level name hotstack makes under data_dir: its own (Paths) and each service's
    data volume, enabled or not (a dashboard switched off still left its directory)."""
    names = set(paths.own_entries())
    root = PurePosixPath(paths.data_dir)
    for svc in all_services(settings, paths):
        for vol in svc.volumes:
            source = PurePosixPath(vol.source)
            if source != root and source.is_relative_to(root):
                names.add(source.relative_to(root).parts[0])
    return frozenset(names)
