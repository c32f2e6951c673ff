"""The service catalog: the only list of services hotstack knows.

The compose file, haproxy.cfg, the DNS records, keystone's endpoints, the firewall ports and
the status table are all derived from `services(settings, paths)`; nothing lists services twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from typing import Literal

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


@dataclass(frozen=True)
class Endpoint:
    """A public API: haproxy frontend on brex_ip, a DNS name and a keystone catalog entry."""

    service_type: str  # keystone catalog type (identity, image, ...)
    catalog_name: str  # keystone catalog name (keystone, glance, ...)
    port: int  # frontend port on brex_ip and backend port in the container
    path: str = ""  # appended to the base URL in the catalog, e.g. /v3
    dns_name: str = ""

    def url(self, host: str) -> str:
        return f"http://{host}:{self.port}{self.path}"


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
    in_service: str | None = None  # exec: run in this service's container instead of the owner's
    env_secrets: tuple[tuple[str, str], ...] = ()  # (ENV_NAME, secret name): passed by environment


@dataclass(frozen=True)
class Service:
    name: str
    image: str
    command: tuple[str, ...]
    probe: Probe
    depends_on: tuple[str, ...] = ()
    slot: int | None = None  # fixed address slot on the container network; None = host network
    user: str | None = None
    privileged: bool = False
    pid_host: bool = False
    volumes: tuple[Volume, ...] = ()
    configs: tuple[ConfigFile, ...] = ()
    endpoint: Endpoint | None = None
    publish: tuple[tuple[int, int, str], ...] = ()  # (host port on brex_ip, container port, proto)
    jobs: tuple[Job, ...] = ()
    database: tuple[str, ...] = ()  # databases this service owns (one DB user per service)
    keystone_user: str | None = None
    profile: str | None = None  # optional services are enabled by settings
    env: tuple[tuple[str, str], ...] = ()
    prefix: str = "hotstack"  # the deployment's name (settings.name)

    @property
    def container(self) -> str:
        return f"{self.prefix}-{self.name}"

    @property
    def host_network(self) -> bool:
        return self.slot is None


# Fixed uids of the service users; the images create them with these ids (compose/images).
USERS: dict[str, int] = {
    "root": 0, "keystone": 42401, "glance": 42402, "placement": 42403, "nova": 42404,
    "neutron": 42405, "cinder": 42406, "heat": 42407, "mysql": 42408, "rabbitmq": 42409,
    "memcache": 42410, "haproxy": 42411,
}


@dataclass
class Catalog:
    settings: Settings
    paths: Paths
    services: dict[str, Service] = field(default_factory=dict)

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

    def order(self) -> list[str]:
        """Names in dependency order (each after everything it depends on)."""
        done: list[str] = []
        seen: set[str] = set()

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if name in trail:
                raise ValueError(f"dependency cycle: {' -> '.join((*trail, name))}")
            if name in seen:
                return
            for dep in self.services[name].depends_on:
                visit(dep, (*trail, name))
            seen.add(name)
            done.append(name)

        for name in self.services:
            visit(name, ())
        return done
