"""Keystone through the orchestrator on a prepared host: the infra it needs and keystone come up
(with its database, db_sync, fernet/credential keys and bootstrap jobs) and a token is issued
through haproxy on brex_ip; a second run keeps everything; a killed keystone is healed; a broken
keystone config fails the run naming keystone and showing its log. Post-setup's user step run
again leaves the user's tokens valid (it once reset the password each run, revoking them).

A deployment of its own (name, network, ports, a bridge with its brex_ip: see conftest), so it
runs beside a real stack and on an unprepared host. Data in a temp dir; all removed."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import isolated_overrides

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.commands.render_cmd import render_catalog
from hotstack.containers import control, podman
from hotstack.core.paths import Paths
from hotstack.core.settings import load
from hotstack.stack.bringup import ProbeFailed, start_all

pytestmark = [pytest.mark.integration, pytest.mark.images]
NAMES = ["keystone"]


@pytest.fixture
def stack(tmp_path: Path, config_file: Path, hotstack_images: dict[str, str],
          test_brex: str) -> Iterator[tuple[Catalog, dict[str, str]]]:
    settings = load(config_file, isolated_overrides(tmp_path / "data"), environ={})
    paths = Paths(settings.data_dir)
    cat = catalog.build(settings, paths)
    wanted = catalog_closure(cat)
    for name in wanted:  # left over from an interrupted run
        control.remove(cat[name].container, timeout=5)
    had_network = control.network_exists(settings.network.podman_network)
    try:
        yield cat, render_catalog(cat).hashes
    finally:
        for name in reversed(wanted):
            control.remove(cat[name].container, timeout=5)
        if not had_network:
            podman.run(["network", "rm", settings.network.podman_network], check=False)


def catalog_closure(cat: Catalog) -> list[str]:
    from hotstack.core.graph import closure

    return closure({svc.name: svc.depends_on for svc in cat}, NAMES)


def _quiet(name: str, state: str, note: str) -> None:
    pass


def test_keystone_token_keep_heal_and_a_broken_config(stack: tuple[Catalog, dict[str, str]]) -> None:
    cat, hashes = stack
    start = time.monotonic()
    first = start_all(cat, hashes, _quiet, names=NAMES)
    assert first["keystone"].action == "created" and first["keystone"].probe.detail == "keystone issued a token"
    print(f"\nkeystone and its dependencies from empty data: {time.monotonic() - start:.1f} s")

    second = start_all(cat, hashes, _quiet, names=NAMES)
    assert {o.action for o in second.values()} == {"kept"}

    podman.run(["kill", "--signal", "KILL", cat["keystone"].container])
    third = start_all(cat, hashes, _quiet, names=NAMES)
    assert third["keystone"].action == "started" and third["mariadb"].action == "kept"

    # A broken config: keystone's rendered file replaced, its hash changed so it is recreated.
    conf = cat.paths.rendered / "keystone" / "keystone.conf"
    lines = ["connection = mysql+pymysql://keystone:wrong@127.0.0.1:1/keystone" if line.startswith("connection =")
             else line for line in conf.read_text().splitlines()]
    conf.write_text("\n".join(lines) + "\n")
    short = dataclasses.replace(cat["keystone"], probe=dataclasses.replace(cat["keystone"].probe, deadline_s=25))
    cat.services["keystone"] = short
    with pytest.raises(ProbeFailed) as failed:
        start_all(cat, {**hashes, "keystone": "broken"}, _quiet, names=NAMES)
    message = str(failed.value)
    assert message.startswith("keystone is not healthy: probe token")
    assert f"last 30 log lines of {cat['keystone'].container}" in message and "hotstack logs keystone" in message


def test_post_setup_again_keeps_the_users_tokens(stack: tuple[Catalog, dict[str, str]]) -> None:
    import openstack

    from hotstack.cloud.post_setup import ensure_project_and_user
    from hotstack.core.credentials import auth_url, entries
    from hotstack.core.scope import Scope
    from hotstack.core.secrets import Secrets

    cat, hashes = stack
    start_all(cat, hashes, _quiet, names=NAMES)
    settings, paths = cat.settings, cat.paths
    clouds = entries(settings, paths, with_user=True)

    def connect(cloud: str) -> openstack.connection.Connection:
        # This deployment's API names are not in the host's /etc/hosts (its host is not
        # prepared): reach keystone by address instead of through the catalog's DNS names.
        return openstack.connect(auth_type="password", auth=clouds[cloud]["auth"], load_yaml_config=False,
                                 load_envvars=False, identity_endpoint_override=auth_url(settings))

    password = Secrets(paths.secrets_file).ensure(["hotstack_user_password"])["hotstack_user_password"]
    admin = connect(Scope(settings.name).admin_cloud)
    made = {o.thing for o in ensure_project_and_user(admin, password)}
    assert "user hotstack" in made
    token = connect(Scope(settings.name).user_cloud).auth_token
    again = ensure_project_and_user(admin, password)
    check = admin.identity.head("/auth/tokens", headers={"X-Subject-Token": token}, raise_exc=False)
    assert check.status_code == 200, f"the user's token was revoked ({check.status_code})"
    assert again == []  # nothing to change
    # A password that differs from the secrets file (a restored data dir) is set again.
    admin.identity.update_user(admin.identity.find_user("hotstack", domain_id="default"), password="x" * 24)
    assert [o.thing for o in ensure_project_and_user(admin, password)] == ["password of hotstack"]
