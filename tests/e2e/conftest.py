"""The e2e deployment: a whole cloud of its own, brought up once for the e2e tests and cleaned
at the end (and first, when an interrupted run left one). Its name, data_dir, bridges,
networks, DNS domain and ports differ from the default deployment's, so the tests run beside a
developer's cloud (and on CI's bare machine) without touching it: every host-wide name derives
from the name (hotstack/core/scope.py).

Its `up` and `clean` run the CLI as a user would, in a subprocess; their output is kept under
tests/e2e/artifacts/ (git-ignored) for a failed run.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
import yaml
from e2efixtures import E2E_SETTINGS, Deployment

from hotstack.core.paths import Paths
from hotstack.core.settings import load


def _tail(proc: subprocess.CompletedProcess[str], lines: int = 40) -> str:
    return "\n".join((proc.stdout + proc.stderr).splitlines()[-lines:])


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    config = tmp_path_factory.mktemp("e2e") / "hotstack.yaml"
    config.write_text(yaml.safe_dump(E2E_SETTINGS))
    settings = load(config, {}, environ={})
    deployment = Deployment(settings, Paths(settings.data_dir), config)
    if settings.data_dir.exists():  # left by an interrupted run: start from nothing, as CI's machine does
        clean = deployment.hotstack("clean", "--yes", "--json", timeout=600)
        assert clean.returncode == 0, f"clean of a leftover e2e deployment failed:\n{_tail(clean)}"
    try:
        up = deployment.hotstack("up", "--json")
        if up.returncode != 0:
            pytest.fail(f"the e2e deployment did not come up (exit {up.returncode}):\n{_tail(up)}")
        report = json.loads(up.stdout)
        assert report["ok"] and len(report["services"]) >= 25
        print(f"\ne2e deployment up in {report['elapsed_s']} s")
        yield deployment
    finally:
        clean = deployment.hotstack("clean", "--yes", "--json", timeout=600)
        assert clean.returncode == 0, f"clean of the e2e deployment failed:\n{_tail(clean)}"
