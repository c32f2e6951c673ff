"""The tenants of the e2e deployment's settings (e2efixtures.py: red, small, with a member and a
reader; blue with a member), as their users meet them: both made by `up` with their users,
quotas, networks and routers; a member of one tenant can neither see nor touch the other's
servers, networks, volumes or private images; a reader creates nothing; red over its instance
and volume quota gets the APIs' quota errors; a changed quota is applied by running post-setup
again (by `up`, as the settings it last succeeded with differ), and a tenant dropped from the
settings is kept and reported until `setup-cloud --prune-tenants`.

One server is booted (red's, on red's own network), one volume and one tiny image made; all
go at the end of the module."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openstack.exceptions
import pytest
import yaml
from e2efixtures import E2E_SETTINGS, Deployment

from hotstack.cloud.post_setup import PRIVATE_NET, PRIVATE_SUBNET, PUBLIC_NET, ROUTER
from hotstack.cloud.tenants import TENANT_TAG
from hotstack.core.credentials import connect, connect_entry, entries
from hotstack.core.scope import Scope
from hotstack.core.settings_cloud import GUEST_IMAGE, SMOKE_FLAVOR

pytestmark = [pytest.mark.e2e, pytest.mark.host]

HttpError = openstack.exceptions.HttpException
# Another project's thing is not found (nova, cinder, glance, neutron look within the token's
# project); forbidden would do as well: either way it is neither seen nor changed.
HIDDEN = (404, 403)


def as_user(e2e: Deployment, tenant: str, user: str) -> Any:
    """A tenant user's connection, from the clouds.yaml entry post-setup wrote for it."""
    clouds = entries(e2e.settings, e2e.paths, with_user=True)
    return connect_entry(e2e.settings, clouds[Scope(e2e.settings.name).tenant_cloud(tenant, user)])


@pytest.fixture(scope="module")
def alice(e2e: Deployment) -> Any:
    return as_user(e2e, "red", "alice")  # red's member


@pytest.fixture(scope="module")
def rita(e2e: Deployment) -> Any:
    return as_user(e2e, "red", "rita")  # red's reader


@pytest.fixture(scope="module")
def bob(e2e: Deployment) -> Any:
    return as_user(e2e, "blue", "bob")  # blue's member


def private_network(conn: Any) -> Any:
    return next(iter(conn.network.networks(name=PRIVATE_NET, project_id=conn.current_project_id)))


@pytest.fixture(scope="module")
def red_server(alice: Any) -> Iterator[Any]:
    """Red's one instance (all its quota allows), booted by its member on red's own network."""
    image, flavor = alice.image.find_image(GUEST_IMAGE), alice.compute.find_flavor(SMOKE_FLAVOR)
    server = alice.compute.create_server(name="e2e-red-server", image_id=image.id, flavor_id=flavor.id,
                                         networks=[{"uuid": private_network(alice).id}])
    try:
        yield alice.compute.wait_for_server(server, status="ACTIVE", wait=240, interval=2)
    finally:
        alice.compute.delete_server(server.id, ignore_missing=True)
        alice.compute.wait_for_delete(server, wait=180)


@pytest.fixture(scope="module")
def red_volume(alice: Any) -> Iterator[Any]:
    """Red's one volume (all its quota allows)."""
    volume = alice.block_storage.create_volume(name="e2e-red-volume", size=1)
    try:
        yield alice.block_storage.wait_for_status(volume, status="available", wait=180, interval=2)
    finally:
        alice.block_storage.delete_volume(volume.id, ignore_missing=True)
        alice.block_storage.wait_for_delete(volume, wait=180)


@pytest.fixture(scope="module")
def blue_image(bob: Any) -> Iterator[Any]:
    """A private image of blue's: a few bytes are enough to be one."""
    image = bob.image.create_image(name="e2e-blue-private", data=b"blue's own bytes\n" * 64, disk_format="raw",
                                   container_format="bare", visibility="private", allow_duplicates=True, wait=True)
    try:
        yield image
    finally:
        bob.image.delete_image(image.id, ignore_missing=True)


def refused(call: Callable[[], Any], undo: Callable[[Any], Any], *statuses: int) -> HttpError:
    """The API's refusal of `call`; should it succeed, what it made is undone and the test fails."""
    try:
        made = call()
    except HttpError as exc:
        assert exc.status_code in statuses, f"{exc.status_code}: {exc}"
        return exc
    undo(made)
    pytest.fail(f"expected HTTP {' or '.join(map(str, statuses))}, but it was made: {made}")


