"""Infrastructure every OpenStack service leans on: MariaDB, RabbitMQ, memcached, dnsmasq
(the public names) and haproxy (every public API, plus nova's metadata API)."""

from __future__ import annotations

from hotstack.catalog.model import ConfigFile, Metrics, Probe, Service
from hotstack.catalog.services.common import Ctx

PROJECT = None  # each infra service is its own project (config dir configs/<service>/)
# The daemons' own ports inside their containers: nothing outside the container network uses them.
MYSQL_PORT = 3306
AMQP_PORT = 5672
MEMCACHED_PORT = 11211
DNS_PORT = 53  # podman publishes it on brex_ip at ports.dns
RABBITMQ_METRICS_PORT = 15692  # the rabbitmq_prometheus plugin's, enabled with monitoring


def services(c: Ctx) -> list[Service]:
    s = c.s
    stats = s.ports.haproxy_stats
    monitored = s.monitoring.enabled
    rabbitmq_configs = tuple(ConfigFile(f"rabbitmq/{name}", f"/etc/rabbitmq/{name}", "rabbitmq")
                             for name in ("rabbitmq.conf", *(("enabled_plugins",) if monitored else ())))
    return [
        Service(
            "mariadb", "infra", ("/usr/local/bin/hotstack-start",),
            Probe("mysql", deadline_s=60), slot=10, port=MYSQL_PORT,
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
            Probe("amqp", deadline_s=90), slot=11, port=AMQP_PORT, user="rabbitmq",
            volumes=(c.data("rabbitmq", "/var/lib/rabbitmq"),),
            configs=rabbitmq_configs, metrics=Metrics(RABBITMQ_METRICS_PORT) if monitored else None,
            # nodes log in as a user of their own (made as each node is admitted: nodes/admit.py)
            node_ports=(AMQP_PORT,) if c.nodes else (),
            env=(("RABBITMQ_NODENAME", "rabbit@localhost"), ("HOME", "/var/lib/rabbitmq")),
        ),
        Service(
            "memcached", "infra",
            # On its container address only, like every service on the container network.
            ("memcached", "-u", "memcache", "-m", "128", "-l", c.ip(12), "-p", str(MEMCACHED_PORT)),
            Probe("tcp", deadline_s=30), slot=12, port=MEMCACHED_PORT,
        ),
        Service(
            "dnsmasq", "infra", ("dnsmasq", "--keep-in-foreground", "--conf-file=/etc/hotstack/dnsmasq.conf"),
            Probe("tcp", deadline_s=30), slot=13, port=DNS_PORT,
            configs=(ConfigFile("dnsmasq/dnsmasq.conf", "/etc/hotstack/dnsmasq.conf", "root", 0o644),),
            publish=((s.ports.dns, DNS_PORT, "udp"), (s.ports.dns, DNS_PORT, "tcp")),
        ),
        Service(
            # Its own port is the stats page (behind a password; its probe asks /healthz, the
            # monitor URI that needs none); every catalog frontend is published too.
            "haproxy", "infra", ("haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"),
            Probe("http", path="/healthz", deadline_s=30), slot=14, port=stats,
            configs=(ConfigFile("haproxy/haproxy.cfg", "/etc/haproxy/haproxy.cfg", "root", 0o644),),
            publish=((stats, stats, "tcp"),), publishes_frontends=True,
            # haproxy's built-in exporter on the stats frontend (no password, like /healthz).
            metrics=Metrics(stats) if monitored else None,
        ),
    ]
