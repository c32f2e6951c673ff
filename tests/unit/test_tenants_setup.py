"""What post-setup does for the tenants of the settings, against the state it finds: made once,
then nothing; a changed quota or role applied alone; a dropped tenant or user reported and
deleted only when pruned. The cloud is a fake (fakecloud.py says why); the e2e tests run the
same steps against a real one."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fakecloud import FakeCloud
from settingsfiles import write

from hotstack.cloud.outcome import Outcome
from hotstack.cloud.post_setup import ensure_public_network
from hotstack.cloud.prune import SDK_SKIPS, prune_tenants, report_orphans
from hotstack.cloud.tenants import TENANT_TAG, USER_MARK, default_projects, ensure_tenants, role_changes
from hotstack.core.credentials import tenant_secret, tenant_secrets
from hotstack.core.errors import HotstackError
from hotstack.core.settings import Settings, load

RED = {"name": "red", "users": [{"name": "alice", "role": "member"}, {"name": "rita", "role": "reader"}],
       "quotas": {"instances": 1, "volumes": 1}, "network": {"cidr": "10.20.1.0/24"}}
BLUE = {"name": "blue", "users": [{"name": "bob", "role": "admin"}, {"name": "alice", "role": "reader"}]}


def settings_with(tmp_path: Path, *tenants: dict[str, Any]) -> Settings:
    return load(write(tmp_path, {"tenants": list(tenants)}), {"data_dir": str(tmp_path / "data")}, environ={})


def passwords(s: Settings) -> dict[str, str]:
    return {name: f"pw-{name}" for name in tenant_secrets(s)}


def test_a_user_holds_exactly_its_one_role_of_keystones_three() -> None:
    assert role_changes("member", []) == (["member"], [])
    assert role_changes("member", ["member"]) == ([], [])
    assert role_changes("reader", ["member", "reader"]) == ([], ["member"])
    assert role_changes("admin", ["member", "heat_stack_owner"]) == (["admin"], ["member"])  # others left alone
    assert role_changes(None, ["reader", "member"]) == ([], ["member", "reader"])


def test_a_user_in_two_tenants_is_one_user_with_the_first_as_its_default(tmp_path: Path) -> None:
    s = settings_with(tmp_path, RED, BLUE)
    assert default_projects(s.tenants) == {"alice": "red", "rita": "red", "bob": "blue"}
    assert tenant_secrets(s) == [tenant_secret(u) for u in ("alice", "bob", "rita")]


def test_first_run_makes_everything_and_a_second_changes_nothing(tmp_path: Path) -> None:
    s, cloud = settings_with(tmp_path, RED, BLUE), FakeCloud()
    external = cloud.network.nets[0]
    # another project's network of the same name: the admin sees it too
    cloud.network.nets.insert(0, SimpleNamespace(id="theirs", name="public", project_id="x", is_router_external=False))
    out = ensure_tenants(cloud, s, passwords(s))
    things = {o.thing for o in out if o.action == "created"}
    assert {"tenant red", "tenant blue", "user alice", "user rita", "user bob",
            "role member of alice in tenant red", "role reader of alice in tenant blue",
            "tenant red: network private", "tenant red: subnet private-subnet 10.20.1.0/24",
            "tenant red: router router", "tenant red: router interface on private-subnet"} <= things
    red, blue = cloud.project("red"), cloud.project("blue")
    assert TENANT_TAG in red.tags and cloud.identity.find_user("bob", "default").description == USER_MARK
    assert cloud.roles_of("alice", "red") == {"member"} and cloud.roles_of("alice", "blue") == {"reader"}
    assert cloud.roles_of("bob", "blue") == {"admin"} and cloud.roles_of("rita", "red") == {"reader"}
    assert cloud.identity.find_user("alice", "default").default_project_id == red.id
    # red's quotas: its own two, the deployment's for the rest; blue: the deployment's (already so)
    assert Outcome("tenant red: compute quotas (instances)", "updated") in out
    assert Outcome("tenant red: volume quotas (volumes)", "updated") in out
    assert cloud.quota_sets["compute"].get(red.id).instances == 1
    assert cloud.quota_sets["compute"].get(blue.id).instances == s.quotas.instances
    assert not any("blue" in o.thing and "quotas" in o.thing for o in out)
    assert f"create router router via {external.id}" in cloud.calls
    assert not cloud.network.networks(project_id=blue.id)  # no network asked for
    cloud.calls.clear()
    assert ensure_tenants(cloud, s, passwords(s)) == [] and cloud.calls == []


def test_a_changed_quota_and_role_are_applied_alone(tmp_path: Path) -> None:
    cloud = FakeCloud()
    ensure_tenants(cloud, settings_with(tmp_path, RED), passwords(settings_with(tmp_path, RED)))
    changed = {**RED, "quotas": {"instances": 2, "volumes": 1},
               "users": [{"name": "alice", "role": "reader"}, {"name": "rita", "role": "reader"}]}
    s = settings_with(tmp_path, changed)
    cloud.calls.clear()
    out = ensure_tenants(cloud, s, passwords(s))
    assert out == [Outcome("role reader of alice in tenant red", "created"),
                   Outcome("role member of alice in tenant red", "deleted"),
                   Outcome("tenant red: compute quotas (instances)", "updated")]
    assert cloud.quota_sets["compute"].get(cloud.project("red").id).instances == 2
    assert cloud.roles_of("alice", "red") == {"reader"}


def test_a_user_dropped_from_a_tenant_loses_its_role_there_and_is_reported(tmp_path: Path) -> None:
    cloud, s = FakeCloud(), settings_with(tmp_path, RED)
    ensure_tenants(cloud, s, passwords(s))
    fewer = settings_with(tmp_path, {**RED, "users": [{"name": "alice"}]})
    out = ensure_tenants(cloud, fewer, passwords(fewer))
    assert out == [Outcome("role reader of rita in tenant red", "deleted")]
    assert cloud.roles_of("rita", "red") == set()
    assert report_orphans(cloud, fewer.tenants) == [Outcome("user rita", "orphaned")]
    assert cloud.identity.find_user("rita", "default") is not None  # kept until pruned


def test_a_changed_password_is_set_again_but_a_working_one_never(tmp_path: Path) -> None:
    """Keystone revokes a user's tokens whenever its password is set: only when it differs."""
    cloud, s = FakeCloud(), settings_with(tmp_path, RED)
    ensure_tenants(cloud, s, passwords(s))
    alice = cloud.identity.find_user("alice", "default")
    cloud.identity.passwords[alice.id] = "restored from an old backup"
    assert ensure_tenants(cloud, s, passwords(s)) == [Outcome("password of alice", "updated")]
    assert cloud.identity.passwords[alice.id] == f"pw-{tenant_secret('alice')}"


