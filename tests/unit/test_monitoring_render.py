"""Monitoring as the catalog renders it: Prometheus's jobs are exactly the catalog's
`Service.metrics`, the alert and recording rules, hotstack's exporter's targets, the exporters'
secrets (0600), haproxy/DNS/hosts/firewall for Prometheus and Alertmanager, RabbitMQ's plugin
and haproxy's built-in exporter; switched off, nothing names them. Also the exporter's own
pure parts (its script, loaded from the image directory) and `status`'s alert rows."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import stat
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from rendering import render_into

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.commands.status_cmd import StatusReport
from hotstack.core.paths import template_root
from hotstack.core.secrets import Secrets
from hotstack.host import fwpolicy, hosts
from hotstack.images import stage
from hotstack.probes import alerts
from hotstack.stack.jobs import sql_script

ALERTS = {"ServiceContainerNotRunning", "ServiceUnhealthy", "ScrapeTargetDown", "ApiErrorRate", "DataDirDiskFull",
          "HypervisorMemoryHigh", "RabbitmqQueueBacklog"}




@pytest.fixture
def on(tmp_path: Path) -> tuple[Catalog, Path]:
    return render_into(tmp_path, **{"monitoring.enabled": "true"})


def _yaml(out: Path, name: str) -> Any:
    return yaml.safe_load((out / "monitoring" / name).read_text())


def test_scrape_jobs_are_the_catalogs_metrics_endpoints(on: tuple[Catalog, Path]) -> None:
    cat, out = on
    jobs = {j["job_name"]: j for j in _yaml(out, "prometheus.yml")["scrape_configs"]}
    assert set(jobs) == {svc.name for svc, _ in cat.scrape_targets()} == {
        "haproxy", "rabbitmq", "prometheus", "alertmanager", "node-exporter", "mysqld-exporter",
        "libvirt-exporter", "hotstack-exporter"}
    for svc, metrics in cat.scrape_targets():
        job = jobs[svc.name]
        assert job["static_configs"] == [{"targets": [f"{cat.ip(svc.name)}:{metrics.port}"]}]
        assert (job["metrics_path"], job["scrape_interval"]) == (metrics.path, f"{metrics.interval_s}s")
    assert jobs["hotstack-exporter"]["scrape_interval"] == "10s"  # alerts within a minute
    prometheus = _yaml(out, "prometheus.yml")
    assert prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [cat.address("alertmanager")]


def test_alert_rules_cover_the_issues_list_and_name_data_dir(on: tuple[Catalog, Path]) -> None:
    cat, out = on
    rules = {r["alert"]: r for r in _yaml(out, "alerts.yml")["groups"][0]["rules"]}
    assert set(rules) == ALERTS
    assert f'mountpoint="{cat.paths.data_dir}"' in rules["DataDirDiskFull"]["expr"]
    assert "> 0.85" in rules["DataDirDiskFull"]["expr"] and "> 0.90" in rules["HypervisorMemoryHigh"]["expr"]
    assert rules["ServiceContainerNotRunning"]["expr"] == "hotstack_container_running == 0"
    assert "{{ $labels.service }}" in rules["ServiceUnhealthy"]["annotations"]["summary"]  # Prometheus's, not jinja's
    recorded = {r["record"] for r in _yaml(out, "recording.yml")["groups"][0]["rules"]}
    page = (out / "monitoring" / "consoles" / "hotstack.html").read_text()
    for name in ("hotstack:services_healthy:count", "hotstack:container_cpu:rate1m", "hotstack:project_vcpus:sum"):
        assert name in recorded and name in page  # the overview page draws the recorded series


def test_the_exporter_checks_every_service_as_status_does(on: tuple[Catalog, Path]) -> None:
    cat, out = on
    targets = json.loads((out / "monitoring" / "exporter.json").read_text())
    by_name = {t["name"]: t for t in targets["services"]}
    assert list(by_name) == list(cat.services)
    heat = {"kind": "tcp", "host": str(cat.ip("heat-api")), "port": cat.port("heat-api")}
    assert by_name["heat-api"] == {"name": "heat-api", "container": cat["heat-api"].container, "check": heat}
    assert by_name["horizon"]["check"]["kind"] == "http" and by_name["horizon"]["check"]["path"] == "/auth/login/"
    assert by_name["nova-compute"]["check"] == {"kind": "running"}  # host network, no port
    assert targets["container_ids"].endswith(cat.paths.container_ids.name)


def test_exporter_secrets_are_0600_and_the_deployments_own(on: tuple[Catalog, Path]) -> None:
    cat, out = on
    secrets = Secrets(cat.paths.secrets_file).ensure(catalog.secret_names(cat))
    cnf = out / "monitoring" / "mysqld-exporter.cnf"
    clouds = out / "monitoring" / "clouds.yaml"
    for path in (cnf, clouds):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"password = {secrets['db_monitoring']}\n" in cnf.read_text()
    auth = yaml.safe_load(clouds.read_text())["clouds"]["hotstack-exporter"]["auth"]
    assert auth["password"] == secrets["keystone_monitoring"] and auth["username"] == "monitoring"
    compose = yaml.safe_load((out / "podman-compose.yml").read_text())["services"]
    for definition in compose.values():  # never on a command line
        assert not any(secrets["db_monitoring"] in arg for arg in definition["command"])


def test_the_mysql_exporters_user_gets_global_read_privileges_only() -> None:
    script = sql_script((), "monitoring", "pw", ("PROCESS", "REPLICATION CLIENT", "SELECT"))
    assert "GRANT PROCESS, REPLICATION CLIENT, SELECT ON *.* TO 'monitoring'@'%';" in script
    assert "CREATE DATABASE" not in script and "ALL PRIVILEGES" not in script


def test_prometheus_and_alertmanager_are_published_like_the_apis(on: tuple[Catalog, Path]) -> None:
    cat, out = on
    s = cat.settings
    haproxy = (out / "haproxy" / "haproxy.cfg").read_text()
    dnsmasq = (out / "dnsmasq" / "dnsmasq.conf").read_text()
    compose = yaml.safe_load((out / "podman-compose.yml").read_text())["services"]
    for name, port in (("prometheus", s.ports.prometheus), ("alertmanager", s.ports.alertmanager)):
        assert f"frontend {name}-{port}\n    bind {cat.ip('haproxy')}:{port}\n" in haproxy
        assert f"server {name} {cat.address(name)} check" in haproxy
        assert f"host-record={name}.{s.network.domain},{s.network.brex_ip}" in dnsmasq
        assert f"{s.network.brex_ip}\t{name}.{s.network.domain}" in hosts.block(cat)
        assert f"{s.network.brex_ip}:{port}:{port}/tcp" in compose["haproxy"]["ports"]
        assert any(port in o.ports and not o.from_containers for o in fwpolicy.policy(cat))
        assert "ports" not in compose[name]  # only through haproxy
    assert "http-request use-service prometheus-exporter if { path /metrics }" in haproxy
    assert (out / "rabbitmq" / "enabled_plugins").read_text().strip().endswith("[rabbitmq_prometheus].")
    assert f"prometheus.tcp.ip = {cat.ip('rabbitmq')}" in (out / "rabbitmq" / "rabbitmq.conf").read_text()
    assert "monitoring" in stage.wanted(cat)
    assert cat.alerting == "alertmanager"


def test_switched_off_nothing_names_it(tmp_path: Path) -> None:
    cat, out = render_into(tmp_path)
    assert not cat.settings.monitoring.enabled  # the default (docs/monitoring.md: the idle budget)
    compose = yaml.safe_load((out / "podman-compose.yml").read_text())["services"]
    assert not {"prometheus", "alertmanager", "hotstack-exporter"} & set(compose)
    haproxy = (out / "haproxy" / "haproxy.cfg").read_text()
    assert "prometheus" not in haproxy and not (out / "monitoring").exists()
    assert not (out / "rabbitmq" / "enabled_plugins").exists()
    assert "prometheus" not in (out / "rabbitmq" / "rabbitmq.conf").read_text()
    assert not cat.scrape_targets() and cat.alerting is None and "monitoring" not in stage.wanted(cat)
    assert not any("prometheus" in line for line in hosts.block(cat))
    assert "db_monitoring" not in catalog.secret_names(cat)


def _exporter() -> ModuleType:
    """hotstack-exporter as the image runs it (a script of the image directory, not the package)."""
    path = template_root() / "compose" / "images" / "monitoring" / "hotstack-exporter"
    loader = importlib.machinery.SourceFileLoader("hotstack_exporter", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _cgroup(root: Path, controller: str, parent: str, cid: str, files: dict[str, str]) -> None:
    directory = root / controller / parent / f"libpod-{cid}"
    directory.mkdir(parents=True)
    for name, text in files.items():
        (directory / name).write_text(text)


def test_the_exporter_reads_podmans_cgroup_v1_layout(tmp_path: Path) -> None:
    # The kernel's file names and formats, written under a temp root (the real tree is read by
    # the exporter in the e2e cloud: tests/e2e/test_cloud_monitoring.py's memory series).
    exporter, cid = _exporter(), "ab" * 32
    _cgroup(tmp_path, "memory", "libpod_parent", cid, {"memory.usage_in_bytes": "2097152\n"})
    _cgroup(tmp_path, "pids", "libpod_parent", cid, {"pids.current": "3\n"})
    _cgroup(tmp_path, "cpuacct", "libpod_parent", cid, {"cpuacct.usage": "1500000000\n"})
    assert exporter.cgroup_stats(str(tmp_path), cid) == {"running": 1.0, "memory_bytes": 2097152.0, "cpu_seconds": 1.5}
    assert exporter.cgroup_stats(str(tmp_path), "cd" * 32) is None  # no cgroup: not running


def test_the_exporter_reads_cgroup_v2_under_systemd(tmp_path: Path) -> None:
    exporter, cid = _exporter(), "ef" * 32
    directory = tmp_path / "machine.slice" / f"libpod-{cid}.scope"
    directory.mkdir(parents=True)
    (directory / "memory.current").write_text("4096\n")
    (directory / "pids.current").write_text("0\n")
    (directory / "cpu.stat").write_text("usage_usec 250000\nuser_usec 200000\nsystem_usec 50000\n")
    assert exporter.cgroup_stats(str(tmp_path), cid) == {"running": 0.0, "memory_bytes": 4096.0, "cpu_seconds": 0.25}


def test_status_shows_alertmanagers_firing_alerts() -> None:
    rows = alerts.parse([
        {"labels": {"alertname": "ServiceUnhealthy", "service": "heat-api", "severity": "critical"},
         "annotations": {"summary": "heat-api fails its health check"}, "startsAt": "2026-12-02T01:00:00Z"},
        {"labels": {"alertname": "ScrapeTargetDown", "job": "node-exporter"}, "annotations": {}, "startsAt": ""},
    ])
    assert [(r["name"], r["service"]) for r in rows] == [("ScrapeTargetDown", "node-exporter"),
                                                          ("ServiceUnhealthy", "heat-api")]
    report = StatusReport([], [], rows)
    assert report.to_json()["alerts"] == rows and report.ok  # alerts are shown; health decides `ok`
    assert "alerts" not in StatusReport([], []).to_json()  # monitoring off
    assert StatusReport([], [], None, "alertmanager did not answer").to_json()["alerts_error"]
