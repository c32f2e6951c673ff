"""Monitoring on the e2e deployment (`monitoring.enabled` in its settings): every Prometheus
target up, a PromQL answer for every service of the catalog and from every exporter (the
cloud's usage included), a killed container's alert in Alertmanager within 60 s and in
`hotstack status`, resolved once `up` heals it, and the overview page in Chromium with
non-empty graphs (tests/e2e/artifacts/monitoring-overview.png). Prometheus and Alertmanager
are reached through haproxy on brex_ip, as a user does."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from browser import chromium
from e2efixtures import ARTIFACTS, Deployment
from localhttp import get_json
from overview_page import charts_drawn
from waiting import wait_until

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.containers import podman

pytestmark = [pytest.mark.e2e, pytest.mark.host]

KILLED = "heat-api"
ALERT = "ServiceContainerNotRunning"
FIRE_BOUND_S = 60.0
MONITORING = ("prometheus", "alertmanager", "node-exporter", "mysqld-exporter", "libvirt-exporter",
              "hotstack-exporter")






class Monitoring:
    def __init__(self, e2e: Deployment) -> None:
        s = e2e.settings
        self.cat: Catalog = catalog.build(s, e2e.paths)
        self.prometheus = f"http://{s.network.brex_ip}:{s.ports.prometheus}"  # haproxy's frontend
        self.alertmanager = f"http://{s.network.brex_ip}:{s.ports.alertmanager}"

    def query(self, promql: str) -> list[dict[str, Any]]:
        data = get_json(f"{self.prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        result: list[dict[str, Any]] = data["data"]["result"]
        return result

    def down_targets(self) -> list[str]:
        active = get_json(f"{self.prometheus}/api/v1/targets")["data"]["activeTargets"]
        return [f"{t['labels']['job']}: {t.get('lastError', '')}" for t in active if t["health"] != "up"]

    def firing(self, alert: str, service: str) -> bool:
        alerts = get_json(f"{self.alertmanager}/api/v2/alerts?active=true&silenced=false&inhibited=false")
        return any(a["labels"].get("alertname") == alert and a["labels"].get("service") == service for a in alerts)


@pytest.fixture(scope="module")
def mon(e2e: Deployment) -> Monitoring:
    assert e2e.settings.monitoring.enabled, "the e2e deployment runs with monitoring (e2efixtures.py)"
    return Monitoring(e2e)


def test_every_prometheus_target_is_up(mon: Monitoring) -> None:
    jobs = {svc.name for svc, _ in mon.cat.scrape_targets()}
    assert jobs >= {"haproxy", "rabbitmq", *MONITORING}
    active = {t["labels"]["job"] for t in get_json(f"{mon.prometheus}/api/v1/targets")["data"]["activeTargets"]}
    assert active == jobs
    wait_until("every target up", lambda: not mon.down_targets(), 120, show=mon.down_targets)
    durations = {r["metric"]["job"]: float(r["value"][1]) for r in mon.query("scrape_duration_seconds")}
    print("\nscrape durations (s):", json.dumps({k: round(v, 3) for k, v in sorted(durations.items())}))


def test_promql_answers_for_every_service_and_every_exporter(mon: Monitoring) -> None:
    def unhealthy() -> list[str]:
        found = {r["metric"]["service"]: r["value"][1] for r in mon.query("hotstack_service_healthy")}
        return sorted(n for n in mon.cat.services if found.get(n) != "1")

    wait_until("every service healthy in hotstack's exporter", lambda: not unhealthy(), 60, show=unhealthy)
    memory = {r["metric"]["service"] for r in mon.query("hotstack_container_memory_bytes")}
    assert memory == set(mon.cat.services)
    wait_until("the cloud's usage collected", lambda: mon.query("hotstack_cloud_up == 1"), 120)
    # the exporter lists the projects each pass (every 60 s): one made by post-setup after its
    # first pass shows up with the next
    def projects() -> set[str]:
        return {r["metric"]["project"] for r in mon.query("hotstack_project_servers")}
    wait_until("every project in the usage series", lambda: {"hotstack", "admin", "service"} <= projects(), 90,
               every=5, show=projects)
    assert mon.query("hotstack_hypervisor_vcpus > 0") and mon.query("hotstack_hypervisor_memory_bytes > 0")
    assert {r["metric"]["binary"] for r in mon.query("hotstack_service_up == 1")} >= {
        "nova-compute", "nova-conductor", "cinder-volume"}
    data_dir = f'node_filesystem_avail_bytes{{mountpoint="{mon.cat.paths.data_dir}"}}'
    for promql in ("haproxy_backend_status", "rabbitmq_queue_messages_ready", "mysql_up == 1", "libvirt_up == 1",
                   "node_memory_MemAvailable_bytes", data_dir):
        # libvirt_up is 0 for a scrape that met a domain going away (another test's): wait for a good one
        series = promql.split(" ")[0]
        wait_until(promql, lambda q=promql: mon.query(q), 60, show=lambda s=series: mon.query(s))
    stats = json.loads(podman.run(["stats", "--no-stream", "--format", "json",
                                   *(mon.cat[n].container for n in MONITORING)]).stdout)
    print("\nmonitoring containers:", {r["name"]: [r["mem_usage"].split("/")[0].strip(), r["cpu_percent"]]
                                       for r in stats})


def test_a_killed_container_fires_its_alert_and_up_resolves_it(e2e: Deployment, mon: Monitoring) -> None:
    wait_until("no alert before", lambda: not mon.firing(ALERT, KILLED), 60)
    podman.run(["kill", mon.cat[KILLED].container])
    fired = wait_until(f"{ALERT} for {KILLED}", lambda: mon.firing(ALERT, KILLED), FIRE_BOUND_S)
    status = json.loads(e2e.hotstack("status", "--json", artifact="status-alert-firing").stdout)
    assert any(a["name"] == ALERT and a["service"] == KILLED for a in status["alerts"]), status.get("alerts")
    up = e2e.hotstack("up", "--json", artifact="up-after-alert")
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
    resolved = wait_until("the alert resolved", lambda: not mon.firing(ALERT, KILLED), 120)
    status = json.loads(e2e.hotstack("status", "--json", artifact="status-alert-resolved").stdout)
    assert not any(a["service"] == KILLED for a in status["alerts"]), status["alerts"]
    print(f"\nkill → {ALERT} in Alertmanager {fired:.1f} s; after up → resolved {resolved:.1f} s")


def test_the_overview_page_shows_non_empty_graphs(e2e: Deployment, mon: Monitoring, tmp_path: Path) -> None:
    s = e2e.settings
    url = f"http://prometheus.{s.network.domain}:{s.ports.prometheus}/consoles/hotstack.html"
    with chromium(tmp_path / "chromium", {f"prometheus.{s.network.domain}": str(s.network.brex_ip)}) as browser:
        charts_drawn(browser, url, ARTIFACTS / "monitoring-overview.png",
                     ("chart-healthy", "chart-cpu", "chart-memory", "chart-vcpus", "chart-ram"))
        summary = browser.execute_script("return document.getElementById('services-summary').textContent")
        assert summary == f"{len(mon.cat.services)} of {len(mon.cat.services)} services healthy", summary
