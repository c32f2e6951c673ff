"""The real infra images through the orchestrator: MariaDB, RabbitMQ and memcached come up with
their real probes (MySQL greeting, AMQP handshake, TCP), a second run keeps everything, a killed
container is healed, and an SQL job creates a database. A test-only data dir, podman network
and CIDR; nothing is published on the host. Everything made is removed at the end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotstack import catalog, containers, podman
from hotstack.catalog import Catalog
from hotstack.images import image_ref
from hotstack.jobs import JOBS_FILE, JobLog
from hotstack.paths import Paths
from hotstack.render import render
from hotstack.settings import load
from hotstack.stack import Stack, start_all

pytestmark = [pytest.mark.integration, pytest.mark.images]

INFRA = ["mariadb", "rabbitmq", "memcached"]
NETWORK = "hotstack-itest"
CIDR = "10.213.45.0/25"


def _infra_image() -> str | None:
    """The infra image of this checkout, else the newest one built (the test is about the
    orchestration, not about which Containerfile revision made the image)."""
    if not podman.available():
        return None
    if podman.image_exists(ref := image_ref("infra")):
        return ref
    out = podman.run(["images", "--format", "{{.Repository}}:{{.Tag}}", "localhost/hotstack/infra"]).stdout
    tags = [line for line in out.split() if not line.endswith(":<none>")]
    return tags[0] if tags else None


@pytest.fixture
def infra(tmp_path: Path, config_file: Path) -> Iterator[tuple[Catalog, dict[str, str]]]:
    infra_image = _infra_image()
    if infra_image is None:
        pytest.skip("needs podman and an infra image (hotstack build infra)")
    settings = load(config_file, {"data_dir": str(tmp_path / "data"), "network.podman_network": NETWORK,
                                  "network.container_cidr": CIDR}, environ={})
    paths = Paths(settings.data_dir)
    cat = catalog.build(settings, paths)
    existing = containers.snapshot()
    if any(cat[name].container in existing for name in INFRA):
        pytest.skip("hotstack's own infra containers exist on this host (a real stack is up)")
    had_network = containers.network_exists(NETWORK)
    hashes = render(settings, paths, lambda name: infra_image if name == "infra" else image_ref(name)).hashes
    try:
        yield cat, hashes
    finally:
        for name in INFRA:
            containers.remove(cat[name].container, timeout=5)
        if not had_network and containers.network_exists(NETWORK):
            podman.run(["network", "rm", NETWORK], check=False)


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

    podman.run(["kill", cat["rabbitmq"].container])
    third = start_all(cat, hashes, notify, names=INFRA)  # type: ignore[arg-type]
    assert {n: o.action for n, o in third.items()} == {"mariadb": "kept", "rabbitmq": "created",
                                                       "memcached": "kept"}
    print(f"no-op run: {noop:.2f} s; rabbitmq healed in {third['rabbitmq'].healthy_after_s} s")


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
    code, out = containers.exec_in(cat["mariadb"].container,
                                   ["mariadb", "-N", "-e", "SELECT user FROM mysql.user WHERE user='keystone'; "
                                                           "SHOW DATABASES LIKE 'keystone'"])
    assert code == 0 and out.split() == ["keystone", "keystone"]
    assert not JobLog(cat.paths.state / JOBS_FILE, cat.settings.release).done("keystone-database")


def test_run_jobs_get_secrets_by_name_and_fail_clearly(infra: tuple[Catalog, dict[str, str]]) -> None:
    from hotstack.catalog import Job
    from hotstack.errors import HotstackError

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
