"""Monitoring (`monitoring.enabled`): Prometheus and Alertmanager behind haproxy, the exporters
they scrape (the host, MariaDB, libvirt) and hotstack's own (health, containers, the cloud's
usage). Every scrape target is a `Service.metrics` of the catalog (`Catalog.scrape_targets`),
so haproxy's and RabbitMQ's built-in endpoints are declared in infra.py."""

from __future__ import annotations

from typing import Any

from hotstack.catalog.model import ConfigFile, Metrics, Probe, Service, Volume
from hotstack.catalog.services.common import Ctx, keystone, sql

PROJECT = "monitoring"  # the DB user of the mysqld exporter, the keystone user of hotstack's exporter
PROFILE = "monitoring"
IMAGE = "monitoring"
# The programs' own ports in their containers (haproxy publishes Prometheus and Alertmanager).
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
NODE_PORT = 9100
MYSQLD_PORT = 9104
LIBVIRT_PORT = 9177
EXPORTER_PORT = 9180
ETC = "/etc/prometheus"
# Where hotstack's exporter sees the host's cgroups and the container ids `up` records.
HOST_CGROUPS = "/host/sys/fs/cgroup"
IDS_DIR = "/run/hotstack-ids"


def _cfg(name: str, mode: int = 0o640) -> ConfigFile:
    return ConfigFile(f"monitoring/{name}", f"{ETC}/{name}", "prometheus", mode)


def _exporter(name: str, command: tuple[str, ...], slot: int, port: int, interval_s: int = 15,
              **more: Any) -> Service:
    """An exporter: the monitoring image as the prometheus user, healthy when its port answers,
    scraped at its own address; nothing waits for it, so it yields the CPU on a busy start."""
    more.setdefault("user", "prometheus")
    return Service(name, IMAGE, command, Probe("tcp", deadline_s=30), slot=slot, port=port,
                   metrics=Metrics(port, interval_s=interval_s), profile=PROFILE, cpu_shares=256, **more)


def services(c: Ctx) -> list[Service]:
    s, p = c.s, c.p
    domain = s.network.domain

    def listen(slot: int, port: int) -> str:
        return f"--web.listen-address={c.ip(slot)}:{port}"

    prometheus_url = f"http://prometheus.{domain}:{s.ports.prometheus}/"
    return [
        Service(
            "prometheus", IMAGE,
            ("prometheus", f"--config.file={ETC}/prometheus.yml", "--storage.tsdb.path=/var/lib/prometheus",
             "--storage.tsdb.retention.time=7d", "--storage.tsdb.retention.size=1GB", listen(40, PROMETHEUS_PORT),
             f"--web.external-url={prometheus_url}", f"--web.console.templates={ETC}/consoles",
             f"--web.console.libraries={ETC}/consoles"),
            Probe("http", path="/-/ready", deadline_s=60), slot=40, port=PROMETHEUS_PORT, user="prometheus",
            volumes=(c.data("prometheus", "/var/lib/prometheus"),),
            configs=(_cfg("prometheus.yml"), _cfg("alerts.yml"), _cfg("recording.yml"),
                     _cfg("consoles/hotstack.html", 0o644)),
            endpoint=c.endpoint("monitoring", "prometheus", s.ports.prometheus),
            metrics=Metrics(PROMETHEUS_PORT), profile=PROFILE, cpu_shares=256,
        ),
        Service(
            "alertmanager", IMAGE,
            ("prometheus-alertmanager", f"--config.file={ETC}/alertmanager.yml",
             "--storage.path=/var/lib/alertmanager", listen(41, ALERTMANAGER_PORT),
             # One instance: no cluster port (it would listen on every address).
             "--cluster.listen-address=", f"--web.external-url=http://alertmanager.{domain}:{s.ports.alertmanager}/"),
            Probe("http", path="/-/ready", deadline_s=60), slot=41, port=ALERTMANAGER_PORT, user="prometheus",
            volumes=(c.data("alertmanager", "/var/lib/alertmanager"),), configs=(_cfg("alertmanager.yml"),),
            endpoint=c.endpoint("alerting", "alertmanager", s.ports.alertmanager),
            metrics=Metrics(ALERTMANAGER_PORT), profile=PROFILE, cpu_shares=256,
        ),
        # /proc and /sys in a container are the host's (memory, CPU, load); data_dir mounted at
        # its own path gives its filesystem's size and use. Network devices are the container's.
        _exporter("node-exporter", ("prometheus-node-exporter", listen(42, NODE_PORT),
                                    "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|etc)($|/)"),
                  42, NODE_PORT, volumes=(Volume(str(p.data_dir), str(p.data_dir), read_only=True),)),
        _exporter("mysqld-exporter", ("prometheus-mysqld-exporter", f"--config.my-cnf={ETC}/mysqld-exporter.cnf",
                                      listen(43, MYSQLD_PORT)),
                  43, MYSQLD_PORT, depends_on=("mariadb",), configs=(_cfg("mysqld-exporter.cnf", 0o600),),
                  # What it reads: status and variables, the process list, replication state.
                  db_privileges=("PROCESS", "REPLICATION CLIENT", "SELECT"), jobs=(sql("mysqld-exporter"),)),
        # libvirt's read-only socket: the exporter lists domains and their statistics only.
        _exporter("libvirt-exporter", ("prometheus-libvirt-exporter",
                                       "--libvirt.uri=qemu:///system?socket=/run/libvirt/libvirt-sock-ro",
                                       listen(44, LIBVIRT_PORT)),
                  44, LIBVIRT_PORT, volumes=(Volume("/run/libvirt", "/run/libvirt", read_only=True),),
                  # Root, on the read-only socket alone: the host's libvirtd asks polkit (over
                  # D-Bus, absent on such hosts) about any other uid, and looks that uid up in
                  # the host's users (the image's prometheus user is not there): domain
                  # queries then fail and libvirt_up is 0 as soon as a guest runs.
                  user="root"),
        # Health every 10 s: a stopped container's alert fires well within a minute.
        _exporter("hotstack-exporter", ("hotstack-exporter", f"--targets={ETC}/exporter.json",
                                        f"--listen={c.ip(45)}:{EXPORTER_PORT}"),
                  45, EXPORTER_PORT, interval_s=10, depends_on=("keystone",),
                  volumes=(Volume("/sys/fs/cgroup", HOST_CGROUPS, read_only=True),
                           Volume(str(p.container_ids.parent), IDS_DIR, read_only=True)),
                  configs=(_cfg("exporter.json"), ConfigFile("monitoring/clouds.yaml", "/etc/openstack/clouds.yaml",
                                                              "prometheus", 0o600)),
                  keystone_user=PROJECT, jobs=(keystone(PROJECT),)),
    ]
