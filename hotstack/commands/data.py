"""The data_dir checks (core/datadir.py) fed with the catalog's names: every command that
writes under data_dir calls `ensure` before it changes anything, `clean` calls `removable`."""

from __future__ import annotations

from hotstack import catalog
from hotstack.core import datadir
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings


def ensure(settings: Settings, paths: Paths) -> None:
    """data_dir exists, is writable and is this deployment's (made and marked here if absent)."""
    datadir.ensure_data_dir(paths, settings.name, catalog.data_entries(settings, paths))


def removable(settings: Settings, paths: Paths) -> bool:
    """data_dir is this deployment's and holds only what hotstack makes (False: there is none)."""
    return datadir.check_removable(paths, settings.name, catalog.data_entries(settings, paths))