def nothing(_made: Any) -> None:
    """A get or delete makes nothing to undo."""


def test_both_tenants_exist_with_their_users_quotas_and_networks(e2e: Deployment) -> None:
    admin = connect(e2e.settings, e2e.paths)
    public = admin.network.find_network(PUBLIC_NET)
    for tenant in e2e.settings.tenants:
        project = admin.identity.find_project(tenant.name, domain_id="default")
        assert project is not None and TENANT_TAG in project.tags
        for user in tenant.users:
            found = admin.identity.find_user(user.name, domain_id="default")
            roles = {r.name for r in admin.identity.role_assignments_filter(project=project, user=found)}
            assert roles == {user.role}, (tenant.name, user.name, roles)
            conn = as_user(e2e, tenant.name, user.name)  # its password from the secrets file works
            assert conn.current_project_id == project.id
        want = tenant.quotas.model_dump(exclude_none=True)
        compute, volume = admin.compute.get_quota_set(project.id), admin.block_storage.get_quota_set(project.id)
        assert compute.instances == want.get("instances", e2e.settings.quotas.instances)
        assert volume.volumes == want.get("volumes", e2e.settings.quotas.volumes)
        assert compute.cores == e2e.settings.quotas.cores  # the deployment's, where the tenant says nothing
        assert tenant.network is not None
        network = next(iter(admin.network.networks(name=PRIVATE_NET, project_id=project.id)))
        subnet = next(iter(admin.network.subnets(name=PRIVATE_SUBNET, network_id=network.id)))
        assert subnet.cidr == str(tenant.network.cidr) and subnet.is_dhcp_enabled
        router = next(iter(admin.network.routers(name=ROUTER, project_id=project.id)))
        assert router.external_gateway_info["network_id"] == public.id
        assert list(admin.network.ports(device_id=router.id, network_id=network.id))
    written = yaml.safe_load(e2e.paths.clouds_yaml.read_text())["clouds"]
    assert {"e2e-red-alice", "e2e-red-rita", "e2e-blue-bob"} <= set(written)


def test_a_member_neither_sees_nor_touches_another_tenants_things(
        e2e: Deployment, alice: Any, bob: Any, red_server: Any, red_volume: Any, blue_image: Any) -> None:
    # red's server and volume, from blue
    assert red_server.id not in {s.id for s in bob.compute.servers()}
    refused(lambda: bob.compute.get_server(red_server.id), nothing, *HIDDEN)
    refused(lambda: bob.compute.delete_server(red_server.id, ignore_missing=False), nothing, *HIDDEN)
    assert red_volume.id not in {v.id for v in bob.block_storage.volumes()}
    refused(lambda: bob.block_storage.get_volume(red_volume.id), nothing, *HIDDEN)
    refused(lambda: bob.block_storage.delete_volume(red_volume.id, ignore_missing=False), nothing, *HIDDEN)
    # blue's network and private image, from red
    blue_net = private_network(bob)
    assert blue_net.id not in {n.id for n in alice.network.networks()}
    refused(lambda: alice.network.get_network(blue_net.id), nothing, *HIDDEN)
    refused(lambda: alice.network.create_port(network_id=blue_net.id), alice.network.delete_port, *HIDDEN)
    refused(lambda: alice.network.delete_network(blue_net.id, ignore_missing=False), nothing, *HIDDEN)
    assert blue_image.id not in {i.id for i in alice.image.images()}
    refused(lambda: alice.image.get_image(blue_image.id), nothing, *HIDDEN)
    refused(lambda: alice.image.delete_image(blue_image.id, ignore_missing=False), nothing, *HIDDEN)
    # all still there, as their owners see them
    assert alice.compute.get_server(red_server.id).status == "ACTIVE"
    assert alice.block_storage.get_volume(red_volume.id).status == "available"
    assert bob.network.get_network(blue_net.id) is not None and bob.image.get_image(blue_image.id) is not None
    # and each tenant's own network is the one its member sees as private
    assert private_network(alice).id != blue_net.id


