"""What every services/ module shares: the context it is filled in from and the small helpers
that keep one service definition short (jobs, uwsgi commands, config files, endpoints)."""

from __future__ import annotations

from typing import TypedDict

from hotstack.catalog.model import ConfigFile, Endpoint, Job, Probe, ProbeKind, Service, Volume
from hotstack.catalog.node import Node
from hotstack.core.noderegistry import Entry as NodeEntry
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings, ip_in

# The service whose container runs every `sql` job (the mariadb client, root by unix socket).
DATABASE_SERVICE = "mariadb"


class Api(TypedDict):
    """A public API's fields: its Endpoint and the port it listens on (the frontend's, by choice)."""

    endpoint: Endpoint
    port: int


class Ctx:
    """The settings and paths a module builds its services from."""

    def __init__(self, s: Settings, p: Paths, nodes: tuple[NodeEntry, ...] = ()) -> None:
        self.s, self.p, self.nodes = s, p, nodes

    def ip(self, slot: int) -> str:
        return str(ip_in(self.s.network.container_cidr, slot))

    def data(self, name: str, target: str) -> Volume:
        return Volume(str(self.p.service_data(name)), target)

    def endpoint(self, stype: str, name: str, port: int, path: str = "") -> Endpoint:
        return Endpoint(stype, name, port, path, f"{name}.{self.s.network.domain}")

    def api(self, stype: str, name: str, port: int, path: str = "") -> Api:
        """An API haproxy fronts on `port` and that listens on the same port in its container."""
        return Api(endpoint=self.endpoint(stype, name, port, path), port=port)


def role_deps(node: Node, *deps: str, own: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A compute-role service's dependencies, in order: `own` ones (of its role) are the node's
    own services; the control plane's only on node one, which runs beside it (another node
    reaches the control plane, it does not start it)."""
    return tuple(node.service(d) if d in own else d for d in deps if d in own or node.is_first)


def sql(service: str) -> Job:
    return Job(f"{service}-database", "sql", in_service=DATABASE_SERVICE)


def run(name: str, *argv: str, env: tuple[tuple[str, str], ...] = ()) -> Job:
    return Job(name, "run", tuple(argv), env_secrets=env)


def keystone(service: str) -> Job:
    return Job(f"{service}-keystone", "keystone", ("service",))


def uwsgi(project: str, ini: str = "hotstack-uwsgi.ini") -> tuple[str, ...]:
    return ("uwsgi", "--ini", f"/etc/{project}/{ini}")


def conf(project: str, name: str, owner: str | None = None) -> ConfigFile:
    return ConfigFile(f"{project}/{name}", f"/etc/{project}/{name}", owner or project)


def api_deps(*more: str) -> tuple[str, ...]:
    """What every OpenStack API needs before it starts: its DB, the broker, tokens' cache, keystone."""
    return ("mariadb", "rabbitmq", "memcached", "keystone", *more)


def worker(name: str, project: str, slot: int, kind: ProbeKind, configs: tuple[ConfigFile, ...],
           api: str, needs: tuple[str, ...] = ()) -> Service:
    """A project's RPC worker, `<name> --config-file /etc/<project>/<project>.conf`, run as the
    project's user and healthy once its own service list shows it up. It needs the database
    and schema its project's `api` service makes (jobs), and the broker, not that API; `needs`:
    what else must answer before it starts."""
    return Service(name, project, (name, "--config-file", f"/etc/{project}/{project}.conf"),
                   Probe(kind, binary=name), depends_on=api_deps(*needs), after_jobs=(api,), slot=slot, user=project,
                   configs=configs)


def wsgi_api(c: Ctx, name: str, project: str, slot: int, api: Api, probe_path: str,
             depends_on: tuple[str, ...], configs: tuple[ConfigFile, ...], db_sync: tuple[str, ...],
             deadline_s: float = 90) -> Service:
    """A project's API under uwsgi with one database (created, then `db_sync`) and a keystone
    service user, both named like the project."""
    return Service(
        name, project, uwsgi(project), Probe("api", path=probe_path, deadline_s=deadline_s),
        depends_on=depends_on, slot=slot, user=project, configs=(*configs, conf(project, "hotstack-uwsgi.ini")),
        **api, database=(project,), keystone_user=project,
        jobs=(sql(project), run(f"{project}-db-sync", *db_sync), keystone(project)),
    )
