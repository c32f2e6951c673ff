"""The definitions behind the catalog, one small function per group of services."""

from __future__ import annotations

import dataclasses
import hashlib

from hotstack.catalog.model import ConfigFile, Endpoint, Job, Probe, Service, Volume
from hotstack.core.hostfacts import resolved
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings, ip_in


class _Ctx:
    def __init__(self, s: Settings, p: Paths) -> None:
        self.s, self.p = s, p

    def ip(self, slot: int) -> str:
        return str(ip_in(self.s.network.container_cidr, slot))

    def data(self, name: str, target: str) -> Volume:
        return Volume(str(self.p.service_data(name)), target)

    def endpoint(self, stype: str, name: str, port: int, path: str = "") -> Endpoint:
        return Endpoint(stype, name, port, path, f"{name}.{self.s.network.domain}")


def nfs_share(s: Settings, p: Paths) -> str:
    """The share string cinder's NFS driver is given (in local mode it is never really mounted)."""
    return f"{s.network.brex_ip}:{p.cinder_nfs}"


def nfs_mount_dir(s: Settings, p: Paths) -> str:
    """Where os-brick expects the share: <mount base>/<md5 of the share string>."""
    return f"{p.nova_mnt}/{hashlib.md5(nfs_share(s, p).encode()).hexdigest()}"


def _sql(service: str) -> Job:
    return Job(f"{service}-database", "sql")


def _run(name: str, *argv: str, env: tuple[tuple[str, str], ...] = ()) -> Job:
    return Job(name, "run", tuple(argv), env_secrets=env)


def _keystone(service: str) -> Job:
    return Job(f"{service}-keystone", "keystone", ("service",))


def _uwsgi(project: str) -> tuple[str, ...]:
    return ("uwsgi", "--ini", f"/etc/{project}/hotstack-uwsgi.ini")


def _conf(project: str, name: str, owner: str | None = None) -> ConfigFile:
    return ConfigFile(f"{project}/{name}", f"/etc/{project}/{name}", owner or project)


def infra(c: _Ctx) -> list[Service]:
    s = c.s
    return [
        Service(
            "mariadb", "infra", ("/usr/local/bin/hotstack-start",),
            Probe("mysql", c.ip(10), 3306, deadline_s=60), slot=10,
            volumes=(c.data("mysql", "/var/lib/mysql"),),
            configs=(
                ConfigFile("mariadb/hotstack.cnf", "/etc/mysql/mariadb.conf.d/99-hotstack.cnf", "mysql", 0o644),
                ConfigFile("mariadb/start.sh", "/usr/local/bin/hotstack-start", "root", 0o755),
            ),
        ),
        Service(
            # The real server script: Debian's /usr/sbin/rabbitmq-server wrapper sends the log to
            # /var/log/rabbitmq/startup_log when run as the rabbitmq user, hiding it from `podman logs`.
            "rabbitmq", "infra", ("/usr/lib/rabbitmq/bin/rabbitmq-server",),
            Probe("amqp", c.ip(11), 5672, deadline_s=90), slot=11, user="rabbitmq",
            volumes=(c.data("rabbitmq", "/var/lib/rabbitmq"),),
            configs=(ConfigFile("rabbitmq/rabbitmq.conf", "/etc/rabbitmq/rabbitmq.conf", "rabbitmq"),),
            env=(("RABBITMQ_NODENAME", "rabbit@localhost"), ("HOME", "/var/lib/rabbitmq")),
        ),
        Service(
            "memcached", "infra",
            ("memcached", "-u", "memcache", "-m", "128", "-l", "0.0.0.0", "-p", "11211"),
            Probe("tcp", c.ip(12), 11211, deadline_s=30), slot=12,
        ),
        Service(
            "dnsmasq", "infra", ("dnsmasq", "--keep-in-foreground", "--conf-file=/etc/hotstack/dnsmasq.conf"),
            Probe("tcp", c.ip(13), 53, deadline_s=30), slot=13,
            configs=(ConfigFile("dnsmasq/dnsmasq.conf", "/etc/hotstack/dnsmasq.conf", "root", 0o644),),
            publish=((s.ports.dns, 53, "udp"), (s.ports.dns, 53, "tcp")),
        ),
        Service(
            "haproxy", "infra", ("haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"),
            Probe("http", c.ip(14), s.ports.haproxy_stats, "/stats", deadline_s=30), slot=14,
            configs=(ConfigFile("haproxy/haproxy.cfg", "/etc/haproxy/haproxy.cfg", "root", 0o644),),
            # Every public frontend: derived from the catalog when the compose file is rendered.
            publish=(),
        ),
    ]


