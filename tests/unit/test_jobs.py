"""Job command lines and records, built from the real catalog and compose definitions."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

from hotstack import catalog
from hotstack.containers.control import STALE, compose_up_args, exec_args, parse_ps, service_subset
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.render.compose import service_definition
from hotstack.stack.jobs import JobLog, host_listed, job_addresses, run_args, sql_script


def test_sql_creates_databases_user_and_grants_idempotently() -> None:
    sql = sql_script(("nova_api", "nova"), "nova", "s3cr'et")
    assert "CREATE DATABASE IF NOT EXISTS `nova_api`" in sql and "CREATE DATABASE IF NOT EXISTS `nova`" in sql
    assert "CREATE USER IF NOT EXISTS 'nova'@'%' IDENTIFIED BY 's3cr\\'et';" in sql
    assert "GRANT ALL PRIVILEGES ON `nova_api`.* TO 'nova'@'%';" in sql


def test_run_job_mirrors_the_service_definition_and_passes_secrets_by_name(settings: Settings, paths: Paths) -> None:
    cat = catalog.build(settings, paths)
    svc = cat["keystone"]
    definition = service_definition(cat, svc, "localhost/hotstack/keystone:abc", "digest")
    bootstrap = next(j for j in svc.jobs if j.name == "keystone-bootstrap")
    args = run_args(definition, bootstrap, "172.31.0.126")
    assert args[:5] == ["run", "--rm", "--replace", "--name", "hotstack-keystone-job"]
    assert args[5:9] == ["--network", settings.network.podman_network, "--ip", "172.31.0.126"]
    for volume in definition["volumes"]:
        assert args[args.index(volume) - 1] == "--volume"
    assert args[args.index("--user"):args.index("--user") + 2] == ["--user", "keystone"]
    assert args[args.index("OS_BOOTSTRAP_PASSWORD") - 1:][:2] == ["--env", "OS_BOOTSTRAP_PASSWORD"]
    assert not any("=" in a and a.startswith("OS_BOOTSTRAP_PASSWORD") for a in args)
    image_at = args.index("localhost/hotstack/keystone:abc")
    assert tuple(args[image_at + 1:]) == bootstrap.argv


def test_job_addresses_avoid_every_service_address(settings: Settings, paths: Paths) -> None:
    cat = catalog.build(settings, paths)
    found = job_addresses(cat)
    assert found[0] == "172.31.0.126" and len(found) == len(set(found)) == 8
    assert not set(found) & {str(cat.ip(s.name)) for s in cat}


def test_host_network_services_run_their_jobs_on_the_host_network(settings: Settings, paths: Paths) -> None:
    cat = catalog.build(settings, paths)
    definition = service_definition(cat, cat["nova-compute"], "img", "d")
    args = run_args(definition, catalog.Job("x", "run", ("true",)))
    assert args[5:7] == ["--network", "host"] and "--privileged" in args


def test_job_log_records_per_release(tmp_path: Path) -> None:
    path = tmp_path / "state" / "jobs.json"
    log = JobLog(path, "2025.1")
    assert not log.done("keystone-db-sync")
    log.record("keystone-db-sync", 3.21)
    assert JobLog(path, "2025.1").done("keystone-db-sync")
    assert not JobLog(path, "2025.2").done("keystone-db-sync")  # a new release runs it again
    assert json.loads(path.read_text())["keystone-db-sync"]["release"] == "2025.1"
    assert path.stat().st_mode & 0o777 == 0o600


def test_host_listed_reads_the_list_hosts_table() -> None:
    table = ("+-----------+--------------------------------------+----------+\n"
             "| Cell Name |              Cell UUID               | Hostname |\n"
             "|   cell1   | 4b8c1a51-52b5-4c54-9c0a-8b3a6c8a8e11 |  node1   |\n")
    assert host_listed(table, "node1") and not host_listed(table, "node")


def test_command_lines() -> None:
    args = compose_up_args(Path("/d/config/podman-compose.yml"), "hotstack", "keystone")
    assert args == ["--in-pod", "false", "-p", "hotstack", "-f", "/d/config/podman-compose.yml", "up",
                    "--detach", "--no-deps", "--no-build", "--pull", "never", "keystone"]
    assert exec_args("hotstack-mariadb", ["mariadb"], stdin=True) == ["exec", "-i", "hotstack-mariadb", "mariadb"]


def test_one_service_compose_file_keeps_the_definition(settings: Settings, paths: Paths) -> None:
    cat = catalog.build(settings, paths)
    definition = service_definition(cat, cat["keystone"], "img", "d")
    document = {"name": "hotstack", "networks": {"hotstack": {"driver": "bridge"}},
                "services": {"keystone": definition, "glance": {"image": "g"}}}
    cut = service_subset(document, "keystone")
    assert set(cut["services"]) == {"keystone"} and cut["networks"] == document["networks"]
    assert cut["name"] == "hotstack" and "depends_on" not in cut["services"]["keystone"]
    assert {k: v for k, v in definition.items() if k != "depends_on"} == cut["services"]["keystone"]


def _proc(root: Path, pid: int, state: str, cgroup: str) -> None:
    """A /proc entry of the test's own: its stat line (comm with a space) and cgroup file."""
    (root / str(pid)).mkdir()
    (root / str(pid) / "stat").write_text(f"{pid} (my proc) {state} 1 {pid} {pid} 0 -1\n")
    (root / str(pid) / "cgroup").write_text(cgroup)


