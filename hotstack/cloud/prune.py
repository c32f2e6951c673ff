"""Deleting what the settings dropped, only when asked (`hotstack setup-cloud --prune-tenants`):
each orphaned tenant's resources, then its project; each orphaned tenant user.

A project's servers, volumes, images and networks outlive it in nova, cinder, glance and
neutron, so they go first, *inside* the project: the admin user takes the member role there
for it, so the token sees that project's resources only (an admin-role token would list every
project's networks). openstacksdk's project cleanup deletes servers, volumes, images and
stacks; the networks are done here (its own network cleanup keeps a network that holds OVN's
metadata port once it has deleted a server). What survives is counted before the project is
deleted; if anything is left, the tenant is kept and named.
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
SDK_SKIPS = ["network", "router", "port", "subnet", "floating_ip"]  # its network cleanup, done here instead
AUTO_DELETED = ("network:dhcp", "network:distributed")  # ports neutron deletes with their network


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
    conn = project_conn(project.name)
    conn.project_cleanup(dry_run=False, wait_timeout=CLEANUP_WAIT_S, skip_resources=SDK_SKIPS)
    _refuse_leftovers(admin, project, ("servers",))  # their ports hold the networks
    empty_networks(conn.network, project.id)
    _refuse_leftovers(admin, project, tuple(LISTINGS))
    for group in admin.network.security_groups(project_id=project.id):
        admin.network.delete_security_group(group)  # the default group neutron made for the project


def empty_networks(net: Any, project_id: str) -> None:
    """Floating IPs, routers (their interfaces first), then networks with their other ports
    (neutron deletes the subnets and its own DHCP and metadata ports with a network)."""
    for ip in net.ips(project_id=project_id):
        net.delete_ip(ip)
    for router in net.routers(project_id=project_id):
        for port in net.ports(device_id=router.id):
            if (port.device_owner or "").startswith("network:router_interface"):
                net.remove_interface_from_router(router, port_id=port.id)
        net.delete_router(router)
    for network in net.networks(project_id=project_id):
        for port in net.ports(network_id=network.id):
            if port.device_owner not in AUTO_DELETED:
                net.delete_port(port)
        net.delete_network(network)


def _refuse_leftovers(admin: Any, project: Any, kinds: tuple[str, ...]) -> None:
    left = leftovers(admin, project.id, kinds)
    if left:
        raise HotstackError(f"tenant {project.name} still holds {', '.join(left)} after its cleanup; "
                            "the tenant is kept",
                            hint="delete those by hand, then run `hotstack setup-cloud --prune-tenants` again")


# What a project may still hold, as the admin lists it.
LISTINGS: dict[str, Callable[[Any, str], Iterable[Any]]] = {
    "servers": lambda admin, pid: admin.compute.servers(all_projects=True, project_id=pid),
    "volumes": lambda admin, pid: admin.block_storage.volumes(all_projects=True, project_id=pid),
    "snapshots": lambda admin, pid: admin.block_storage.snapshots(all_projects=True, project_id=pid),
    "images": lambda admin, pid: admin.image.images(owner=pid),
    "floating IPs": lambda admin, pid: admin.network.ips(project_id=pid),
    "routers": lambda admin, pid: admin.network.routers(project_id=pid),
    "networks": lambda admin, pid: admin.network.networks(project_id=pid),
    "ports": lambda admin, pid: admin.network.ports(project_id=pid),
}


def leftovers(admin: Any, project_id: str, kinds: tuple[str, ...]) -> list[str]:
    """What the project still holds of these kinds, as 'N servers' and the like."""
    counts = {what: len(list(LISTINGS[what](admin, project_id))) for what in kinds}
    return [f"{n} {what}" for what, n in counts.items() if n]
