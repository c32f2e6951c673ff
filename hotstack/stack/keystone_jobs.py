"""Keystone jobs through openstacksdk as the admin: the `service` project and roles, each
service's user, its catalog entry and endpoints, heat's stack domain.

Every step looks first and changes only what differs, so a re-run changes nothing. Passwords
come from the secrets file and are never printed.
"""

from __future__ import annotations

from typing import Any

from hotstack.catalog import Catalog, Job, Service
from hotstack.core import credentials
from hotstack.core.credentials import USER_NAME, tenant_secret

SERVICE_PROJECT = "service"
SERVICE_ROLES = ("admin", "service")
INTERFACES = ("public", "internal", "admin")
DEFAULT_DOMAIN = "default"
HEAT_DOMAIN = "heat"
HEAT_DOMAIN_ADMIN = "heat_domain_admin"


def run(conn: Any, cat: Catalog, svc: Service, job: Job, secrets: dict[str, str]) -> list[str]:
    """Do what `job` asks; the changes made (empty when everything already matched)."""
    changes: list[str] = []
    if job.argv[:1] == ("stack-domain",):
        ensure_stack_domain(conn, cat, secrets["heat_domain_admin_password"], changes)
        return changes
    if job.argv[:1] == ("password-cost",):
        set_passwords_again(conn, cat, secrets, changes)
        return changes
    project = ensure_project(conn, SERVICE_PROJECT, changes)
    roles = [ensure_role(conn, name, changes) for name in SERVICE_ROLES]
    if svc.keystone_user:
        user = ensure_user(conn, cat, svc.keystone_user, secrets[f"keystone_{svc.keystone_user}"],
                           project, changes)
        for role in roles:
            if not conn.identity.validate_user_has_project_role(project, user, role):
                conn.identity.assign_project_role_to_user(project, user, role)
                changes.append(f"role {role.name} for {user.name} in project {project.name}")
    if svc.endpoint:
        ensure_endpoints(conn, cat, svc, changes)
    return changes


def ensure_project(conn: Any, name: str, changes: list[str]) -> Any:
    project = conn.identity.find_project(name, ignore_missing=True, domain_id=DEFAULT_DOMAIN)
    if project is None:
        project = conn.identity.create_project(name=name, domain_id=DEFAULT_DOMAIN,
                                               description="OpenStack services (hotstack)")
        changes.append(f"project {name}")
    return project


def ensure_role(conn: Any, name: str, changes: list[str]) -> Any:
    role = conn.identity.find_role(name, ignore_missing=True)
    if role is None:
        role = conn.identity.create_role(name=name)
        changes.append(f"role {name}")
    return role


def ensure_user(conn: Any, cat: Catalog, name: str, password: str, project: Any | None,
                changes: list[str], domain_id: str = DEFAULT_DOMAIN) -> Any:
    user = conn.identity.find_user(name, ignore_missing=True, domain_id=domain_id)
    attrs: dict[str, Any] = {"default_project_id": project.id} if project is not None else {}
    if user is None:
        changes.append(f"user {name}")
        return conn.identity.create_user(name=name, password=password, domain_id=domain_id,
                                         enabled=True, **attrs)
    if not password_works(cat, name, password, domain_id):
        conn.identity.update_user(user, password=password)
        changes.append(f"password of user {name}")
    return user


def password_works(cat: Catalog, user: str, password: str, domain_id: str) -> bool:
    """Can `user` authenticate with `password`? (Unscoped: needs no role anywhere yet.)"""
    from keystoneauth1 import exceptions, session
    from keystoneauth1.identity import v3

    auth = v3.Password(auth_url=credentials.auth_url(cat.settings), username=user, password=password,
                       user_domain_id=domain_id, unscoped=True)
    try:
        return bool(session.Session(auth=auth, timeout=15).get_token())
    except exceptions.Unauthorized:
        return False


