"""A fake of the few keystone, nova, cinder, neutron and glance calls the tenant steps make, as
openstacksdk shows them: no cloud runs in the unit tests (the e2e tests in tests/e2e/test_tenants.py
run the same steps against the real one). It keeps state, so a second run sees what the first
made, and it records every change it is asked for."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from hotstack.cloud.post_setup import QUOTA_KEYS
from hotstack.core.settings_cloud import QuotaSettings

_ids = itertools.count(1)


def _new(**attrs: Any) -> SimpleNamespace:
    return SimpleNamespace(id=f"id{next(_ids)}", **attrs)


def _id(thing: Any) -> str:
    return thing if isinstance(thing, str) else str(thing.id)


class Identity:
    def __init__(self, cloud: FakeCloud) -> None:
        self.cloud = cloud
        self.projects_: list[SimpleNamespace] = []
        self.users_: list[SimpleNamespace] = [_new(name="admin", description=None, default_project_id=None)]
        self.passwords: dict[str, str] = {}
        self.roles_ = [_new(name=n) for n in ("admin", "member", "reader", "service")]
        self.grants: set[tuple[str, str, str]] = set()  # (project id, user id, role id)

    def find_project(self, name: str, domain_id: str) -> Any:
        return next((p for p in self.projects_ if p.name == name), None)

    def create_project(self, **attrs: Any) -> Any:
        self.cloud.calls.append(f"create project {attrs['name']}")
        self.projects_.append(_new(**attrs))
        return self.projects_[-1]

    def update_project(self, project: Any, **attrs: Any) -> Any:
        self.cloud.calls.append(f"update project {project.name} {sorted(attrs)}")
        vars(project).update(attrs)
        return project

    def projects(self, tags: str, domain_id: str) -> list[Any]:
        return [p for p in self.projects_ if tags in (p.tags or [])]

    def delete_project(self, project: Any) -> None:
        self.cloud.calls.append(f"delete project {project.name}")
        self.projects_.remove(project)
        self.grants = {g for g in self.grants if g[0] != project.id}

    def find_user(self, name: str, domain_id: str) -> Any:
        return next((u for u in self.users_ if u.name == name), None)

    def users(self, domain_id: str) -> list[Any]:
        return list(self.users_)

    def get_user(self, user_id: str) -> Any:
        return next(u for u in self.users_ if u.id == user_id)

    def create_user(self, *, password: str, is_enabled: bool, domain_id: str, **attrs: Any) -> Any:
        self.cloud.calls.append(f"create user {attrs['name']}")
        self.users_.append(_new(**attrs))
        self.passwords[self.users_[-1].id] = password
        return self.users_[-1]

    def update_user(self, user: Any, **attrs: Any) -> Any:
        self.cloud.calls.append(f"update user {user.name} {sorted(attrs)}")
        if "password" in attrs:
            self.passwords[user.id] = attrs.pop("password")
        vars(user).update(attrs)
        return user

    def delete_user(self, user: Any) -> None:
        self.cloud.calls.append(f"delete user {user.name}")
        self.users_.remove(user)
        self.grants = {g for g in self.grants if g[1] != user.id}

    def post(self, url: str, json: dict[str, Any], raise_exc: bool) -> Any:
        pw = json["auth"]["identity"]["password"]["user"]
        return SimpleNamespace(status_code=201 if self.passwords.get(pw["id"]) == pw["password"] else 401)

    def roles(self) -> list[Any]:
        return list(self.roles_)

    def find_role(self, name: str) -> Any:
        return next(r for r in self.roles_ if r.name == name)

    def role_assignments(self, scope_project_id: str) -> Iterator[Any]:
        for project, user, _ in sorted(self.grants):
            if project == scope_project_id:
                yield SimpleNamespace(user={"id": user})

    def role_assignments_filter(self, project: Any, user: Any) -> list[Any]:
        return [r for r in self.roles_ if (_id(project), _id(user), r.id) in self.grants]

    def assign_project_role_to_user(self, project: Any, user: Any, role: Any) -> None:
        self.cloud.calls.append(f"assign {role.name} to {self._name(user)} in {project.name}")
        self.grants.add((_id(project), _id(user), role.id))

    def unassign_project_role_from_user(self, project: Any, user: Any, role: Any) -> None:
        self.cloud.calls.append(f"revoke {role.name} of {self._name(user)} in {project.name}")
        self.grants.discard((_id(project), _id(user), role.id))

    def _name(self, user: Any) -> str:
        return str(self.get_user(_id(user)).name)


class Quotas:
    """One service's quota sets: every project starts at the deployment's defaults."""

    def __init__(self, cloud: FakeCloud, kind: str) -> None:
        self.cloud, self.kind = cloud, kind
        self.sets: dict[str, SimpleNamespace] = {}

    def get(self, project_id: str) -> Any:
        base = QuotaSettings()
        return self.sets.setdefault(project_id, SimpleNamespace(
            project_id=project_id, **{attr: getattr(base, key) for key, attr in QUOTA_KEYS[self.kind].items()}))

    def update(self, current: Any, **attrs: int) -> None:
        self.cloud.calls.append(f"{self.kind} quotas {sorted(attrs.items())}")
        vars(current).update(attrs)


class Network:
    def __init__(self, cloud: FakeCloud) -> None:
        self.cloud = cloud
        self.nets = [_new(name="public", project_id="admin-project", is_router_external=True)]
        self.subs = [_new(name="public-subnet", network_id=self.nets[0].id, cidr="172.31.0.128/25")]
        self.routers_: list[SimpleNamespace] = []
        self.ports_: list[SimpleNamespace] = []
        self.groups: list[SimpleNamespace] = []

    def networks(self, project_id: str | None = None, name: str | None = None,
                 is_router_external: bool | None = None) -> list[Any]:
        return [n for n in self.nets if project_id in (None, n.project_id) and name in (None, n.name)
                and is_router_external in (None, n.is_router_external)]

    def find_network(self, name: str) -> Any:
        return next(n for n in self.nets if n.name == name)

    def create_network(self, **attrs: Any) -> Any:
        self.cloud.calls.append(f"create network {attrs['name']} in {attrs['project_id']}")
        self.nets.append(_new(**attrs, is_router_external=False))
        self.groups.append(_new(name="default", project_id=attrs["project_id"]))  # neutron makes one
        self.ports_.append(_new(device_id=f"ovnmeta-{self.nets[-1].id}", device_owner="network:distributed",
                                network_id=self.nets[-1].id, project_id=attrs["project_id"]))  # OVN's
        return self.nets[-1]

    def delete_network(self, network: Any) -> None:
        """Neutron's way: refused while a port neutron does not own itself is on it."""
        on = [p for p in self.ports_ if p.network_id == network.id]
        assert all(p.device_owner in ("network:dhcp", "network:distributed") for p in on), on
        self.cloud.calls.append(f"delete network {network.name} of {network.project_id}")
        self.ports_ = [p for p in self.ports_ if p not in on]
        self.subs = [s for s in self.subs if s.network_id != network.id]
        self.nets.remove(network)

    def find_subnet(self, name: str, network_id: str) -> Any:
        return next(iter(self.subnets(name, network_id)), None)

    def subnets(self, name: str, network_id: str) -> list[Any]:
        return [s for s in self.subs if s.name == name and s.network_id == network_id]

    def create_subnet(self, **attrs: Any) -> Any:
        self.cloud.calls.append(f"create subnet {attrs['cidr']}")
        self.subs.append(_new(**attrs))
        return self.subs[-1]

    def routers(self, project_id: str, name: str | None = None) -> list[Any]:
        return [r for r in self.routers_ if r.project_id == project_id and name in (None, r.name)]

    def create_router(self, **attrs: Any) -> Any:
        self.cloud.calls.append(f"create router {attrs['name']} via {attrs['external_gateway_info']['network_id']}")
        self.routers_.append(_new(**attrs))
        return self.routers_[-1]

    def ports(self, device_id: str | None = None, network_id: str | None = None,
              project_id: str | None = None) -> list[Any]:
        return [p for p in self.ports_ if device_id in (None, p.device_id) and network_id in (None, p.network_id)
                and project_id in (None, p.project_id)]

    def add_interface_to_router(self, router: Any, subnet_id: str) -> None:
        self.cloud.calls.append(f"router interface on {subnet_id}")
        subnet = next(s for s in self.subs if s.id == subnet_id)
        self.ports_.append(_new(device_id=router.id, network_id=subnet.network_id, project_id=router.project_id,
                                device_owner="network:router_interface"))

    def remove_interface_from_router(self, router: Any, port_id: str) -> None:
        self.cloud.calls.append(f"remove router interface {port_id}")
        self.ports_ = [p for p in self.ports_ if p.id != port_id]

    def delete_router(self, router: Any) -> None:
        assert not [p for p in self.ports_ if p.device_id == router.id], "neutron: the router still has interfaces"
        self.cloud.calls.append(f"delete router {router.name} of {router.project_id}")
        self.routers_.remove(router)

    def delete_port(self, port: Any) -> None:
        self.cloud.calls.append(f"delete port {port.id}")
        self.ports_.remove(port)

    def security_groups(self, project_id: str) -> list[Any]:
        return [g for g in self.groups if g.project_id == project_id]

    def delete_security_group(self, group: Any) -> None:
        self.cloud.calls.append(f"delete security group {group.name} of {group.project_id}")
        self.groups.remove(group)

    def ips(self, project_id: str) -> list[Any]:
        return []