def ovn(c: _Ctx) -> list[Service]:
    s = c.s
    ovn_vol = c.data("ovn", "/var/lib/ovn")

    def db(name: str, slot: int, port: int, kind: str) -> Service:
        dbfile = f"/var/lib/ovn/ovn{kind}_db.db"
        schema = f"/usr/share/ovn/ovn-{kind}.ovsschema"
        script = (f"mkdir -p /run/ovn; test -s {dbfile} || ovsdb-tool create {dbfile} {schema}; "
                  f"ovsdb-tool needs-conversion {dbfile} {schema} | grep -q yes && "
                  f"ovsdb-tool convert {dbfile} {schema}; "
                  f"exec ovsdb-server --remote=ptcp:{port}:0.0.0.0 --remote=punix:/run/ovn/ovn{kind}_db.sock "
                  f"--unixctl=/run/ovn/ovn{kind}_db.ctl {dbfile}")
        return Service(name, "ovn", ("sh", "-c", script), Probe("ovsdb", c.ip(slot), port, deadline_s=30),
                       slot=slot, volumes=(ovn_vol,))

    nb, sb = f"tcp:{c.ip(15)}:6641", f"tcp:{c.ip(16)}:6642"
    return [
        db("ovn-nb-db", 15, 6641, "nb"),
        db("ovn-sb-db", 16, 6642, "sb"),
        Service(
            "ovn-northd", "ovn",
            ("ovn-northd", f"--ovnnb-db={nb}", f"--ovnsb-db={sb}", "--unixctl=/run/ovn/ovn-northd.ctl"),
            Probe("exec", command=("ovn-appctl", "-t", "/run/ovn/ovn-northd.ctl", "status"), deadline_s=30),
            depends_on=("ovn-nb-db", "ovn-sb-db"), slot=17,
        ),
        Service(
            "ovn-controller", "ovn",
            ("sh", "-c", "mkdir -p /run/ovn && exec ovn-controller --unixctl=/run/ovn/ovn-controller.ctl "
                         "unix:/run/openvswitch/db.sock"),
            Probe("chassis", binary=s.nova.host, deadline_s=60),
            # ovn-controller 25.03 segfaults on restart while the southbound DB has a chassis but
            # northd has not filled it in yet: start it only once northd runs.
            depends_on=("ovn-northd",), privileged=True,
            volumes=(Volume("/run/openvswitch", "/run/openvswitch"), c.data("ovn-controller", "/var/lib/ovn")),
        ),
    ]


def keystone(c: _Ctx) -> list[Service]:
    s = c.s
    keys = (c.data("keystone/fernet-keys", "/etc/keystone/fernet-keys"),
            c.data("keystone/credential-keys", "/etc/keystone/credential-keys"))
    admin_url = f"http://{s.network.brex_ip}:{s.ports.keystone}/v3"
    owner = ("--keystone-user", "keystone", "--keystone-group", "keystone")
    return [Service(
        "keystone", "keystone", _uwsgi("keystone"),
        Probe("token", deadline_s=120), depends_on=("mariadb", "memcached", "haproxy"), slot=20, user="keystone",
        volumes=keys, configs=(_conf("keystone", "keystone.conf"), _conf("keystone", "hotstack-uwsgi.ini")),
        endpoint=c.endpoint("identity", "keystone", s.ports.keystone, "/v3"), database=("keystone",),
        jobs=(
            _sql("keystone"),
            _run("keystone-db-sync", "keystone-manage", "db_sync"),
            _run("keystone-fernet", "keystone-manage", "fernet_setup", *owner),
            _run("keystone-credential", "keystone-manage", "credential_setup", *owner),
            _run("keystone-bootstrap", "keystone-manage", "bootstrap", "--bootstrap-username", "admin",
                 "--bootstrap-project-name", "admin", "--bootstrap-role-name", "admin",
                 "--bootstrap-service-name", "keystone", "--bootstrap-region-id", s.region,
                 "--bootstrap-admin-url", admin_url, "--bootstrap-internal-url", admin_url,
                 "--bootstrap-public-url", admin_url,
                 env=(("OS_BOOTSTRAP_PASSWORD", "admin_password"),)),
            Job("keystone-endpoints", "keystone", ("service",), after_start=True),
        ),
    )]


