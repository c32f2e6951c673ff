"""The podman-compose service definitions, derived from the catalog."""

from __future__ import annotations

import json
import shlex
from ipaddress import IPv4Address
from typing import Any

from hotstack.catalog import Catalog, Probe, Service
from hotstack.containers.labels import HASH_LABEL, SERVICE_LABEL
from hotstack.core.fsutil import sha256


def healthcheck(svc: Service, host: str) -> dict[str, Any]:
    """A shallow in-container check so the compose file stands on its own; hotstack's own
    probes (deeper: tokens, service lists) gate the start order. `host`: where the service
    listens (its container address: services bind there, not on every address)."""
    return {"test": ["CMD-SHELL", _health_command(svc, host)], "interval": "10s", "timeout": "5s",
            "retries": 30, "start_period": f"{int(svc.probe.deadline_s)}s"}


def _health_command(svc: Service, host: str) -> str:
    probe: Probe = svc.probe
    if probe.kind == "exec":
        return shlex.join(probe.command)
    if port := probe.port or svc.port:
        return f"bash -c '</dev/tcp/{host}/{port}'"
    # The rest run one long-lived program named like the service (ovn-controller, nova-conductor, ...).
    return f"pgrep -f {shlex.quote(svc.name)} >/dev/null"


def mac_for(ip: IPv4Address) -> str:
    """A fixed, locally administered MAC per address: a recreated container keeps its MAC, so
    haproxy and its peers do not send to a stale neighbour entry for ~40 s after a restart."""
    return "02:00:" + ":".join(f"{octet:02x}" for octet in ip.packed)


def extra_hosts(cat: Catalog) -> list[str]:
    """Every public DNS name points at haproxy on brex_ip, inside every container (on a node
    other than node one: at the control address, where it reaches haproxy)."""
    return [f"{ep.dns_name}:{cat.api_address}" for _, ep in cat.endpoints()]


def published(cat: Catalog, svc: Service) -> list[str]:
    brex = cat.settings.network.brex_ip
    return ([f"{brex}:{host}:{inner}/{proto}" for host, inner, proto in cat.published(svc)]
            # a service on the host network listens on its node address itself
            + [f"{cat.control_address}:{port}:{port}/tcp" for port in svc.node_ports if not svc.host_network])


def service_definition(cat: Catalog, svc: Service, image: str, config_digest: str) -> dict[str, Any]:
    """One compose service; its config-hash label covers this definition and its rendered files."""
    rendered = cat.paths.rendered
    d: dict[str, Any] = {
        "image": image,
        "container_name": svc.container,
        "command": list(svc.command),
        "restart": "no",
        # No ulimits: podman-compose's podman calls take them (and the runtime) from hotstack's
        # containers.conf (containers/runtime.py), so one policy decides them for every container.
        "volumes": [*(f"{rendered}/{cf.template}:{cf.target}:ro" for cf in svc.configs),
                    *(v.spec() for v in svc.volumes)],
        "extra_hosts": extra_hosts(cat),
        # Host-network services keep loopback, where what they serve (if anything) also listens.
        "healthcheck": healthcheck(svc, "127.0.0.1" if svc.host_network else str(cat.ip(svc.name))),
    }
    if svc.host_network:
        d["network_mode"] = svc.network_mode
        node = cat.this_node()
        if node.in_netns and svc.network_mode == node.network:
            # A pod node's name, resolvable: sudo resolves the hostname for every privsep
            # helper and waits 20 s on the pod's unreachable DNS for a container id.
            d["hostname"] = node.name
            d["extra_hosts"] = [*d["extra_hosts"], f"{node.name}:{node.address}"]
    else:
        ip = cat.ip(svc.name)
        d["networks"] = {cat.settings.network.podman_network: {"ipv4_address": str(ip), "mac_address": mac_for(ip)}}
        d["hostname"] = svc.name
    if svc.user:
        d["user"] = svc.user
    if svc.privileged:
        d["privileged"] = True
    if svc.pid_host:
        d["pid"] = "host"
    if svc.cpu_shares is not None:
        d["cpu_shares"] = svc.cpu_shares
    if svc.env:
        d["environment"] = dict(svc.env)
    if ports := published(cat, svc):
        d["ports"] = ports
    if deps := (*svc.depends_on, *svc.after_jobs):
        # plain podman-compose runs no jobs: there, starting after the jobs' owner stands for them
        d["depends_on"] = {dep: {"condition": "service_healthy"} for dep in deps}
    if svc.profile:
        d["profiles"] = [svc.profile]
    digest = sha256(json.dumps(d, sort_keys=True) + config_digest)[:16]
    d["labels"] = {SERVICE_LABEL: svc.name, HASH_LABEL: digest}
    return d


def network_definition(cat: Catalog) -> dict[str, Any]:
    net = cat.settings.network
    return {net.podman_network: {
        "name": net.podman_network,
        "driver": "bridge",
        "ipam": {"config": [{"subnet": str(net.container_cidr), "gateway": str(cat.gateway)}]},
        "driver_opts": {"mtu": str(net.mtu)},
    }}
