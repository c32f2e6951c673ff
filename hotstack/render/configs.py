"""Render every service's configuration and the podman-compose file into the rendered dir.

Jinja2 with StrictUndefined: a template that names something the context lacks fails loudly
instead of writing an empty value. Files are written only when their content changes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from hotstack.catalog import USERS, Catalog, ConfigFile, secret_names
from hotstack.catalog.node import NODE_PKI, first_listens_at
from hotstack.catalog.services.cinder import nfs_mount_dir, nfs_share
from hotstack.catalog.services.nova import NODE_ONE_TLS, SSH_DIR
from hotstack.catalog.services.ovn import SB_TLS
from hotstack.containers.labels import HASH_LABEL
from hotstack.core import sshtrust
from hotstack.core.errors import HotstackError
from hotstack.core.fsutil import sha256, write_if_changed
from hotstack.core.hostfacts import resolved
from hotstack.core.paths import template_root
from hotstack.core.pki import Authority
from hotstack.core.scope import Scope
from hotstack.core.secrets import Secrets
from hotstack.render.compose import network_definition, service_definition
from hotstack.render.monitoring import exporter_targets, scrape_jobs
from hotstack.render.upstream import host_nameservers

HASHES_FILE = "hashes.json"


@dataclass
class RenderResult:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)


# The newest i440fx machine type of Debian 12's qemu (7.2), which trixie's qemu 10.0 in a pod still
# offers: a guest started on either node can move to the other (docs/nodes.md).
PINNED_MACHINE = "pc-i440fx-7.2"


def migration_address(cat: Catalog) -> str | None:
    """Where this node's qemu takes live migrations and its sshd cold ones: a node's own address;
    node one's where other nodes reach it (catalog/node.py); None without nodes."""
    node = cat.this_node()
    if not node.is_first:
        return node.address
    return first_listens_at(cat.settings, {e.kind for e in cat.nodes})


def context(cat: Catalog, secrets: dict[str, str], transport_url: str | None = None) -> dict[str, Any]:
    """The templates' context; `transport_url` in place of the control plane's own (a node's)."""
    s, p = cat.settings, cat.paths
    brex = s.network.brex_ip

    def secret(name: str) -> str:
        if name not in secrets:
            raise HotstackError(f"template asks for unknown secret {name!r}",
                                hint="add it to catalog.naming.secret_names")
        return secrets[name]

    def db_url(owner: str, database: str | None = None) -> str:
        return (f"mysql+pymysql://{owner}:{secret('db_' + owner)}@{cat.address('mariadb')}/"
                f"{database or owner}?charset=utf8mb4")

    def url(name: str) -> str:
        """Base URL of a service's API through haproxy (no version path)."""
        ep = cat[name].endpoint
        assert ep is not None
        return f"http://{ep.dns_name}:{ep.port}"

    return {
        "s": s, "paths": p, "cat": cat, "brex_ip": str(brex), "secret": secret, "db_url": db_url,
        "node": cat.this_node(),  # the node its compute role renders for (catalog/node.py)
        "url": url, "ip": lambda name: str(cat.ip(name)), "port": cat.port, "address": cat.address,
        "transport_url": transport_url or f"rabbit://openstack:{secret('rabbitmq_password')}@{cat.address('rabbitmq')}/",
        # what a node other than node one is given instead (nodes/render.py)
        "machine_nodes": any(e.kind == "machine" for e in cat.nodes),
        "migration_address": migration_address(cat), "pinned_machine": PINNED_MACHINE,
        # node one's my_ip leads to where it takes migrations (nova copies a guest's disks to my_ip)
        "first_peer": cat.this_node().first_at or migration_address(cat),
        "ssh": {"dir": SSH_DIR, "alias": sshtrust.HOST_ALIAS, "host_key": sshtrust.HOST_KEY,
                "client_key": sshtrust.CLIENT_KEY, "authorized_keys": sshtrust.AUTHORIZED_KEYS,
                "known_hosts": sshtrust.KNOWN_HOSTS},
        # where this node's libvirtd finds its client certificate (a pod's in its container)
        "migration_pki": NODE_PKI if cat.this_node().pki else str(p.pki / "server" / NODE_ONE_TLS),
        "ovn_sb": f"tcp:{cat.address('ovn-sb-db')}", "metadata_host": str(brex), "node_pki": NODE_PKI,
        "memcache_servers": cat.address("memcached"),
        "keystone_url": url("keystone"),
        "nfs_share": nfs_share(s, p), "nfs_mount_dir": nfs_mount_dir(s, p), "scope": Scope(s.name),
        "upstream_dns": host_nameservers(p.resolv_confs),
        "scrape_jobs": lambda: scrape_jobs(cat), "exporter_targets": lambda: exporter_targets(cat),
        **resolved(s, p),
    }


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_root())),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False,
    )


def chown(path: Path, cf: ConfigFile) -> None:
    if os.geteuid() == 0:  # unprivileged renders (tests, `render --output`) keep their own owner
        uid = USERS[cf.owner]
        os.chown(path, uid, uid)


def render(cat: Catalog, image_ref: Callable[[str], str]) -> RenderResult:
    """Every service's files and the compose file for this catalog; `image_ref` names each image."""
    paths = cat.paths
    secrets = Secrets(paths.secrets_file).ensure(secret_names(cat))
    if cat.nodes:  # the southbound DB's TLS listener for nodes, node one's libvirt certificate and SSH trust
        authority = Authority(paths.pki, cat.settings.name)
        authority.ensure_server(SB_TLS, str(cat.control_address))
        authority.ensure_server(NODE_ONE_TLS, str(migration_address(cat)))
        ssh_dir = Path(cat.this_node().ssh_dir(paths))
        sshtrust.write_folder(ssh_dir, sshtrust.ensure(ssh_dir))
    env, ctx, out = environment(), context(cat, secrets), paths.rendered
    result = RenderResult()
    texts: dict[str, str] = {}
    for svc in cat:
        for cf in svc.configs:
            if cf.template in texts:
                continue
            try:
                texts[cf.template] = env.get_template(f"configs/{cf.template}.j2").render(ctx)
            except jinja2.TemplateError as exc:
                raise HotstackError(f"template configs/{cf.template}.j2 failed: {exc}") from exc
            _record(result, out / cf.template, texts[cf.template], cf.mode)
            chown(out / cf.template, cf)
    services: dict[str, Any] = {}
    for svc in cat:
        digest = sha256("".join(texts[cf.template] for cf in svc.configs))
        services[svc.name] = service_definition(cat, svc, image_ref(svc.image), digest)
        result.hashes[svc.name] = services[svc.name]["labels"][HASH_LABEL]
    compose = env.get_template("compose/podman-compose.yml.j2").render(
        ctx, services=services, networks=network_definition(cat), tojson=json.dumps)
    _record(result, paths.compose_file, compose, 0o644)
    _record(result, out / HASHES_FILE, json.dumps(result.hashes, indent=2, sort_keys=True) + "\n", 0o644)
    return result


def _record(result: RenderResult, path: Path, text: str, mode: int) -> None:
    (result.written if write_if_changed(path, text, mode=mode) else result.unchanged).append(path)