def _api_deps(*more: str) -> tuple[str, ...]:
    return ("mariadb", "rabbitmq", "memcached", "keystone", *more)


def image_and_placement(c: _Ctx) -> list[Service]:
    s = c.s
    return [
        Service(
            "glance", "glance", _uwsgi("glance"), Probe("api", deadline_s=90),
            depends_on=("mariadb", "memcached", "keystone"), slot=21, user="glance",
            volumes=(c.data("glance/images", "/var/lib/glance/images"),),
            configs=(_conf("glance", "glance-api.conf"), _conf("glance", "hotstack-uwsgi.ini")),
            endpoint=c.endpoint("image", "glance", s.ports.glance), database=("glance",), keystone_user="glance",
            jobs=(_sql("glance"), _run("glance-db-sync", "glance-manage", "db_sync"), _keystone("glance")),
        ),
        Service(
            "placement", "placement", _uwsgi("placement"), Probe("api", deadline_s=90),
            depends_on=("mariadb", "memcached", "keystone"), slot=22, user="placement",
            configs=(_conf("placement", "placement.conf"), _conf("placement", "hotstack-uwsgi.ini")),
            endpoint=c.endpoint("placement", "placement", s.ports.placement), database=("placement",),
            keystone_user="placement",
            jobs=(_sql("placement"), _run("placement-db-sync", "placement-manage", "db", "sync"),
                  _keystone("placement")),
        ),
    ]


def nova(c: _Ctx) -> list[Service]:
    s, p = c.s, c.p
    conf = (_conf("nova", "nova.conf"),)
    cmd = ("--config-file", "/etc/nova/nova.conf")
    cells = ("sh", "-c", "nova-manage cell_v2 list_cells | grep -q ' cell1 ' || "
                         "nova-manage cell_v2 create_cell --name cell1 --verbose")
    compute_vols: tuple[Volume, ...] = (
        Volume("/run/libvirt", "/run/libvirt"), Volume("/run/openvswitch", "/run/openvswitch"),
        Volume("/dev/pts", "/dev/pts"), Volume("/lib/modules", "/lib/modules", read_only=True),
        Volume(str(p.nova_instances), str(p.nova_instances)),
        c.data("nova", "/var/lib/nova"),
    )
    compute_confs: tuple[ConfigFile, ...] = conf
    if resolved(s, p)["nfs_mode"] == "local":
        # nova mounts a volume's share on attach and unmounts it on detach; with no kernel NFS,
        # its `mount -t nfs` reaches a helper that bind-mounts the export directory instead.
        compute_vols += (Volume(str(p.cinder_nfs), str(p.cinder_nfs)),)
        compute_confs += (ConfigFile("nova/mount.nfs", "/sbin/mount.nfs", "root", 0o755),)
    return [
        Service(
            "nova-api", "nova", _uwsgi("nova"), Probe("api", deadline_s=120),
            depends_on=_api_deps("placement", "glance"), slot=23, user="nova",
            configs=(*conf, _conf("nova", "hotstack-uwsgi.ini")),
            endpoint=c.endpoint("compute", "nova", s.ports.nova, "/v2.1"),
            database=("nova_api", "nova", "nova_cell0"), keystone_user="nova",
            jobs=(_sql("nova"), _run("nova-api-db-sync", "nova-manage", "api_db", "sync"),
                  _run("nova-cell0", "nova-manage", "cell_v2", "map_cell0"),
                  _run("nova-cell1", *cells), _run("nova-db-sync", "nova-manage", "db", "sync"),
                  _keystone("nova")),
        ),
        Service(
            "nova-metadata", "nova", ("uwsgi", "--ini", "/etc/nova/hotstack-uwsgi-metadata.ini"),
            Probe("http", c.ip(24), 8775, "/", deadline_s=60), depends_on=("nova-api",), slot=24, user="nova",
            configs=(*conf, _conf("nova", "hotstack-uwsgi-metadata.ini")),
        ),
        Service(
            "nova-conductor", "nova", ("nova-conductor", *cmd),
            Probe("compute_service", binary="nova-conductor"), depends_on=("nova-api",), slot=25, user="nova",
            configs=conf,
        ),
        Service(
            "nova-scheduler", "nova", ("nova-scheduler", *cmd),
            Probe("compute_service", binary="nova-scheduler"), depends_on=("nova-api",), slot=26, user="nova",
            configs=conf,
        ),
        Service(
            "nova-novncproxy", "nova", ("nova-novncproxy", *cmd, "--web", "/usr/share/novnc"),
            Probe("tcp", c.ip(27), s.ports.novnc, deadline_s=60), depends_on=("nova-api",), slot=27, user="nova",
            configs=conf, endpoint=c.endpoint("novnc", "novnc", s.ports.novnc),
        ),
        Service(
            "nova-compute", "nova-compute", ("nova-compute", *cmd),
            Probe("compute_service", binary="nova-compute", deadline_s=240),
            depends_on=("nova-conductor", "neutron-ovn-metadata-agent", "ovn-controller"),
            privileged=True, volumes=compute_vols, configs=compute_confs,
            # nova-manage needs nova.conf's database settings: it runs in nova-conductor.
            jobs=(Job("nova-discover-hosts", "exec", ("nova-manage", "cell_v2", "discover_hosts", "--verbose"),
                      after_start=True, in_service="nova-conductor"),),
        ),
    ]


