"""Against a running cloud (`hotstack up` first): run with `python3 -m pytest -m e2e`.

These use the host's real settings (/etc/hotstack/hotstack.yaml or the defaults) and the
cloud they describe; they create nothing that the smoke test does not remove again.
"""

from __future__ import annotations

import pytest

from hotstack.cloud.smoke import run_smoke
from hotstack.core.credentials import connect
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings, load

pytestmark = [pytest.mark.e2e, pytest.mark.host]

SERVICE_TYPES = {"identity", "image", "placement", "compute", "network", "volumev3", "orchestration"}


@pytest.fixture(scope="module")
def live() -> tuple[Settings, Paths]:
    settings = load()
    paths = Paths(settings.data_dir)
    if not paths.secrets_file.exists():
        pytest.fail(f"no cloud here: {paths.secrets_file} is missing — run `hotstack up` first")
    return settings, paths


def test_catalog_lists_every_api_through_haproxy(live: tuple[Settings, Paths]) -> None:
    settings, paths = live
    conn = connect(settings, paths)
    services = {s.id: s.type for s in conn.identity.services()}
    found = {services[e.service_id] for e in conn.identity.endpoints() if e.interface == "public"}
    assert found >= SERVICE_TYPES
    assert all(settings.network.domain in e.url for e in conn.identity.endpoints())


def test_every_service_is_up(live: tuple[Settings, Paths]) -> None:
    settings, paths = live
    conn = connect(settings, paths)
    assert all(s.state == "up" for s in conn.compute.services())
    assert {s.binary for s in conn.compute.services()} >= {"nova-conductor", "nova-scheduler", "nova-compute"}
    assert all(a.is_alive for a in conn.network.agents())
    assert all(s.state == "up" for s in conn.block_storage.services())


def test_smoke_passes(live: tuple[Settings, Paths]) -> None:
    settings, paths = live
    report = run_smoke(connect(settings, paths, as_user=True), print)
    assert report.ok, report.to_json()
    assert set(report.steps) == {"server", "console", "ping", "tcp", "volume", "trunk", "heat"}
    assert "HOTSTACK-METADATA ok" in report.steps["console"].detail
