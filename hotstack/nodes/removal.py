"""`hotstack node remove`: a node leaves without a trace. Refused while servers live there,
unless they are to move away first (`--migrate`: nodes/evacuate.py). In order: its compute
service disabled (nothing new lands there), its servers moved, its containers and (a pod node)
its pod and underlay link removed, its chassis deleted from the southbound DB, its compute service
deleted (nova drops its compute node and resource provider with it), its neutron agents, its
RabbitMQ user, its registry entry, bundle and state. The caller converges the control plane
afterwards (the ports published to nodes, the guard, node one's encap IP)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

from hotstack.catalog import Catalog
from hotstack.catalog.services.ovn import SB_DB
from hotstack.containers import control
from hotstack.core.errors import HotstackError
from hotstack.core.noderegistry import Entry, Registry
from hotstack.nodes import admit, evacuate, pod
from hotstack.render.bundle import default_path

Say = Callable[[str], None]


def servers_on(conn: Any, host: str) -> list[Any]:
    return [srv for srv in conn.compute.servers(all_projects=True) if srv.compute_host == host]


def take_down(cat: Catalog, entry: Entry) -> list[str]:
    """A pod node's containers, namespaces, link and pod (`clean` uses it too)."""
    containers = pod.role_containers(cat, entry)
    control.remove(*containers, timeout=5)
    done = [f"removed {', '.join(containers)}"]
    for step in pod.teardown(cat, entry):
        done += step.remove()
    return done


def remove_node(cat: Catalog, conn: Any, entry: Entry, say: Say, migrate: bool = False) -> list[str]:
    host, done = entry.name, []
    living = servers_on(conn, host)
    if living and not migrate:
        names = ", ".join(sorted(srv.name for srv in living)[:5])
        raise HotstackError(f"node {host} still hosts {len(living)} server(s): {names}",
                            hint=f"delete them, or move them away: hotstack node remove {host} --migrate")
    if living:
        evacuate.check_movable(living, host)  # before the node is disabled: a refusal changes nothing
    if busy := evacuate.unfinished(conn, host):
        raise HotstackError(f"node {host}: migrations in progress: {', '.join(busy[:3])}",
                            hint="let them finish (openstack server migration list), then remove the node")
    services = [svc for svc in conn.compute.services(binary="nova-compute") if svc.host == host]
    for svc in services:
        if svc.status != "disabled":
            conn.compute.disable_service(svc, host, "nova-compute", disabled_reason="hotstack node remove")
            done.append(f"disabled nova-compute on {host}")
    if living:
        done += evacuate.move_all(conn, living, host, say)
        if left := servers_on(conn, host):
            raise HotstackError(f"node {host}: {len(left)} server(s) arrived while the others moved away",
                                hint=f"hotstack node remove {host} --migrate again")
    if entry.kind == "pod":
        done += take_down(cat, entry)
    code, out = control.exec_in(cat[SB_DB].container, ["ovn-sbctl", "--db=unix:/run/ovn/ovnsb_db.sock",
                                                        "--if-exists", "chassis-del", host], timeout=60, check=False)
    if code != 0:
        raise HotstackError(f"deleting chassis {host} from the southbound DB failed: {out.strip()}")
    done.append(f"deleted chassis {host} from the southbound DB")
    for svc in services:
        conn.compute.delete_service(svc)
        done.append(f"deleted nova-compute {host} (its compute node and resource provider)")
    for agent in [a for a in conn.network.agents() if a.host == host]:
        conn.network.delete_agent(agent)
        done.append(f"deleted {agent.agent_type} on {host}")
    if admit.drop_rabbitmq_user(cat, host):
        done.append(f"deleted RabbitMQ user of {host}")
    Registry(cat.paths.state).drop(host)
    for leftover in (cat.paths.nodes / host, default_path(cat.paths.state, host)):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        elif leftover.exists():
            leftover.unlink()
    done.append(f"dropped {host} from {Registry(cat.paths.state).path}")
    say(f"node {host}: removed")
    return done