def test_a_user_hotstack_did_not_make_is_not_taken_over(tmp_path: Path) -> None:
    cloud, s = FakeCloud(), settings_with(tmp_path, RED)
    cloud.identity.create_user(name="rita", password="hers", is_enabled=True, domain_id="default",
                               description="made by hand", default_project_id=None)
    with pytest.raises(HotstackError, match="tenant user rita exists in keystone and was not made by hotstack"):
        ensure_tenants(cloud, s, passwords(s))
    assert cloud.identity.passwords[cloud.identity.find_user("rita", "default").id] == "hers"


def test_a_project_made_by_hand_and_then_declared_is_adopted(tmp_path: Path) -> None:
    cloud, s = FakeCloud(), settings_with(tmp_path, BLUE)
    cloud.identity.create_project(name="blue", domain_id="default", description="by hand", tags=["x"])
    out = ensure_tenants(cloud, s, passwords(s))
    assert Outcome("tenant blue (description, tags)", "updated") in out
    assert cloud.project("blue").tags == ["x", TENANT_TAG]


def test_a_subnet_whose_range_drifted_is_reported_not_changed(tmp_path: Path) -> None:
    cloud, s = FakeCloud(), settings_with(tmp_path, RED)
    ensure_tenants(cloud, s, passwords(s))
    moved = settings_with(tmp_path, {**RED, "network": {"cidr": "10.20.9.0/24"}})
    out = ensure_tenants(cloud, moved, passwords(moved))
    assert [o.action for o in out] == ["differs"] and "holds 10.20.1.0/24, not 10.20.9.0/24" in out[0].thing
    assert [sub.cidr for sub in cloud.network.subs] == ["172.31.0.128/25", "10.20.1.0/24"]  # public's, red's


def test_a_dropped_tenant_is_reported_and_deleted_only_when_pruned(tmp_path: Path) -> None:
    cloud, s = FakeCloud(), settings_with(tmp_path, RED, BLUE)
    ensure_tenants(cloud, s, passwords(s))
    only_blue = settings_with(tmp_path, BLUE)
    # red's tenant and users stay; alice, in blue too, has blue as her default project now
    assert ensure_tenants(cloud, only_blue, passwords(only_blue)) == [
        Outcome("user alice (default project)", "updated")]
    assert report_orphans(cloud, only_blue.tenants) == [Outcome("tenant red", "orphaned"),
                                                        Outcome("user rita", "orphaned")]
    assert cloud.project("red") is not None
    red_id = cloud.project("red").id
    cloud.servers.append(SimpleNamespace(project_id=red_id, stuck=False))

    def project_conn(name: str) -> Any:
        # the admin user cleans up inside the project, holding only the member role there
        assert cloud.roles_of("admin", name) == {"member"}
        return cloud.scoped(name)

    out = prune_tenants(cloud, only_blue.tenants, project_conn)
    assert out == [Outcome("tenant red", "deleted"), Outcome("user rita", "deleted")]
    assert f"cleanup red dry_run=False wait=300 skip={SDK_SKIPS}" in cloud.calls and not cloud.servers
    assert not cloud.network.networks(project_id=red_id) and not cloud.network.routers(project_id=red_id)
    assert not cloud.network.ports(project_id=red_id)
    assert cloud.project("red") is None and cloud.identity.find_user("rita", "default") is None
    assert not cloud.network.security_groups(project_id=red_id)  # neutron's default group went too
    assert cloud.project("blue") is not None and cloud.identity.find_user("alice", "default") is not None
    assert report_orphans(cloud, only_blue.tenants) == []


def test_a_tenant_whose_cleanup_left_a_server_is_kept(tmp_path: Path) -> None:
    cloud, s = FakeCloud(), settings_with(tmp_path, RED)
    ensure_tenants(cloud, s, passwords(s))
    cloud.servers.append(SimpleNamespace(project_id=cloud.project("red").id, stuck=True))
    nothing = settings_with(tmp_path)
    with pytest.raises(HotstackError, match=r"tenant red still holds 1 servers after its cleanup; the tenant is kept"):
        prune_tenants(cloud, nothing.tenants, cloud.scoped)
    assert cloud.project("red") is not None
    assert cloud.network.networks(project_id=cloud.project("red").id)  # the server's network is left alone too


def test_a_tenants_network_named_public_is_not_taken_for_the_external_one(tmp_path: Path) -> None:
    cloud, s = FakeCloud(), settings_with(tmp_path, RED)
    cloud.network.nets.insert(0, SimpleNamespace(id="theirs", name="public", project_id="x", is_router_external=False))
    assert ensure_public_network(cloud, s) == [] and cloud.calls == []
