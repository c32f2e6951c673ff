"""The keystone half of the tenants against a real keystone (with the mariadb, memcached and
haproxy it needs), as post-setup runs it: projects tagged, users marked, exactly one role each,
a user in two tenants one user; a second run changes nothing and keeps a user's token; a
changed role is applied; a dropped tenant and user are found as orphans by their tag and mark;
a user hotstack did not make is not taken over. (Quotas, networks and the prune need nova,
cinder and neutron: tests/e2e/test_tenants.py.)

A deployment of its own (name, network, ports, bridge: below), so it runs beside a real stack
and beside the other integration stacks. Data in a temp dir; all removed."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openstack
import pytest
import yaml

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.cloud.outcome import Outcome
from hotstack.cloud.prune import report_orphans
from hotstack.cloud.tenants import TENANT_TAG, USER_MARK, ensure_identity
from hotstack.commands.render_cmd import render_catalog
from hotstack.containers import control, podman
from hotstack.core.credentials import auth_url, entries, tenant_secrets
from hotstack.core.errors import HotstackError
from hotstack.core.graph import closure
from hotstack.core.paths import Paths
from hotstack.core.scope import Scope
from hotstack.core.secrets import Secrets
from hotstack.core.settings import PortSettings, Settings, load
from hotstack.stack.bringup import start_all

pytestmark = [pytest.mark.integration, pytest.mark.images]

NAME, BRIDGE, BREX = "hstenants", "hstenants-ex", "10.213.47.129"
NETWORK = {"podman_network": NAME, "container_cidr": "10.213.47.0/26", "provider_cidr": "10.213.47.128/25",
           "brex_ip": BREX, "ex_bridge": BRIDGE, "int_bridge": "hstenants-int"}
PORTS = {name: port + 11000 for name, port in PortSettings().model_dump().items()}
RED = {"name": "red", "users": [{"name": "alice", "role": "member"}, {"name": "rita", "role": "reader"}]}
BLUE = {"name": "blue", "users": [{"name": "bob", "role": "admin"}, {"name": "alice", "role": "reader"}]}


def settings_with(tmp_path: Path, *tenants: dict[str, Any]) -> Settings:
    cfg = tmp_path / "hotstack.yaml"
    cfg.write_text(yaml.safe_dump({"name": NAME, "data_dir": str(tmp_path / "data"), "network": NETWORK,
                                   "ports": PORTS, "tenants": list(tenants)}))
    return load(cfg, environ={})


@pytest.fixture
def keystone(tmp_path: Path, hotstack_images: dict[str, str]) -> Iterator[Catalog]:
    """Keystone of this test's deployment, up; its brex_ip on a bridge of the test's own."""
    settings = settings_with(tmp_path, RED, BLUE)
    cat = catalog.build(settings, Paths(settings.data_dir))
    wanted = closure({svc.name: svc.depends_on for svc in cat}, ["keystone"])
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)
    for name in wanted:  # left over from an interrupted run
        control.remove(cat[name].container, timeout=5)
    had_network = control.network_exists(NAME)
    try:
        subprocess.run(["ip", "link", "add", BRIDGE, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", f"{BREX}/25", "dev", BRIDGE], check=True)
        subprocess.run(["ip", "link", "set", BRIDGE, "up"], check=True)
        start_all(cat, render_catalog(cat).hashes, lambda *_: None, names=["keystone"])
        yield cat
    finally:
        for name in reversed(wanted):
            control.remove(cat[name].container, timeout=5)
        if not had_network:
            podman.run(["network", "rm", NAME], check=False)
        subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


def connect(settings: Settings, cloud: str) -> Any:
    # The API names of this deployment are not in the host's /etc/hosts: keystone by address.
    auth = entries(settings, Paths(settings.data_dir), with_user=True)[cloud]["auth"]
    return openstack.connect(auth_type="password", auth=auth, load_yaml_config=False, load_envvars=False,
                             identity_endpoint_override=auth_url(settings))


def roles_of(admin: Any, user: str, project: str) -> set[str]:
    found = admin.identity.find_user(user, domain_id="default")
    where = admin.identity.find_project(project, domain_id="default")
    return {r.name for r in admin.identity.role_assignments_filter(project=where, user=found)}


def test_tenants_in_a_real_keystone(keystone: Catalog, tmp_path: Path) -> None:
    settings = keystone.settings
    scope, passwords = Scope(NAME), Secrets(keystone.paths.secrets_file).ensure(tenant_secrets(settings))
    admin = connect(settings, scope.admin_cloud)
    out, projects = ensure_identity(admin, settings.tenants, passwords)
    assert {"tenant red", "tenant blue", "user alice", "user rita", "user bob"} <= {o.thing for o in out}
    red = admin.identity.find_project("red", domain_id="default")
    assert TENANT_TAG in red.tags and projects["red"].id == red.id
    alice = admin.identity.find_user("alice", domain_id="default")
    assert alice.description == USER_MARK and alice.default_project_id == red.id
    assert (roles_of(admin, "alice", "red"), roles_of(admin, "alice", "blue")) == ({"member"}, {"reader"})
    assert (roles_of(admin, "rita", "red"), roles_of(admin, "bob", "blue")) == ({"reader"}, {"admin"})

    # each user signs in with its clouds.yaml entry, scoped to its tenant
    user = connect(settings, scope.tenant_cloud("blue", "alice"))
    token = user.auth_token
    assert user.current_project_id == projects["blue"].id

    # a second run changes nothing, and alice's token stays valid
    assert ensure_identity(admin, settings.tenants, passwords)[0] == []
    check = admin.identity.head("/auth/tokens", headers={"X-Subject-Token": token}, raise_exc=False)
    assert check.status_code == 200, f"alice's token was revoked ({check.status_code})"

    # a changed role; rita and the red tenant dropped
    blue_only = settings_with(tmp_path, {**BLUE, "users": [{"name": "bob", "role": "member"}, {"name": "alice"}]})
    out, _ = ensure_identity(admin, blue_only.tenants, passwords)
    assert Outcome("role member of bob in tenant blue", "created") in out
    assert Outcome("role admin of bob in tenant blue", "deleted") in out
    assert Outcome("user alice (default project)", "updated") in out
    assert roles_of(admin, "bob", "blue") == {"member"} and roles_of(admin, "alice", "blue") == {"member"}
    assert report_orphans(admin, blue_only.tenants) == [Outcome("tenant red", "orphaned"),
                                                        Outcome("user rita", "orphaned")]
    assert admin.identity.find_project("red", domain_id="default") is not None  # kept

    # a user of that name that hotstack did not make is left alone
    admin.identity.create_user(name="carol", password="hers-" * 5, domain_id="default")
    carol = settings_with(tmp_path, {"name": "green", "users": [{"name": "carol"}]})
    with pytest.raises(HotstackError, match="tenant user carol exists in keystone and was not made by hotstack"):
        ensure_identity(admin, carol.tenants, Secrets(keystone.paths.secrets_file).ensure(tenant_secrets(carol)))
