"""The service definitions, one module per OpenStack project or infra group.

Each module has `PROJECT` (its OpenStack project, or None where each service is its own, as in
infra) and `services(ctx)`; the modules of ovn-controller, the OVN metadata agent and
nova-compute also have `ROLE`, the functions that make their part of the compute role for a
node (catalog/node.py). `all_services` lists them in start-up-friendly order and fills in
what derives from the rest: the deployment prefix, the project, and a network probe's address
and port (from the service's slot and port)."""

from __future__ import annotations

import dataclasses
from types import ModuleType

from hotstack.catalog.model import NETWORK_KINDS, Service
from hotstack.catalog.node import Node
from hotstack.catalog.services import (
    cinder,
    glance,
    heat,
    horizon,
    infra,
    keystone,
    monitoring,
    neutron,
    nova,
    ovn,
    placement,
)
from hotstack.catalog.services.common import Ctx
from hotstack.core.noderegistry import Entry as NodeEntry
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings

MODULES: tuple[ModuleType, ...] = (infra, ovn, keystone, glance, placement, nova, neutron, cinder, heat, horizon,
                                    monitoring)


def _finish(c: Ctx, svc: Service, project: str | None) -> Service:
    probe = svc.probe
    if probe.kind in NETWORK_KINDS and svc.slot is not None:
        probe = dataclasses.replace(probe, host=probe.host or c.ip(svc.slot), port=probe.port or svc.port)
    return dataclasses.replace(svc, prefix=c.s.name, project=svc.project or project or svc.name, probe=probe)


def _role(c: Ctx, mod: ModuleType, node: Node) -> list[Service]:
    """A module's part of the compute role (`ROLE`: functions of a node, None where a service
    is not needed), for `node`."""
    return [svc for make in getattr(mod, "ROLE", ()) if (svc := make(c, node)) is not None]


def all_services(s: Settings, p: Paths, nodes: tuple[NodeEntry, ...] = ()) -> list[Service]:
    """The control plane and node one's compute role, each module's services together; `nodes`
    (registered beside node one) add what the control plane publishes to them."""
    c, first = Ctx(s, p, nodes), Node.first(s)
    return [_finish(c, svc, mod.PROJECT) for mod in MODULES for svc in (*mod.services(c), *_role(c, mod, first))]


def compute_role(s: Settings, p: Paths, node: Node) -> list[Service]:
    """The compute role (ovn-controller, the metadata agent, nova-compute) of one node."""
    c = Ctx(s, p)
    return [_finish(c, svc, mod.PROJECT) for mod in MODULES for svc in _role(c, mod, node)]
