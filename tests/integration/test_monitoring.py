"""The monitoring stack for real: the monitoring image's Prometheus, Alertmanager, node and
libvirt exporters and hotstack's own exporter, with memcached and RabbitMQ (its Prometheus
plugin) from the infra image, all made from the rendered compose file of a test deployment
(own name, podman network and addresses). Prometheus scrapes the catalog's targets; memcached's
container is killed and its alert must reach Alertmanager within 60 s, then leave once the
container runs again. podman stats gives the stack's idle memory and CPU (docs/monitoring.md).

The cloud's usage is not collected here (no keystone in this test: the rendered exporter file's
`cloud` is cleared, so nothing is sent to the test's brex_ip, which no interface holds); the
e2e tests read it from the e2e cloud. All containers and the network are removed at the end."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localhttp import get_json
from waiting import wait_until

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.commands.render_cmd import render_catalog
from hotstack.containers import control, podman
from hotstack.core.paths import Paths
from hotstack.core.settings import load
from hotstack.stack.bringup import ensure_data_dirs
from hotstack.stack.jobs import load_compose

pytestmark = [pytest.mark.integration, pytest.mark.images]

NAME, NETWORK, CIDR = "hsimon", "hsimon", "10.213.48.0/26"
TARGET = "memcached"  # the service whose container the test kills
SERVICES = (TARGET, "rabbitmq", "prometheus", "alertmanager", "node-exporter", "libvirt-exporter",
            "hotstack-exporter")
MONITORING = SERVICES[2:]
ALERT = "ServiceContainerNotRunning"
FIRE_BOUND_S = 60.0
ARTIFACTS = Path(__file__).parent / "artifacts"
RESOLVE_BOUND_S = 90.0






class Monitoring:
    def __init__(self, cat: Catalog) -> None:
        self.cat = cat
        self.prometheus = f"http://{cat.address('prometheus')}"
        self.alertmanager = f"http://{cat.address('alertmanager')}"

    def query(self, promql: str) -> list[dict[str, Any]]:
        url = f"{self.prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        result: list[dict[str, Any]] = get_json(url)["data"]["result"]
        return result

    def targets(self) -> dict[str, str]:
        active = get_json(f"{self.prometheus}/api/v1/targets")["data"]["activeTargets"]
        return {t["labels"]["job"]: t["health"] for t in active}

    def alerts(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = get_json(f"{self.alertmanager}/api/v2/alerts?active=true")
        return found

    def firing(self, alert: str, service: str) -> bool:
        return any(a["labels"].get("alertname") == alert and a["labels"].get("service") == service
                   for a in self.alerts())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, hotstack_images: dict[str, str]) -> Iterator[Monitoring]:
    tmp = tmp_path_factory.mktemp("monitoring")
    (tmp / "hotstack.yaml").write_text("")
    settings = load(tmp / "hotstack.yaml", {
        "name": NAME, "data_dir": str(tmp / "data"), "network.podman_network": NETWORK,
        "network.container_cidr": CIDR, "network.provider_cidr": "10.213.48.128/25",
        "network.brex_ip": "10.213.48.129", "monitoring.enabled": "true", "horizon.enabled": "false"},
        environ={})
    cat = catalog.build(settings, Paths(settings.data_dir))
    render_catalog(cat)
    targets = cat.paths.rendered / "monitoring" / "exporter.json"
    targets.write_text(json.dumps(json.loads(targets.read_text()) | {"cloud": None}))
    compose = load_compose(cat.paths.compose_file)
    control.ensure_network(compose, NETWORK)
    try:
        for name in SERVICES:
            ensure_data_dirs(cat, cat[name])
            control.start(compose, NETWORK, name, cat.paths.compose_file)
        control.write_ids(cat.paths.container_ids, control.snapshot())
        mon = Monitoring(cat)
        wait_until("Prometheus ready", lambda: get_json(f"{mon.prometheus}/api/v1/status/buildinfo"), 60)
        yield mon
    finally:
        control.remove(*(cat[name].container for name in SERVICES), timeout=5)
        podman.run(["network", "rm", NETWORK], check=False)


def test_the_catalog_targets_are_scraped(stack: Monitoring) -> None:
    started = {"rabbitmq", *MONITORING}
    # Every job is the catalog's; the ones whose services run here are up (RabbitMQ's plugin
    # needs its node started: up to a minute on two cores).
    jobs = {svc.name for svc, _ in stack.cat.scrape_targets()}
    wait_until("Prometheus's targets loaded", lambda: set(stack.targets()) == jobs, 30)
    wait_until("every started target up", lambda: all(stack.targets()[job] == "up" for job in started), 90)
    down = {job for job, health in stack.targets().items() if health != "up"}
    assert down == {"haproxy", "mysqld-exporter"}  # not started in this test


def test_promql_answers_per_service_and_from_each_exporter(stack: Monitoring) -> None:
    wait_until("hotstack's exporter scraped", lambda: stack.query("hotstack_service_healthy"), 30)
    healthy = {r["metric"]["service"]: r["value"][1] for r in stack.query("hotstack_service_healthy")}
    assert set(healthy) == set(stack.cat.services)  # one series per service of the catalog
    def unhealthy() -> list[str]:
        return [r["metric"]["service"] for r in stack.query("hotstack_service_healthy")
                if r["metric"]["service"] in SERVICES and r["value"][1] != "1"]

    wait_until("the started services healthy", lambda: not unhealthy(), 60, show=unhealthy)
    assert not unhealthy()
    memory = stack.query(f'hotstack_container_memory_bytes{{service="{TARGET}"}}')
    assert memory and float(memory[0]["value"][1]) > 1_000_000
    data_dir = str(stack.cat.paths.data_dir)
    assert stack.query(f'node_filesystem_size_bytes{{mountpoint="{data_dir}"}}'), "data_dir's filesystem"
    assert stack.query("node_memory_MemTotal_bytes")
    wait_until("RabbitMQ's own metrics", lambda: stack.query("rabbitmq_identity_info"), 90)
    assert stack.query('up{job="libvirt-exporter"} == 1')


def test_a_killed_container_fires_its_alert_and_it_resolves(stack: Monitoring) -> None:
    container = stack.cat[TARGET].container
    wait_until("no alert before", lambda: not stack.firing(ALERT, TARGET), 30)
    podman.run(["kill", container])
    killed = time.monotonic()
    fired = wait_until(f"{ALERT} for {TARGET} in Alertmanager", lambda: stack.firing(ALERT, TARGET), FIRE_BOUND_S)
    assert stack.firing("ServiceUnhealthy", TARGET) or stack.query(
        f'hotstack_service_healthy{{service="{TARGET}"}} == 0')
    podman.run(["start", container])
    resolved = wait_until("the alert resolved", lambda: not stack.firing(ALERT, TARGET), RESOLVE_BOUND_S)
    print(f"\nkill → alert in Alertmanager {fired:.1f} s; start → resolved {resolved:.1f} s "
          f"({time.monotonic() - killed:.1f} s in all)")


def test_idle_footprint_of_the_monitoring_containers(stack: Monitoring, tmp_path: Path) -> None:
    time.sleep(20)  # past the start: what it costs when nothing happens
    names = [stack.cat[name].container for name in MONITORING]
    out = podman.run(["stats", "--no-stream", "--format", "json", *names]).stdout
    rows = json.loads(out)
    memory = {r["name"]: r["mem_usage"].split("/")[0].strip() for r in rows}
    cpu = {r["name"]: r["cpu_percent"] for r in rows}
    print("\nmonitoring containers idle:", json.dumps({n: [memory[n], cpu[n]] for n in memory}, indent=1))
    duration = stack.query("sum(scrape_duration_seconds)")
    print("sum of scrape durations:", duration[0]["value"][1] if duration else "none")
    assert len(rows) == len(MONITORING)


def test_the_overview_page_draws_the_series_in_chromium(stack: Monitoring, tmp_path: Path) -> None:
    from browser import chromium
    from overview_page import charts_drawn

    # Two points a line at the page's 15 s steps: wait for that much history of the latest
    # recorded series (a rate needs two scrapes before its first value).
    wait_until("30 s of history", lambda: stack.query("count_over_time(hotstack:container_cpu:rate1m[1m]) >= 4"), 90)
    address = stack.prometheus.removeprefix("http://")
    with chromium(tmp_path / "chromium", {"prometheus.test": address.split(":")[0]}) as browser:
        charts_drawn(browser, f"http://prometheus.test:{address.split(':')[1]}/consoles/hotstack.html",
                     ARTIFACTS / "monitoring-overview.png",
                     ("chart-healthy", "chart-cpu", "chart-memory"))  # no cloud here: no tenants' charts