def neutron(c: _Ctx) -> list[Service]:
    s = c.s
    confs = (_conf("neutron", "neutron.conf"), _conf("neutron", "ml2_conf.ini"))
    return [
        Service(
            # Since 2025.1 the API is WSGI-only; uwsgi also supervises the periodic and OVN
            # maintenance workers (attach-daemon in the ini) so they share one container.
            "neutron-server", "neutron", _uwsgi("neutron"),
            Probe("api", deadline_s=120), depends_on=_api_deps("ovn-nb-db", "ovn-sb-db", "placement"), slot=28,
            user="neutron", configs=(*confs, _conf("neutron", "hotstack-uwsgi.ini")),
            env=(("OS_NEUTRON_CONFIG_DIR", "/etc/neutron"), ("OS_NEUTRON_CONFIG_FILES", "neutron.conf;ml2_conf.ini")),
            endpoint=c.endpoint("network", "neutron", s.ports.neutron),
            database=("neutron",), keystone_user="neutron",
            jobs=(_sql("neutron"),
                  _run("neutron-db-sync", "neutron-db-manage", "--config-file", "/etc/neutron/neutron.conf",
                       "--config-file", "/etc/neutron/ml2_conf.ini", "upgrade", "heads"),
                  _keystone("neutron")),
        ),
        Service(
            "neutron-ovn-metadata-agent", "neutron",
            ("neutron-ovn-metadata-agent", "--config-file", "/etc/neutron/neutron.conf",
             "--config-file", "/etc/neutron/neutron_ovn_metadata_agent.ini"),
            Probe("network_agent", binary="neutron-ovn-metadata-agent", deadline_s=120),
            depends_on=("neutron-server", "ovn-controller", "nova-metadata"), privileged=True, pid_host=True,
            volumes=(Volume("/run/openvswitch", "/run/openvswitch"),
                     Volume("/run/netns", "/run/netns", propagation="shared"),
                     c.data("neutron", "/var/lib/neutron")),
            configs=(confs[0], _conf("neutron", "neutron_ovn_metadata_agent.ini")),
        ),
    ]


