"""The catalog's model: services, their probes, endpoints, volumes, config files and jobs.

The compose file, haproxy.cfg, the DNS records, keystone's endpoints, the firewall ports, the
image build arguments and the status table are all derived from these objects (filled in by
`catalog.services`); nothing lists a service, a port or a uid twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Interface
from typing import Literal

from hotstack.catalog.node import Node, underlay_host
from hotstack.core.noderegistry import Entry as NodeEntry
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings, ip_in

ProbeKind = Literal[
    "tcp",  # a TCP connect
    "http",  # an HTTP GET answered with one of `statuses`
    "mysql",  # the MySQL protocol greeting
    "amqp",  # the AMQP 0-9-1 handshake (connection.start)
    "ovsdb",  # OVSDB JSON-RPC echo
    "exec",  # a command inside the container exits 0
    "token",  # keystone issues a token
    "api",  # an authenticated GET through haproxy answers 2xx
    "compute_service",  # `binary` is up in nova's service list (compute: mapped to the cell too)
    "network_agent",  # a neutron agent of `binary` is alive
    "volume_service",  # `binary` is up in cinder's service list
    "chassis",  # ovn-controller registered the chassis in the southbound DB
]
# Probes that connect to the service's own address and port: the builder fills `host` and
# `port` in from the service's slot and port, so neither is written twice.
NETWORK_KINDS: frozenset[str] = frozenset({"tcp", "http", "mysql", "amqp", "ovsdb"})
# Where every hotstack image is tagged: localhost/hotstack/<image>:<content hash>.
IMAGE_REPOSITORY = "localhost/hotstack"


@dataclass(frozen=True)
class Probe:
    kind: ProbeKind
    host: str = ""
    port: int = 0
    path: str = "/"
    statuses: tuple[int, ...] = (200,)
    command: tuple[str, ...] = ()
    binary: str = ""
    deadline_s: float = 90.0
    expect: str = ""  # http: text the body must contain; chassis: a word its exec part must print
    via: str = ""  # chassis: the service whose OVSDB holds the Chassis rows (ovn-sb-db)
    maps_cell: bool = False  # compute_service: the host must also be mapped to a cell
    node_host: str = ""  # compute_service: the nova host whose cell mapping it waits for


@dataclass(frozen=True)
class Endpoint:
    """A public API: haproxy frontend on brex_ip, a DNS name and a keystone catalog entry."""

    service_type: str  # keystone catalog type (identity, image, ...)
    catalog_name: str  # keystone catalog name (keystone, glance, ...)
    port: int  # frontend port on brex_ip and backend port in the container
    path: str = ""  # appended to the base URL in the catalog, e.g. /v3
    dns_name: str = ""

    def url(self, host: str) -> str:
        port = "" if self.port == 80 else f":{self.port}"
        return f"http://{host}{port}{self.path}"


@dataclass(frozen=True)
class HostPorts:
    """Ports on the host itself that a service's container connects to, so the host firewall
    must let the container network reach them (not published: nothing listens in a container)."""

    ports: tuple[int | tuple[int, int], ...]  # single ports or inclusive (first, last) ranges
    protos: tuple[str, ...] = ("tcp",)
    nfs_only: bool = False  # needed only when cinder's share is served by the kernel NFS server
    why: str = ""


@dataclass(frozen=True)
class Metrics:
    """Where Prometheus scrapes a service: `port` and `path` at its own address (its container's,
    or the host's for host-network ones). Prometheus's targets are these, nothing else."""

    port: int
    path: str = "/metrics"
    interval_s: int = 15


@dataclass(frozen=True)
class Volume:
    source: str  # absolute host path
    target: str
    read_only: bool = False
    propagation: str = ""  # e.g. "shared" for /run/netns

    def spec(self) -> str:
        opts = [o for o in ("ro" if self.read_only else "", self.propagation) if o]
        return f"{self.source}:{self.target}" + (f":{','.join(opts)}" if opts else "")


@dataclass(frozen=True)
class ConfigFile:
    template: str  # path under configs/, without the .j2 suffix (also its path under rendered/)
    target: str  # where the container sees it
    owner: str = "root"  # the file is chowned to this user's fixed uid (see USERS)
    mode: int = 0o640


@dataclass(frozen=True)
class Job:
    """A one-shot step. `kind` says where it runs:
    sql — fed on stdin to the mariadb client in the mariadb container;
    run — in a throwaway container of the service's image, with its configs and volumes;
    exec — inside the running service container;
    keystone — service user, role and endpoints made through the keystone API.
    Completed jobs are recorded per release so re-runs skip them.
    """

    name: str
    kind: Literal["sql", "run", "exec", "keystone"]
    argv: tuple[str, ...] = ()
    after_start: bool = False  # run once the service is healthy instead of before it starts
    in_service: str | None = None  # sql, exec: run in this service's container instead of the owner's
    env_secrets: tuple[tuple[str, str], ...] = ()  # (ENV_NAME, secret name): passed by environment


@dataclass(frozen=True)
class Service:
    name: str
    image: str
    command: tuple[str, ...]
    probe: Probe
    depends_on: tuple[str, ...] = ()
    # Services whose before-start jobs (database, schema, keystone entries) this one needs, but
    # not their process: it starts once those jobs are done (at once when they were done before).
    after_jobs: tuple[str, ...] = ()
    slot: int | None = None  # fixed address slot on the container network; None = host network
    port: int = 0  # where it listens inside its container (haproxy's backend, its probe, its clients)
    project: str = ""  # OpenStack project (DB user, config dir); set by its services/ module
    user: str | None = None
    privileged: bool = False
    pid_host: bool = False
    cpu_shares: int | None = None  # CPU weight against the others (podman's default 1024)
    volumes: tuple[Volume, ...] = ()
    configs: tuple[ConfigFile, ...] = ()
    endpoint: Endpoint | None = None
    publish: tuple[tuple[int, int, str], ...] = ()  # (host port on brex_ip, container port, proto)
    frontend: int | None = None  # a (further) haproxy frontend on brex_ip: one without an Endpoint
    publishes_frontends: bool = False  # haproxy: also publishes every frontend of the catalog
    # Container ports published on the control address for registered nodes only (RabbitMQ, the
    # southbound DB's TLS listener); the host firewall admits only the nodes' addresses to them.
    node_ports: tuple[int, ...] = ()
    host_ports: tuple[HostPorts, ...] = ()
    jobs: tuple[Job, ...] = ()
    database: tuple[str, ...] = ()  # databases this service owns (one DB user per service)
    db_privileges: tuple[str, ...] = ()  # global privileges of its DB user (ON *.*), e.g. PROCESS
    keystone_user: str | None = None
    secrets: tuple[str, ...] = ()  # more secrets its templates ask for (`secret(name)`)
    profile: str | None = None  # optional services are enabled by settings
    metrics: Metrics | None = None  # a Prometheus endpoint: a scrape target when monitoring is on
    env: tuple[tuple[str, str], ...] = ()
    prefix: str = "hotstack"  # the deployment's name (settings.name)
    network_mode: str = "host"  # a host-network service's network: the host's, or a pod node's

    @property
    def container(self) -> str:
        return f"{self.prefix}-{self.name}"

    @property
    def host_network(self) -> bool:
        return self.slot is None


# Fixed uids of the service users. The images create them with these ids: a Containerfile's
# `ARG UID_<USER>` is passed from here (images.refs.build_vars) and is part of the image hash.
USERS: dict[str, int] = {
    "root": 0, "keystone": 42401, "glance": 42402, "placement": 42403, "nova": 42404,
    "neutron": 42405, "cinder": 42406, "heat": 42407, "mysql": 42408, "rabbitmq": 42409,
    "memcache": 42410, "haproxy": 42411, "horizon": 42412, "prometheus": 42413,
}


@dataclass
class Catalog:
    settings: Settings
    paths: Paths
    services: dict[str, Service] = field(default_factory=dict)
    node: Node | None = None  # the node its compute role renders for (None: node one)
    nodes: tuple[NodeEntry, ...] = ()  # the nodes registered beside node one (core/noderegistry.py)

    def this_node(self) -> Node:
        return self.node or Node.first(self.settings)

    def __getitem__(self, name: str) -> Service:
        return self.services[name]

    def __iter__(self) -> Iterator[Service]:
        return iter(self.services.values())

    def ip(self, name: str) -> IPv4Address:
        """The container network address of a service (the host's own address for host-network ones)."""
        svc = self.services[name]
        if svc.slot is None:
            return self.settings.network.brex_ip
        return ip_in(self.settings.network.container_cidr, svc.slot)

    def port(self, name: str) -> int:
        """The port a service listens on inside its container."""
        port = self.services[name].port
        assert port, f"{name} listens on no fixed port"
        return port

    def address(self, name: str) -> str:
        """`ip:port` where the other containers reach a service."""
        return f"{self.ip(name)}:{self.port(name)}"

    @property
    def control_address(self) -> IPv4Address:
        """Where nodes reach the control plane: `nodes.control_address`, else brex_ip."""
        return self.settings.nodes.control_address or self.settings.network.brex_ip

    @property
    def api_address(self) -> IPv4Address:
        """Where the node this catalog renders for reaches haproxy's APIs: brex_ip on node one,
        the control address on any other node."""
        return self.settings.network.brex_ip if self.this_node().is_first else self.control_address

    def node_addresses(self) -> list[str]:
        return [e.address for e in self.nodes]

    @property
    def underlay_host(self) -> IPv4Interface:
        """The host's address on the pods' underlay (its first address; docs/nodes.md)."""
        return underlay_host(self.settings)

    @property
    def encap_ip(self) -> IPv4Address:
        """Node one's geneve endpoint: brex_ip, or its underlay address once a pod node exists
        (userspace OVS tunnels from an address on the bridge that leads to the peer)."""
        return self.underlay_host.ip if any(e.kind == "pod" for e in self.nodes) else self.settings.network.brex_ip

    @property
    def gateway(self) -> IPv4Address:
        return ip_in(self.settings.network.container_cidr, 1)

    def public_url(self, name: str) -> str:
        """The catalog URL of a service's API, through haproxy and its DNS name."""
        ep = self.services[name].endpoint
        assert ep is not None, f"{name} has no public endpoint"
        return ep.url(ep.dns_name)

    def endpoints(self) -> list[tuple[Service, Endpoint]]:
        return [(s, s.endpoint) for s in self.services.values() if s.endpoint]

    @property
    def identity(self) -> str:
        """The service that issues tokens (once it is up, credentials can be written)."""
        return next(s.name for s, ep in self.endpoints() if ep.service_type == "identity")

    @property
    def alerting(self) -> str | None:
        """The service that holds the firing alerts (Alertmanager), when monitoring is on."""
        return next((s.name for s, ep in self.endpoints() if ep.service_type == "alerting"), None)

    def frontends(self) -> list[tuple[Service, int]]:
        """Every haproxy frontend on brex_ip and the service behind it: the public APIs first,
        then further frontends (nova's metadata API, which has no keystone entry; the
        dashboard's own port beside its port-less name)."""
        return ([(s, ep.port) for s, ep in self.endpoints()]
                + [(s, s.frontend) for s in self.services.values() if s.frontend])

    def published(self, svc: Service) -> list[tuple[int, int, str]]:
        """(host port on brex_ip, container port, proto): for haproxy every frontend of the
        catalog first (it binds each inside its container on the same port), then its own."""
        frontends = [(port, port, "tcp") for _, port in self.frontends()] if svc.publishes_frontends else []
        return [*frontends, *svc.publish]

    def scrape_targets(self) -> list[tuple[Service, Metrics]]:
        """Every service with a Prometheus endpoint, in catalog order: Prometheus's jobs."""
        return [(s, s.metrics) for s in self.services.values() if s.metrics]

    def order(self) -> list[str]:
        """Names in dependency order (each after everything it depends on)."""
        done: list[str] = []
        seen: set[str] = set()

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if name in trail:
                raise ValueError(f"dependency cycle: {' -> '.join((*trail, name))}")
            if name in seen:
                return
            for dep in (*self.services[name].depends_on, *self.services[name].after_jobs):
                visit(dep, (*trail, name))
            seen.add(name)
            done.append(name)

        for name in self.services:
            visit(name, ())
        return done
