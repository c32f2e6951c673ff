"""A node's join bundle: everything `hotstack join` needs on the node, in one 0600 YAML file.

What the compute role needs and nothing more (docs/nodes.md): the control plane's address and
URLs, the API names, this node's RabbitMQ user, the two service users nova-compute and the
metadata agent call placement, neutron and cinder with, the metadata proxy's secret, and the
trust (the CA, this node's certificate and key, the deployment's SSH keys for cold migration).
No database, admin or other node's secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hotstack.catalog import Catalog
from hotstack.catalog.services.infra import AMQP_PORT
from hotstack.catalog.services.ovn import SB_TLS_PORT
from hotstack.core import sshtrust
from hotstack.core.fsutil import write_if_changed
from hotstack.core.noderegistry import Entry
from hotstack.core.pki import Issued
from hotstack.core.settings import dump

FORMAT = 1
SERVICE_USERS = ("nova", "neutron")  # nova-compute's and the metadata agent's keystone users


SUFFIX = ".hotstack-node"


def default_path(state: Path, node: str) -> Path:
    """Where the first host keeps a node's bundle (`up` reads a pod node's from there)."""
    return state / "bundles" / f"{node}{SUFFIX}"


def rabbitmq_user(node: str) -> str:
    return f"node-{node}"


def rabbitmq_secret(node: str) -> str:
    """The secrets-file name of a node's RabbitMQ password (made with its bundle)."""
    return f"rabbitmq_node_{node}"


def node_secrets(node: str) -> list[str]:
    return [rabbitmq_secret(node), "metadata_secret", *(f"keystone_{u}" for u in SERVICE_USERS)]


def bundle_data(cat: Catalog, entry: Entry, secrets: dict[str, str], ca: str, issued: Issued,
                ssh: sshtrust.Keys) -> dict[str, Any]:
    s, ctl = cat.settings, str(cat.control_address)
    identity = cat[cat.identity].endpoint
    assert identity is not None
    return {
        "hotstack_node_bundle": FORMAT,
        "deployment": s.name,
        "release": s.release,
        "node": {"name": entry.name, "kind": entry.kind, "address": entry.address},
        "control_address": ctl,
        "region": s.region,
        "network": {"domain": s.network.domain, "mtu": s.network.mtu, "int_bridge": s.network.int_bridge,
                    "tun_bridge": s.network.tun_bridge, "underlay_cidr": str(s.nodes.underlay_cidr)},
        # every API name leads to the control address (nodes have no dnsmasq of their own)
        "names": {ep.dns_name: ctl for _, ep in cat.endpoints()},
        "urls": {"keystone": identity.url(identity.dns_name), "rabbitmq": f"{ctl}:{AMQP_PORT}",
                 "ovn_sb": f"ssl:{ctl}:{SB_TLS_PORT}", "nova_metadata": f"http://{ctl}:{s.ports.nova_metadata}"},
        "credentials": {
            "rabbitmq": {"user": rabbitmq_user(entry.name), "password": secrets[rabbitmq_secret(entry.name)]},
            "keystone": {user: secrets[f"keystone_{user}"] for user in SERVICE_USERS},
            "metadata_secret": secrets["metadata_secret"],
        },
        "trust": {"ca": ca, "certificate": issued.certificate, "key": issued.key, "serial": issued.serial,
                  # the deployment's SSH keys for cold migration (every node's, core/sshtrust.py)
                  "ssh_host_key": ssh.host, "ssh_client_key": ssh.client},
        # the node renders its compute role from the same settings (they hold no secret)
        "settings": dump(s),
    }


def write(path: Path, data: dict[str, Any]) -> None:
    """The bundle, 0600 from its first byte (atomic write: a temp file made 0600, then moved)."""
    write_if_changed(path, yaml.safe_dump(data, sort_keys=False), mode=0o600)
