"""`hotstack setup-cloud` and `hotstack smoke`: post-setup and the smoke test, through openstacksdk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotstack.cloud.outcome import Outcome, changes_json, orphaned
from hotstack.cloud.setup import post_setup
from hotstack.cloud.smoke import Report, run_smoke
from hotstack.commands import data
from hotstack.commands.progress import QUIET, Progress
from hotstack.core import runlock
from hotstack.core.credentials import connect
from hotstack.core.paths import Paths
from hotstack.core.scope import Scope
from hotstack.core.settings import Settings


@dataclass(frozen=True)
class SetupReport:
    outcomes: list[Outcome]
    user_cloud: str  # the clouds.yaml entry to try it with
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "changes": changes_json(self.outcomes)}

    @property
    def orphaned(self) -> list[str]:
        return orphaned(self.outcomes)



def setup_cloud_command(settings: Settings, progress: Progress = QUIET, *, prune: bool = False) -> SetupReport:
    """Post-setup; with `prune`, the tenants and tenant users the settings dropped are deleted."""
    paths = Paths(settings.data_dir)
    data.ensure(settings, paths)
    with runlock.exclusive(paths, "setup-cloud"):
        return SetupReport(post_setup(settings, paths, progress.line, prune=prune), Scope(settings.name).user_cloud)


def smoke_command(settings: Settings, keep: bool, progress: Progress = QUIET) -> Report:
    paths = Paths(settings.data_dir)
    data.ensure(settings, paths)  # the secrets file is read (and made) there
    return run_smoke(connect(settings, paths, as_user=True), progress.line, keep=keep)
