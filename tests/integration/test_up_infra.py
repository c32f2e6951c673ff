"""The real infra images through the orchestrator: MariaDB, RabbitMQ and memcached come up with
their real probes (MySQL greeting, AMQP handshake, TCP), a second run keeps everything, a killed
container is healed, and an SQL job creates a database. A test-only deployment (conftest: its own
name, data dir, podman network and CIDR); nothing is published on the host; all removed at the end."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import isolated_overrides

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.commands.render_cmd import render_catalog
from hotstack.containers import control, podman
from hotstack.core import runner
from hotstack.core.paths import Paths
from hotstack.core.settings import load
from hotstack.stack.bringup import Stack, start_all
from hotstack.stack.jobs import JOBS_FILE, JobLog

pytestmark = [pytest.mark.integration, pytest.mark.images]

INFRA = ["mariadb", "rabbitmq", "memcached"]


@pytest.fixture
def infra(tmp_path: Path, config_file: Path,
          hotstack_images: dict[str, str]) -> Iterator[tuple[Catalog, dict[str, str]]]:
    settings = load(config_file, isolated_overrides(tmp_path / "data"), environ={})
    paths = Paths(settings.data_dir)
    cat = catalog.build(settings, paths)
    for name in INFRA:  # left over from an interrupted run
        control.remove(cat[name].container, timeout=5)
    network = settings.network.podman_network
    had_network = control.network_exists(network)
    hashes = render_catalog(cat).hashes
    try:
        yield cat, hashes
    finally:
        for name in INFRA:
            control.remove(cat[name].container, timeout=5)
        if not had_network and control.network_exists(network):
            podman.run(["network", "rm", network], check=False)


def _events() -> tuple[list[tuple[str, str, str]], object]:
    seen: list[tuple[str, str, str]] = []
    return seen, lambda name, state, note: seen.append((name, state, note))


def test_infra_comes_up_is_kept_and_heals(infra: tuple[Catalog, dict[str, str]]) -> None:
    cat, hashes = infra
    seen, notify = _events()

    start = time.monotonic()
    first = start_all(cat, hashes, notify, names=INFRA)  # type: ignore[arg-type]
    cold = time.monotonic() - start
    assert {n: o.action for n, o in first.items()} == dict.fromkeys(INFRA, "created")
    assert first["mariadb"].probe.detail.startswith("MySQL greeting")
    assert first["rabbitmq"].probe.detail.startswith("AMQP connection.start 0-9")
    assert ("rabbitmq", "healthy", "created") in seen
    print(f"\ninfra cold start to healthy: {cold:.1f} s;",
          {n: o.healthy_after_s for n, o in first.items()})

    start = time.monotonic()
    second = start_all(cat, hashes, notify, names=INFRA)  # type: ignore[arg-type]
    noop = time.monotonic() - start
    assert {n: o.action for n, o in second.items()} == dict.fromkeys(INFRA, "kept")
    assert noop < 3.0, f"a no-op run took {noop:.1f} s"

    killed = control.snapshot()[cat["rabbitmq"].container].id
    podman.run(["kill", cat["rabbitmq"].container])
    third = start_all(cat, hashes, notify, names=INFRA)  # type: ignore[arg-type]
    assert {n: o.action for n, o in third.items()} == {"mariadb": "kept", "rabbitmq": "started",
                                                       "memcached": "kept"}
    again = control.snapshot()[cat["rabbitmq"].container]
    assert again.running and again.id == killed, "the same container started again, not a new one"
    print(f"no-op run: {noop:.2f} s; rabbitmq healed in {third['rabbitmq'].healthy_after_s} s")


def test_a_container_killed_behind_podmans_back_is_recreated(infra: tuple[Catalog, dict[str, str]]) -> None:
    """Its process and its conmon killed (what a crashed host or a killed session leaves when
    /run survives): podman still says running, hotstack sees it stale, and the next run
    recreates it, without the stop grace podman would wait for an exit nobody writes."""
    cat, hashes = infra
    _, notify = _events()
    start_all(cat, hashes, notify, names=["memcached"])  # type: ignore[arg-type]
    container = cat["memcached"].container
    states = control.States()  # what the probes ask after each miss
    before = runner.calls().get("podman container", 0)
    assert [states(container) for _ in range(10)] == ["running"] * 10
    assert runner.calls()["podman container"] - before == 1  # podman asked once, then its process watched
    pids = podman.run(["inspect", "--format", "{{.State.ConmonPid}} {{.State.Pid}}", container]).stdout.split()
    for pid in pids:
        os.kill(int(pid), signal.SIGKILL)
    time.sleep(0.5)
    assert podman.run(["inspect", "--format", "{{.State.Status}}", container]).stdout.strip() == "running"
    assert control.snapshot()[container].state == control.STALE
    assert states(container) == control.STALE
    start = time.monotonic()
    healed = start_all(cat, hashes, notify, names=["memcached"])  # type: ignore[arg-type]
    took = time.monotonic() - start
    assert healed["memcached"].action == "recreated" and control.snapshot()[container].running
    print(f"\nstale memcached recreated and healthy in {took:.1f} s")


def test_a_changed_config_recreates_only_that_service(infra: tuple[Catalog, dict[str, str]]) -> None:
    cat, hashes = infra
    _, notify = _events()
    start_all(cat, hashes, notify, names=["memcached", "mariadb"])  # type: ignore[arg-type]
    changed = {**hashes, "memcached": "0" * 16}
    result = start_all(cat, changed, notify, names=["memcached", "mariadb"])  # type: ignore[arg-type]
    assert result["memcached"].action == "recreated" and result["mariadb"].action == "kept"


def test_sql_job_creates_the_database_and_user(infra: tuple[Catalog, dict[str, str]]) -> None:
    cat, hashes = infra
    _, notify = _events()
    start_all(cat, hashes, notify, names=["mariadb"])  # type: ignore[arg-type]
    stack = Stack(cat, hashes, notify)  # type: ignore[arg-type]
    job = next(j for j in cat["keystone"].jobs if j.kind == "sql")
    for _ in range(2):  # idempotent
        stack.jobs.run_one(cat["keystone"], job)
    code, out = control.exec_in(cat["mariadb"].container,
                                   ["mariadb", "-N", "-e", "SELECT user FROM mysql.user WHERE user='keystone'; "
                                                           "SHOW DATABASES LIKE 'keystone'"])
    assert code == 0 and out.split() == ["keystone", "keystone"]
    assert not JobLog(cat.paths.state / JOBS_FILE, cat.settings.release).done("keystone-database")


def test_run_jobs_get_secrets_by_name_and_fail_clearly(infra: tuple[Catalog, dict[str, str]]) -> None:
    from hotstack.catalog import Job
    from hotstack.core.errors import HotstackError

    cat, hashes = infra
    _, notify = _events()
    start_all(cat, hashes, notify, names=["memcached"])  # type: ignore[arg-type]
    stack = Stack(cat, hashes, notify)  # type: ignore[arg-type]
    secret = stack.jobs.secrets["rabbitmq_password"]
    check = Job("itest-env", "run", ("sh", "-c", 'test "${#SECRET_X}" -eq 32 && echo "has $SECRET_X"'),
                env_secrets=(("SECRET_X", "rabbitmq_password"),))
    stack.jobs.run_one(cat["memcached"], check)
    log = (cat.paths.logs / "jobs" / "itest-env.log").read_text()
    assert "--env SECRET_X " in log and "has ********" in log and secret not in log

    broken = Job("itest-broken", "run", ("sh", "-c", "echo boom >&2; exit 3"))
    with pytest.raises(HotstackError, match=r"job itest-broken failed \(exit 3\):\nboom"):
        stack.jobs.run_one(cat["memcached"], broken)


def test_five_down_up_cycles_keep_the_data(infra: tuple[Catalog, dict[str, str]]) -> None:
    """down then up, five times: a row written before is still there after each cycle, and each
    cycle recreates the containers (down removes them) rather than keeping stale ones."""
    from hotstack.commands.down_cmd import stop_all

    cat, hashes = infra
    _, notify = _events()
    start_all(cat, hashes, notify, names=INFRA)  # type: ignore[arg-type]
    sql = ["mariadb", "-N", "-e", "CREATE DATABASE IF NOT EXISTS cycles; "
           "CREATE TABLE IF NOT EXISTS cycles.t (n INT); INSERT INTO cycles.t VALUES (1)"]
    assert control.exec_in(cat["mariadb"].container, sql)[0] == 0
    took = []
    for cycle in range(5):
        started = time.monotonic()
        assert stop_all(cat).ok and not {cat[n].container for n in INFRA} & set(control.snapshot())
        results = start_all(cat, hashes, notify, names=INFRA)  # type: ignore[arg-type]
        took.append(round(time.monotonic() - started, 1))
        assert {results[n].action for n in INFRA} == {"created"}, cycle
        code, out = control.exec_in(cat["mariadb"].container, ["mariadb", "-N", "-e", "SELECT n FROM cycles.t"])
        assert code == 0 and out.split() == ["1"], f"cycle {cycle}: {out}"
    print(f"\nfive down/up cycles of {', '.join(INFRA)}: {took} s")
