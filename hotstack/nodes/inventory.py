"""`hotstack node list`: every node — node one and the registered ones — with what the cloud
says of it (nova's compute service and hypervisor, neutron's OVN agents) and its instance
count. Whether a node is joined or up is read here, never stored (core/noderegistry.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hotstack.catalog import Catalog


@dataclass(frozen=True)
class NodeRow:
    name: str  # the hypervisor's name (node one: nova.host)
    kind: str  # first | pod | machine
    address: str
    compute: str  # up | down | disabled | missing
    hypervisor: str  # up | down | unmapped
    agents: str  # `2/2 alive`
    instances: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _compute_state(services: list[Any]) -> str:
    if not services:
        return "missing"
    svc = services[0]
    return "disabled" if svc.status == "disabled" else str(svc.state)


def rows(cat: Catalog, conn: Any) -> list[NodeRow]:
    s = cat.settings
    nodes = [(s.nova.host, "first", str(cat.settings.network.brex_ip))]
    nodes += [(e.name, e.kind, e.address) for e in cat.nodes]
    services = list(conn.compute.services(binary="nova-compute"))
    hypervisors = {h.name.split(".")[0]: h for h in conn.compute.hypervisors(details=True)}
    agents = list(conn.network.agents())
    servers = list(conn.compute.servers(all_projects=True))
    found = []
    for name, kind, address in nodes:
        mine = [a for a in agents if a.host == name]
        hyp = hypervisors.get(name)
        found.append(NodeRow(
            name, kind, address, _compute_state([x for x in services if x.host == name]),
            hyp.state if hyp is not None else "unmapped",
            f"{sum(1 for a in mine if a.is_alive)}/{len(mine)} alive",
            sum(1 for srv in servers if srv.compute_host == name)))
    return found