class FakeCloud:
    """The admin's connection."""

    current_user_id = "admin-id"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.identity = Identity(self)
        self.identity.users_[0].id = self.current_user_id
        self.network = Network(self)
        self.servers: list[SimpleNamespace] = []  # nova's, by project_id
        compute, volume, net = Quotas(self, "compute"), Quotas(self, "volume"), Quotas(self, "network")
        self.compute = SimpleNamespace(get_quota_set=compute.get, update_quota_set=compute.update,
                                       servers=lambda all_projects, project_id: [
                                           s for s in self.servers if s.project_id == project_id])
        self.block_storage = SimpleNamespace(get_quota_set=volume.get, update_quota_set=volume.update,
                                             volumes=lambda **_: [], snapshots=lambda **_: [])
        self.network.get_quota, self.network.update_quota = net.get, net.update  # type: ignore[attr-defined]
        self.image = SimpleNamespace(images=lambda owner: [])
        self.quota_sets = {"compute": compute, "volume": volume, "network": net}

    def scoped(self, name: str) -> Any:
        """The admin user's connection inside one project: its cleanup deletes what that project
        holds in the fake, but a server marked stuck (as a server nova fails to delete)."""
        project_id, cloud = self.project(name).id, self

        class Scoped:
            network = cloud.network  # it lists by project_id, as the scoped token's calls do
            current_project_id = project_id

            def project_cleanup(self, *, dry_run: bool, wait_timeout: int, skip_resources: list[str]) -> None:
                cloud.calls.append(f"cleanup {name} dry_run={dry_run} wait={wait_timeout} skip={skip_resources}")
                cloud.servers = [s for s in cloud.servers if s.project_id != project_id or s.stuck]

        return Scoped()

    def project(self, name: str) -> Any:
        return self.identity.find_project(name, "default")

    def roles_of(self, user: str, project: str) -> set[str]:
        found = self.identity.find_user(user, "default")
        return {r.name for r in self.identity.role_assignments_filter(self.project(project), found)}
