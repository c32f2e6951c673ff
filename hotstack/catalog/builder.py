"""Build the catalog once per run: every enabled service, filled in from the settings."""

from __future__ import annotations

from hotstack.catalog.model import Catalog
from hotstack.catalog.services import all_services
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings


def build(settings: Settings, paths: Paths) -> Catalog:
    """Every enabled service, with its addresses, files and probes filled in from settings."""

    cat = Catalog(settings, paths)
    for svc in all_services(settings, paths):
        if svc.profile == "horizon" and not settings.horizon.enabled:
            continue
        cat.services[svc.name] = svc
    return cat