def generated_passwords(cat: Catalog, secrets: dict[str, str]) -> list[tuple[str, str, str]]:
    """(user, domain name or id, password) of the keystone users hotstack made (the tenants'
    users too, once post-setup made them), but admin: its token is the one these jobs run with,
    and keystone would revoke it (with every token issued in that same second). Bootstrap
    hashed it at the configured cost on a new cloud."""
    users = [(svc.keystone_user, DEFAULT_DOMAIN, secrets[f"keystone_{svc.keystone_user}"])
             for svc in cat if svc.keystone_user]
    users += [(USER_NAME, DEFAULT_DOMAIN, secrets["hotstack_user_password"]),
              (HEAT_DOMAIN_ADMIN, HEAT_DOMAIN, secrets["heat_domain_admin_password"])]
    users += [(u.name, DEFAULT_DOMAIN, secrets[tenant_secret(u.name)]) for t in cat.settings.tenants for u in t.users]
    return list(dict.fromkeys(users))


def set_passwords_again(conn: Any, cat: Catalog, secrets: dict[str, str], changes: list[str]) -> None:
    """A stored hash keeps the cost it was made with: set each generated password again (to the
    same value), so keystone stores it at the cost configured now. Keystone then revokes that
    user's tokens; services and clients sign in again on their next call."""
    domains: dict[str, Any] = {}
    for name, domain_name, password in generated_passwords(cat, secrets):
        if domain_name not in domains:  # two domains, a dozen users: each domain looked up once
            domains[domain_name] = conn.identity.find_domain(domain_name, ignore_missing=True)
        domain = domains[domain_name]
        user = domain and conn.identity.find_user(name, ignore_missing=True, domain_id=domain.id)
        if user:
            conn.identity.update_user(user, password=password)
            changes.append(f"password of {name} stored at the configured cost")


def ensure_endpoints(conn: Any, cat: Catalog, svc: Service, changes: list[str]) -> None:
    """The catalog service and one endpoint per interface in the region, at the public URL."""
    ep = svc.endpoint
    assert ep is not None
    region = cat.settings.region
    if not any(r.id == region for r in conn.identity.regions()):
        conn.identity.create_region(id=region)
        changes.append(f"region {region}")
    service = next((s for s in conn.identity.services(type=ep.service_type) if s.name == ep.catalog_name), None)
    if service is None:
        service = conn.identity.create_service(name=ep.catalog_name, type=ep.service_type, enabled=True,
                                               description=f"{ep.catalog_name} (hotstack)")
        changes.append(f"service {ep.catalog_name}")
    url = cat.public_url(svc.name)
    existing = list(conn.identity.endpoints(service_id=service.id))
    for interface in INTERFACES:
        mine = [e for e in existing if e.interface == interface and e.region_id == region]
        for extra in mine[1:]:
            conn.identity.delete_endpoint(extra)
            changes.append(f"duplicate {interface} endpoint of {ep.catalog_name}")
        if not mine:
            conn.identity.create_endpoint(service_id=service.id, interface=interface, url=url,
                                          region_id=region, enabled=True)
            changes.append(f"{interface} endpoint of {ep.catalog_name}")
        elif mine[0].url != url:
            conn.identity.update_endpoint(mine[0], url=url)
            changes.append(f"{interface} endpoint of {ep.catalog_name} → {url}")


def ensure_stack_domain(conn: Any, cat: Catalog, password: str, changes: list[str]) -> None:
    """Heat's own domain and its admin (the admin role on that domain)."""
    domain = conn.identity.find_domain(HEAT_DOMAIN, ignore_missing=True)
    if domain is None:
        domain = conn.identity.create_domain(name=HEAT_DOMAIN, description="Heat stack projects and users")
        changes.append(f"domain {HEAT_DOMAIN}")
    user = ensure_user(conn, cat, HEAT_DOMAIN_ADMIN, password, None, changes, domain_id=domain.id)
    role = ensure_role(conn, "admin", changes)
    if not conn.identity.validate_user_has_domain_role(domain, user, role):
        conn.identity.assign_domain_role_to_user(domain, user, role)
        changes.append(f"role admin for {HEAT_DOMAIN_ADMIN} on domain {HEAT_DOMAIN}")
    # Heat gives the users it makes for wait conditions and software deployments this role;
    # without it such stacks fail with "Can't find role heat_stack_user".
    ensure_role(conn, "heat_stack_user", changes)
