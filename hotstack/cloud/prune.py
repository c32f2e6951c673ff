"""Deleting what the settings dropped, only when asked (`hotstack setup-cloud --prune-tenants`):
each orphaned tenant's resources, then its project; each orphaned tenant user.

A project's servers, volumes, images and networks outlive it in nova, cinder, glance and
neutron, so they go first, through openstacksdk's project cleanup run *inside* the project:
the admin user takes the member role there for it, so the token sees that project's resources
only (an admin-role token would list every project's networks). What survives the cleanup is
counted before the project is deleted; if anything is left, the tenant is kept and named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from hotstack.cloud.outcome import Outcome
from hotstack.cloud.tenants import Orphans, find_orphans
from hotstack.core.errors import HotstackError
from hotstack.core.settings_tenants import Tenant

ProjectConn = Callable[[str], Any]  # project name -> the admin user's connection scoped to it
CLEANUP_WAIT_S = 300


def report_orphans(admin: Any, tenants: list[Tenant]) -> list[Outcome]:
    found = find_orphans(admin, tenants)
    return [Outcome(f"tenant {p.name}", "orphaned") for p in found.projects] + \
        [Outcome(f"user {u.name}", "orphaned") for u in found.users]


def prune_tenants(admin: Any, tenants: list[Tenant], project_conn: ProjectConn) -> list[Outcome]:
    found: Orphans = find_orphans(admin, tenants)
    out = []
    for project in found.projects:
        empty_project(admin, project, project_conn)
        admin.identity.delete_project(project)
        out.append(Outcome(f"tenant {project.name}", "deleted"))
    for user in found.users:
        admin.identity.delete_user(user)
        out.append(Outcome(f"user {user.name}", "deleted"))
    return out


def empty_project(admin: Any, project: Any, project_conn: ProjectConn) -> None:
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, admin.current_user_id, member)
    project_conn(project.name).project_cleanup(dry_run=False, wait_timeout=CLEANUP_WAIT_S)
    left = leftovers(admin, project.id)
    if left:
        raise HotstackError(f"tenant {project.name} still holds {', '.join(left)} after its cleanup; "
                            "the tenant is kept",
                            hint="delete those by hand, then run `hotstack setup-cloud --prune-tenants` again")
    for group in admin.network.security_groups(project_id=project.id):
        admin.network.delete_security_group(group)  # the default group neutron made for the project


def leftovers(admin: Any, project_id: str) -> list[str]:
    """What the project still holds, as 'N servers' and the like."""
    listings: dict[str, Callable[[], Iterable[Any]]] = {
        "servers": lambda: admin.compute.servers(all_projects=True, project_id=project_id),
        "volumes": lambda: admin.block_storage.volumes(all_projects=True, project_id=project_id),
        "snapshots": lambda: admin.block_storage.snapshots(all_projects=True, project_id=project_id),
        "images": lambda: admin.image.images(owner=project_id),
        "floating IPs": lambda: admin.network.ips(project_id=project_id),
        "routers": lambda: admin.network.routers(project_id=project_id),
        "networks": lambda: admin.network.networks(project_id=project_id),
        "ports": lambda: admin.network.ports(project_id=project_id),
    }
    counts = {what: len(list(listing())) for what, listing in listings.items()}
    return [f"{n} {what}" for what, n in counts.items() if n]
