"""A whole cloud of its own (conftest.py: the e2e deployment), checked the way its users use it:
every API in the catalog, every service up, a killed container healed by the next `up` without
breaking the user's credentials, and the smoke test (server, console, ping, TCP, volume,
trunk, heat). Run with the rest of the suite (`python3 -m pytest -q`) or alone (`-m e2e`)."""

from __future__ import annotations

import json

import pytest
from e2efixtures import Deployment

from hotstack.cloud.smoke import run_smoke
from hotstack.containers import podman
from hotstack.core.credentials import connect

pytestmark = [pytest.mark.e2e, pytest.mark.host]

SERVICE_TYPES = {"identity", "image", "placement", "compute", "network", "volumev3", "orchestration"}


def test_catalog_lists_every_api_through_haproxy(e2e: Deployment) -> None:
    conn = connect(e2e.settings, e2e.paths)
    services = {s.id: s.type for s in conn.identity.services()}
    found = {services[e.service_id] for e in conn.identity.endpoints() if e.interface == "public"}
    assert found >= SERVICE_TYPES
    assert all("hotstack-e2e.local" in e.url for e in conn.identity.endpoints())


def test_every_service_is_up(e2e: Deployment) -> None:
    conn = connect(e2e.settings, e2e.paths)
    assert all(s.state == "up" for s in conn.compute.services())
    assert {s.binary for s in conn.compute.services()} >= {"nova-conductor", "nova-scheduler", "nova-compute"}
    assert all(a.is_alive for a in conn.network.agents())
    assert all(s.state == "up" for s in conn.block_storage.services())
    status = e2e.hotstack("status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["ok"]


def test_a_killed_container_is_healed_and_the_users_token_survives(e2e: Deployment) -> None:
    """kill -9 of one container; the next `up` recreates it alone, runs post-setup again, and
    the user's token from before stays valid (post-setup once reset the password each run)."""
    user = connect(e2e.settings, e2e.paths, as_user=True)
    token = user.auth_token
    podman.run(["kill", "--signal", "KILL", "e2e-nova-scheduler"])
    up = e2e.hotstack("up", "--json")
    assert up.returncode == 0, up.stdout + up.stderr
    actions = {name: s["action"] for name, s in json.loads(up.stdout)["services"].items()}
    assert actions["nova-scheduler"] == "created"
    assert {a for name, a in actions.items() if name != "nova-scheduler"} == {"kept"}
    admin = connect(e2e.settings, e2e.paths)
    check = admin.identity.head("/auth/tokens", headers={"X-Subject-Token": token}, raise_exc=False)
    assert check.status_code == 200
    assert list(user.network.networks(name="private"))  # the user's calls keep working


def test_smoke_passes(e2e: Deployment) -> None:
    report = run_smoke(connect(e2e.settings, e2e.paths, as_user=True), print)
    assert report.ok, report.to_json()
    assert set(report.steps) == {"server", "console", "ping", "tcp", "volume", "trunk", "heat"}
    assert "HOTSTACK-METADATA ok" in report.steps["console"].detail