def test_parse_ps(tmp_path: Path) -> None:
    _proc(tmp_path, 41, "S", "0::/libpod_parent/libpod-c0ffee\n")  # pid 41 is mariadb's process
    text = json.dumps([{"Names": ["hotstack-mariadb"], "State": "running", "StartedAt": 1700000000, "Pid": 41,
                        "Id": "c0ffee", "Labels": {"io.hotstack.service": "mariadb", "io.hotstack.config-hash": "abc"}},
                       {"Names": ["hotstack-rabbitmq"], "State": "exited", "StartedAt": 0, "Labels": None}])
    found = parse_ps(text, proc=tmp_path)
    assert found["hotstack-mariadb"].running and found["hotstack-mariadb"].config_hash == "abc"
    assert found["hotstack-mariadb"].uptime_s(1700000010) == 10
    assert not found["hotstack-rabbitmq"].running and found["hotstack-rabbitmq"].uptime_s() is None
    assert parse_ps("") == {} and parse_ps("null") == {}


def test_a_running_container_whose_process_is_gone_is_stale(tmp_path: Path) -> None:
    _proc(tmp_path, 41, "S", "0::/user.slice/some-other-process\n")  # pid 41 reused by another process
    _proc(tmp_path, 42, "Z", "0::/libpod_parent/libpod-0dd\n")  # killed, not reaped yet
    rows = [{"Names": ["hotstack-a"], "State": "running", "Pid": 41, "Id": "c0ffee"},
            {"Names": ["hotstack-b"], "State": "running", "Pid": 77, "Id": "beef"},  # no such pid
            {"Names": ["hotstack-c"], "State": "running", "Pid": 42, "Id": "0dd"}]
    found = parse_ps(json.dumps(rows), proc=tmp_path)
    assert {c.state for c in found.values()} == {STALE} and not any(c.running for c in found.values())


def test_job_output_never_shows_a_secret(settings: Settings, paths: Paths, tmp_path: Path) -> None:
    from hotstack.probes.deep import Admin
    from hotstack.stack.jobs import JobRunner

    cat = catalog.build(settings, paths)
    runner = JobRunner(cat, Admin(cat), JobLog(tmp_path / "jobs.json", "2025.1"), {"db_nova": "f00dfeed1234"},
                       lambda: {})
    error = "ERROR 1064 (42000) near 'IDENTIFIED BY 'f00dfeed1234';' at line 2"
    assert runner.redact(error) == "ERROR 1064 (42000) near 'IDENTIFIED BY '********';' at line 2"


def test_every_generated_password_but_admins_is_stored_again(settings: Settings) -> None:
    from hotstack.stack.keystone_jobs import generated_passwords

    cat = catalog.build(settings, Paths(settings.data_dir))
    secrets = {name: f"pw-{name}" for name in catalog.secret_names(cat)}
    users = generated_passwords(cat, secrets)
    names = [name for name, _, _ in users]
    assert "admin" not in names and len(names) == len(set(names))
    assert {svc.keystone_user for svc in cat if svc.keystone_user} | {"hotstack", "heat_domain_admin"} == set(names)
    assert all(password == secrets.get(f"keystone_{name}", password) for name, _, password in users)
    job = next(j for j in cat["keystone"].jobs if j.argv == ("password-cost",))
    assert job.after_start and job.name == "keystone-password-cost-4"  # once per cost


def test_keystone_hashes_at_the_configured_cost(tmp_path: Path, config_file: Path) -> None:
    from hotstack.commands.render_cmd import render_catalog
    from hotstack.core.settings import load

    overrides = {"data_dir": str(tmp_path / "data"), "keystone.password_hash_rounds": "10"}
    cat = catalog.build(load(config_file, overrides, environ={}), Paths(tmp_path / "data"))
    render_catalog(cat)
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string((cat.paths.rendered / "keystone" / "keystone.conf").read_text())
    identity = conf["identity"]
    assert (identity["password_hash_algorithm"], identity["password_hash_rounds"]) == ("bcrypt", "10")