def test_a_reader_sees_its_tenant_but_creates_nothing(alice: Any, rita: Any, red_server: Any) -> None:
    assert private_network(rita).id == private_network(alice).id
    assert red_server.id in {s.id for s in rita.compute.servers()}
    image, flavor = rita.image.find_image(GUEST_IMAGE), rita.compute.find_flavor(SMOKE_FLAVOR)
    refused(lambda: rita.network.create_network(name="e2e-reader-net"), rita.network.delete_network, 403)
    refused(lambda: rita.block_storage.create_volume(name="e2e-reader-volume", size=1),
            rita.block_storage.delete_volume, 403)
    refused(lambda: rita.compute.create_server(name="e2e-reader-server", image_id=image.id, flavor_id=flavor.id,
                                               networks=[{"uuid": private_network(rita).id}]),
            lambda made: alice.compute.delete_server(made.id), 403)


def test_a_tenant_over_its_quota_gets_the_quota_error(alice: Any, red_server: Any, red_volume: Any) -> None:
    image, flavor = alice.image.find_image(GUEST_IMAGE), alice.compute.find_flavor(SMOKE_FLAVOR)
    exc = refused(lambda: alice.compute.create_server(name="e2e-red-second", image_id=image.id, flavor_id=flavor.id,
                                                      networks=[{"uuid": private_network(alice).id}]),
                  lambda made: alice.compute.delete_server(made.id), 403)
    assert "quota exceeded for instances" in str(exc).lower(), str(exc)
    exc = refused(lambda: alice.block_storage.create_volume(name="e2e-red-second", size=1),
                  lambda made: alice.block_storage.delete_volume(made.id), 413)
    assert "volume" in str(exc).lower() and "exceeded" in str(exc).lower(), str(exc)


def hotstack_with(e2e: Deployment, config: Path, settings: dict[str, Any], *args: str,
                  artifact: str) -> tuple[dict[str, str], str]:
    """`hotstack up` or `setup-cloud` (with --json) with these settings: post-setup's changes
    (thing -> action) and the run's stderr."""
    config.write_text(yaml.safe_dump(settings))
    run = dataclasses.replace(e2e, config=config).hotstack(*args, "--json", artifact=artifact)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["ok"]
    changes = report["post_setup"] if args[0] == "up" else report["changes"]
    assert changes is not None, "post-setup did not run"
    return {c["thing"]: c["action"] for c in changes}, run.stderr


def test_a_changed_quota_is_applied_and_a_dropped_tenant_waits_for_prune(e2e: Deployment, tmp_path: Path) -> None:
    """`up` with changed settings runs post-setup (the settings it last succeeded with differ):
    red's new quota is applied and a third tenant made; `setup-cloud` with the settings as they
    were puts the quota back and reports that tenant; only `--prune-tenants` deletes it."""
    admin, config = connect(e2e.settings, e2e.paths), tmp_path / "hotstack.yaml"
    more = copy.deepcopy(E2E_SETTINGS)
    more["tenants"][0]["quotas"]["instances"] = 2
    more["tenants"].append({"name": "gone", "users": [{"name": "gus"}], "network": {"cidr": "10.108.3.0/24"}})
    changes, _ = hotstack_with(e2e, config, more, "up", artifact="up-tenants-changed")
    red = admin.identity.find_project("red", domain_id="default")
    assert changes["tenant red: compute quotas (instances)"] == "updated" and changes["tenant gone"] == "created"
    assert admin.compute.get_quota_set(red.id).instances == 2
    assert "e2e-gone-gus" in yaml.safe_load(e2e.paths.clouds_yaml.read_text())["clouds"]

    changes, stderr = hotstack_with(e2e, config, E2E_SETTINGS, "setup-cloud", artifact="setup-cloud-tenants-back")
    assert changes["tenant red: compute quotas (instances)"] == "updated"
    assert admin.compute.get_quota_set(red.id).instances == 1
    assert changes["tenant gone"] == changes["user gus"] == "orphaned"
    assert "no longer in the settings, kept: tenant gone, user gus" in stderr
    gone = admin.identity.find_project("gone", domain_id="default")
    assert gone is not None and list(admin.network.networks(project_id=gone.id))
    assert "e2e-gone-gus" not in yaml.safe_load(e2e.paths.clouds_yaml.read_text())["clouds"]

    changes, _ = hotstack_with(e2e, config, E2E_SETTINGS, "setup-cloud", "--prune-tenants",
                               artifact="setup-cloud-tenants-prune")
    assert changes["tenant gone"] == changes["user gus"] == "deleted"
    assert admin.identity.find_project("gone", domain_id="default") is None
    assert admin.identity.find_user("gus", domain_id="default") is None
    assert not list(admin.network.networks(project_id=gone.id)) and not list(admin.network.routers(project_id=gone.id))
    assert not list(admin.network.ports(project_id=gone.id))
