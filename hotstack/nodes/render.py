"""A node's compute role rendered from its bundle: the same service definitions and templates as
node one's (catalog/services), with the node context and what the bundle gives in place of the
control plane's own: its RabbitMQ user, the southbound DB's TLS listener, the control address.

The node's files live under its own root (`NodePaths`): configs, compose file, state. The path
strings nova writes into domain XML (instances path, mount base) stay the control plane's, so a
live migration finds the same paths on every node. Secrets come from the bundle only: a template
asking for any other (a database password) fails the render instead of leaking a wrong value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from hotstack import catalog
from hotstack.catalog import Catalog, Service
from hotstack.catalog.node import Node
from hotstack.catalog.services import compute_role
from hotstack.containers.labels import HASH_LABEL
from hotstack.core.errors import HotstackError
from hotstack.core.fsutil import sha256, write_if_changed
from hotstack.core.paths import Paths
from hotstack.nodes.bundle import Bundle
from hotstack.render import configs
from hotstack.render.compose import service_definition


@dataclass(frozen=True)
class NodePaths(Paths):
    """The control plane's path strings, with this node's own files under `root`."""

    root: Path = Path("/nonexistent")

    @property
    def rendered(self) -> Path:
        return self.root / "config"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def secrets_file(self) -> Path:  # a node keeps no secrets file: its bundle is the secret
        return self.root / "bundle.hotstack-node"


@dataclass
class RoleRender:
    cat: Catalog  # the control plane's services and the node's role, rendered for the node
    role: list[Service]
    compose: dict[str, Any] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)


def node_context(cat: Catalog, bundle: Bundle) -> dict[str, Any]:
    user, password = bundle.rabbitmq
    ctx = configs.context(cat, bundle.secrets(), f"rabbit://{user}:{password}@{bundle.urls['rabbitmq']}/")
    return {**ctx, "node": cat.this_node(), "ovn_sb": bundle.urls["ovn_sb"], "metadata_host": bundle.control}


def render_role(bundle: Bundle, node: Node, paths: NodePaths, image_ref: Callable[[str], str]) -> RoleRender:
    settings = bundle.settings()
    full = catalog.build(settings, paths)
    role = compute_role(settings, paths, node)
    cat = Catalog(settings, paths, {**full.services, **{svc.name: svc for svc in role}}, node=node)
    env, ctx = configs.environment(), node_context(cat, bundle)
    out = RoleRender(cat, role)
    services: dict[str, Any] = {}
    for svc in role:
        texts = []
        for cf in svc.configs:
            try:
                text = env.get_template(f"configs/{cf.template}.j2").render(ctx)
            except jinja2.TemplateError as exc:
                raise HotstackError(f"template configs/{cf.template}.j2 failed for node {node.name}: {exc}") from exc
            write_if_changed(paths.rendered / cf.template, text, mode=cf.mode)
            configs.chown(paths.rendered / cf.template, cf)
            texts.append(text)
        services[svc.name] = service_definition(cat, svc, image_ref(svc.image), sha256("".join(texts)))
        out.hashes[svc.name] = services[svc.name]["labels"][HASH_LABEL]
    out.compose = {"name": f"{settings.name}-{node.name}", "services": services}
    write_if_changed(paths.compose_file, json.dumps(out.compose, indent=2) + "\n", mode=0o644)
    return out