def cinder(c: _Ctx) -> list[Service]:
    s, p = c.s, c.p
    conf = (_conf("cinder", "cinder.conf"),)
    cmd = ("--config-file", "/etc/cinder/cinder.conf")
    return [
        Service(
            "cinder-api", "cinder", _uwsgi("cinder"), Probe("api", deadline_s=90),
            depends_on=_api_deps(), slot=29, user="cinder",
            configs=(*conf, _conf("cinder", "hotstack-uwsgi.ini")),
            endpoint=c.endpoint("volumev3", "cinderv3", s.ports.cinder, "/v3/%(project_id)s"),
            database=("cinder",), keystone_user="cinder",
            jobs=(_sql("cinder"), _run("cinder-db-sync", "cinder-manage", "db", "sync"), _keystone("cinder")),
        ),
        Service(
            "cinder-scheduler", "cinder", ("cinder-scheduler", *cmd),
            Probe("volume_service", binary="cinder-scheduler"), depends_on=("cinder-api",), slot=30, user="cinder",
            configs=conf,
        ),
        Service(
            "cinder-volume", "cinder", ("cinder-volume", *cmd),
            Probe("volume_service", binary="cinder-volume"), depends_on=("cinder-api",), slot=31, privileged=True,
            volumes=(c.data("cinder", "/var/lib/cinder"), Volume(str(p.cinder_nfs), nfs_mount_dir(s, p))),
            configs=(*conf, _conf("cinder", "nfs_shares")),
        ),
    ]


def heat(c: _Ctx) -> list[Service]:
    s = c.s
    conf = (_conf("heat", "heat.conf"),)
    return [
        Service(
            "heat-api", "heat", _uwsgi("heat"), Probe("api", deadline_s=90),
            depends_on=_api_deps(), slot=32, user="heat",
            configs=(*conf, _conf("heat", "hotstack-uwsgi.ini")),
            endpoint=c.endpoint("orchestration", "heat", s.ports.heat, "/v1/%(project_id)s"),
            database=("heat",), keystone_user="heat",
            jobs=(_sql("heat"), _run("heat-db-sync", "heat-manage", "db_sync"), _keystone("heat"),
                  Job("heat-stack-domain", "keystone", ("stack-domain",))),
        ),
        Service(
            # Servers in stacks get their metadata (and wait conditions their signals) here.
            "heat-api-cfn", "heat", ("uwsgi", "--ini", "/etc/heat/hotstack-uwsgi-cfn.ini"),
            Probe("http", c.ip(35), s.ports.heat_cfn, "/", statuses=(200, 300), deadline_s=90),
            depends_on=("heat-api",), slot=35, user="heat",
            configs=(*conf, _conf("heat", "hotstack-uwsgi-cfn.ini")),
            endpoint=c.endpoint("cloudformation", "heat-cfn", s.ports.heat_cfn, "/v1"), keystone_user="heat",
            jobs=(Job("heat-api-cfn-keystone", "keystone", ("service",)),),
        ),
        Service(
            "heat-engine", "heat", ("heat-engine", "--config-file", "/etc/heat/heat.conf"),
            Probe("exec", command=("sh", "-c", "pgrep -f heat-engine >/dev/null"), deadline_s=60),
            depends_on=("heat-api",), slot=33, user="heat", configs=conf,
        ),
    ]


def horizon(c: _Ctx) -> list[Service]:
    s = c.s
    return [Service(
        "horizon", "horizon", ("apache2ctl", "-D", "FOREGROUND"),
        Probe("http", c.ip(34), 80, "/", statuses=(200, 302), deadline_s=90),
        depends_on=("keystone", "memcached"), slot=34,
        configs=(ConfigFile("horizon/local_settings.py", "/etc/openstack-dashboard/local_settings.py", "root", 0o644),),
        endpoint=c.endpoint("dashboard", "horizon", s.ports.horizon), profile="horizon",
    )]


def all_services(s: Settings, p: Paths) -> list[Service]:
    c = _Ctx(s, p)
    defined = [*infra(c), *ovn(c), *keystone(c), *image_and_placement(c), *nova(c), *neutron(c),
               *cinder(c), *heat(c), *horizon(c)]
    return [dataclasses.replace(svc, prefix=s.name) for svc in defined]
