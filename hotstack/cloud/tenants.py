"""Tenants of the settings, made and kept in step by post-setup as the admin: each a keystone
project (tagged, so hotstack knows its own), its users with one role each, its quotas and, when
asked, its `private` network and `router` to `public`.

Like every post-setup step it looks first and changes only what differs: a changed quota or
role is applied; a tenant or user no longer in the settings is only reported (`orphaned`) and
deleted by `hotstack setup-cloud --prune-tenants` (both in cloud/prune.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hotstack.cloud.outcome import Outcome
from hotstack.cloud.post_setup import PRIVATE_NET, PRIVATE_SUBNET, PUBLIC_NET, ROUTER, ensure_quotas, password_works
from hotstack.core.credentials import tenant_secret
from hotstack.core.errors import HotstackError
from hotstack.core.settings import Settings
from hotstack.core.settings_tenants import Tenant, TenantNetwork, quotas_of

TENANT_TAG = "hotstack-tenant"  # on every project post-setup made for a tenant
USER_MARK = "hotstack tenant user"  # the description of every user it made for one
ROLES = ("admin", "member", "reader")
DOMAIN = "default"
Identity = tuple[list[Outcome], dict[str, Any]]  # outcomes, and the projects by tenant name


def default_projects(tenants: Iterable[Tenant]) -> dict[str, str]:
    """user -> the tenant whose project is its default: the first that lists it."""
    found: dict[str, str] = {}
    for tenant in tenants:
        for user in tenant.users:
            found.setdefault(user.name, tenant.name)
    return found


def role_changes(wanted: str | None, current: Iterable[str]) -> tuple[list[str], list[str]]:
    """(roles to assign, roles to revoke) so that of keystone's three a user holds just `wanted`
    (None: none of them) on a project; other roles, given by hand, are left alone."""
    have = {r for r in current if r in ROLES}
    return ([wanted] if wanted and wanted not in have else []), sorted(have - {wanted})


@dataclass(frozen=True)
class Orphans:
    projects: list[Any]  # tagged projects no tenant of the settings names
    users: list[Any]  # marked users no tenant lists


def find_orphans(admin: Any, tenants: list[Tenant]) -> Orphans:
    names = {t.name for t in tenants}
    users = {u.name for t in tenants for u in t.users}
    return Orphans(
        [p for p in admin.identity.projects(tags=TENANT_TAG, domain_id=DOMAIN) if p.name not in names],
        [u for u in admin.identity.users(domain_id=DOMAIN) if u.description == USER_MARK and u.name not in users])


def ensure_tenants(admin: Any, s: Settings, passwords: Mapping[str, str]) -> list[Outcome]:
    """Every tenant of the settings as declared (the ones dropped from them: cloud/prune.py)."""
    out, projects = ensure_identity(admin, s.tenants, passwords)
    for tenant in s.tenants:
        project = projects[tenant.name]
        out += ensure_quotas(admin, quotas_of(tenant, s.quotas), project.id, label=f"tenant {tenant.name}: ")
        if tenant.network is not None:
            out += ensure_tenant_network(admin, project, tenant.network)
    return out


def ensure_identity(admin: Any, tenants: list[Tenant], passwords: Mapping[str, str]) -> Identity:
    """Keystone's part: the projects, the users (passwords by secret name) and their roles; the
    outcomes, and the projects by tenant name."""
    out: list[Outcome] = []
    projects = {t.name: ensure_project(admin, t, out) for t in tenants}
    users = {name: ensure_user(admin, name, passwords[tenant_secret(name)], projects[tenant], out)
             for name, tenant in default_projects(tenants).items()}
    roles = {r.name: r for r in admin.identity.roles() if r.name in ROLES}
    for tenant in tenants:
        out += ensure_roles(admin, projects[tenant.name], tenant, users, roles)
    return out, projects


def description_of(tenant: Tenant) -> str:
    return tenant.description or "hotstack tenant (from the settings)"


def ensure_project(admin: Any, tenant: Tenant, out: list[Outcome]) -> Any:
    ident = admin.identity
    project = ident.find_project(tenant.name, domain_id=DOMAIN)
    if project is None:
        out.append(Outcome(f"tenant {tenant.name}", "created"))
        return ident.create_project(name=tenant.name, domain_id=DOMAIN, description=description_of(tenant),
                                    tags=[TENANT_TAG])
    drift: dict[str, Any] = {}
    if TENANT_TAG not in (project.tags or []):  # a project made by hand, now declared: hotstack's from here on
        drift["tags"] = [*(project.tags or []), TENANT_TAG]
    if project.description != description_of(tenant):
        drift["description"] = description_of(tenant)
    if drift:
        project = ident.update_project(project, **drift)
        out.append(Outcome(f"tenant {tenant.name} ({', '.join(sorted(drift))})", "updated"))
    return project


def ensure_user(admin: Any, name: str, password: str, project: Any, out: list[Outcome]) -> Any:
    ident = admin.identity
    user = ident.find_user(name, domain_id=DOMAIN)
    if user is None:
        out.append(Outcome(f"user {name}", "created"))
        return ident.create_user(name=name, password=password, domain_id=DOMAIN, default_project_id=project.id,
                                 description=USER_MARK, is_enabled=True)
    if user.description != USER_MARK:
        raise HotstackError(f"tenant user {name} exists in keystone and was not made by hotstack for a tenant; "
                            "hotstack will not take it over (its password would change)",
                            hint="choose another user name in the settings' tenants, or delete that user")
    if not password_works(admin, user.id, password):  # set only when it differs: keystone revokes on set
        ident.update_user(user, password=password)
        out.append(Outcome(f"password of {name}", "updated"))
    if user.default_project_id != project.id:
        user = ident.update_user(user, default_project_id=project.id)
        out.append(Outcome(f"user {name} (default project)", "updated"))
    return user


def ensure_roles(admin: Any, project: Any, tenant: Tenant, users: Mapping[str, Any],
                 roles: Mapping[str, Any]) -> list[Outcome]:
    """Each listed user holds its one role; a marked user no longer listed loses its roles here."""
    ident, out = admin.identity, []
    wanted = {users[u.name].id: u.role for u in tenant.users}
    assigned = {a.user["id"] for a in ident.role_assignments(scope_project_id=project.id) if a.user}
    dropped = [ident.get_user(uid) for uid in sorted(assigned - set(wanted))]
    targets: list[tuple[Any, str | None]] = [(users[u.name], u.role) for u in tenant.users]
    targets += [(user, None) for user in dropped if user.description == USER_MARK]
    for user, role in targets:
        current = [r.name for r in ident.role_assignments_filter(project=project, user=user)]
        add, revoke = role_changes(role, current)
        for name in add:
            ident.assign_project_role_to_user(project, user, roles[name])
            out.append(Outcome(f"role {name} of {user.name} in tenant {tenant.name}", "created"))
        for name in revoke:
            ident.unassign_project_role_from_user(project, user, roles[name])
            out.append(Outcome(f"role {name} of {user.name} in tenant {tenant.name}", "deleted"))
    return out


def ensure_tenant_network(admin: Any, project: Any, want: TenantNetwork) -> list[Outcome]:
    """The tenant's `private` network and subnet and (when asked) `router`, made by the admin
    inside the tenant's project; a subnet whose range drifted is reported (neutron cannot change it)."""
    net, out, label = admin.network, [], f"tenant {project.name}: "
    network = next(iter(net.networks(name=PRIVATE_NET, project_id=project.id)), None)
    if network is None:
        network = net.create_network(name=PRIVATE_NET, project_id=project.id)
        out.append(Outcome(f"{label}network {PRIVATE_NET}", "created"))
    subnet = next(iter(net.subnets(name=PRIVATE_SUBNET, network_id=network.id)), None)
    if subnet is None:
        subnet = net.create_subnet(name=PRIVATE_SUBNET, network_id=network.id, project_id=project.id, ip_version=4,
                                   cidr=str(want.cidr), is_dhcp_enabled=True)
        out.append(Outcome(f"{label}subnet {PRIVATE_SUBNET} {want.cidr}", "created"))
    elif subnet.cidr != str(want.cidr):
        out.append(Outcome(f"{label}subnet {PRIVATE_SUBNET} holds {subnet.cidr}, not {want.cidr} (neutron cannot "
                           "change a subnet's range: delete the tenant's network for a new one)", "differs"))
    if not want.router:
        return out
    router = next(iter(net.routers(name=ROUTER, project_id=project.id)), None)
    if router is None:
        # by its external flag too: the admin sees every project's networks, and a tenant may name one `public`
        public = next(iter(net.networks(name=PUBLIC_NET, is_router_external=True)))
        router = net.create_router(name=ROUTER, project_id=project.id,
                                   external_gateway_info={"network_id": public.id})
        out.append(Outcome(f"{label}router {ROUTER}", "created"))
    if not any(True for _ in net.ports(device_id=router.id, network_id=network.id)):
        net.add_interface_to_router(router, subnet_id=subnet.id)
        out.append(Outcome(f"{label}router interface on {PRIVATE_SUBNET}", "created"))
    return out
