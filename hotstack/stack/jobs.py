"""One-shot jobs (catalog.Job): databases, db_sync and bootstrap commands, keystone entries.

Where each kind runs:
  sql      — SQL on stdin to `mariadb` in the job's in_service container (hotstack-mariadb; root by
             unix socket, no password);
  run      — `podman run --rm` of the service's image with the mounts, network, user and
             environment of its rendered compose definition (so the two cannot drift);
             secrets are passed as `-e NAME`, their values only in podman's environment;
  exec     — in a running container (nova-manage host discovery: in nova-conductor);
  keystone — through openstacksdk as the admin (hotstack.keystone_jobs).
Completion is recorded in <state>/jobs.json with the release; recorded jobs are skipped, and a
new release runs them again.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from hotstack.catalog import Catalog, Job, Service, db_user
from hotstack.containers import control, podman
from hotstack.core import redact
from hotstack.core.errors import CommandError, HotstackError
from hotstack.core.fsutil import write_if_changed
from hotstack.core.settings import ip_in
from hotstack.probes.basic import Miss
from hotstack.probes.deep import Admin
from hotstack.stack import keystone_jobs

JOBS_FILE = "jobs.json"
RUN_TIMEOUT_S = 900
JOB_ADDRESSES = 8
LIST_HOSTS = ("nova-manage", "cell_v2", "list_hosts")


class JobLog:
    """Which jobs completed, for which release: <state>/jobs.json."""

    def __init__(self, path: Path, release: str) -> None:
        self.path, self.release = path, release
        self._lock = threading.Lock()
        try:
            data = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            data = {}
        self._done: dict[str, dict[str, Any]] = data if isinstance(data, dict) else {}

    def done(self, name: str) -> bool:
        return self._done.get(name, {}).get("release") == self.release

    def record(self, name: str, seconds: float) -> None:
        with self._lock:
            self._done[name] = {"release": self.release, "seconds": round(seconds, 1),
                                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            write_if_changed(self.path, json.dumps(self._done, indent=2, sort_keys=True) + "\n", mode=0o600)


def sql_script(databases: tuple[str, ...], user: str, password: str, privileges: tuple[str, ...] = ()) -> str:
    """Idempotent SQL: the databases, the user with this password, and its grants (on its
    databases, and `privileges` on every one: a monitoring user's PROCESS, SELECT)."""
    pw = password.replace("\\", "\\\\").replace("'", "\\'")
    lines = [f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;"
             for db in databases]
    lines += [f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{pw}';",
              f"ALTER USER '{user}'@'%' IDENTIFIED BY '{pw}';"]
    lines += [f"GRANT ALL PRIVILEGES ON `{db}`.* TO '{user}'@'%';" for db in databases]
    if privileges:
        lines.append(f"GRANT {', '.join(privileges)} ON *.* TO '{user}'@'%';")
    return "\n".join([*lines, "FLUSH PRIVILEGES;", ""])


def load_compose(compose_file: Path) -> dict[str, Any]:
    """The rendered compose document (its `services` by name, `networks`, `name`)."""
    data = yaml.safe_load(compose_file.read_text()) or {}
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise HotstackError(f"{compose_file} has no services", hint="run `hotstack render` again")
    return data


def run_args(definition: dict[str, Any], job: Job, ip: str | None = None) -> list[str]:
    """`podman run` arguments for a throwaway container shaped like the service's own (on the
    container network at `ip`, never at the service's own address)."""
    args = ["run", "--rm", "--replace", "--name", f"{definition['container_name']}-job"]
    if definition.get("network_mode") == "host":
        args += ["--network", "host"]
    for net in definition.get("networks") or {}:
        args += ["--network", net]
        if ip:
            args += ["--ip", ip]
    for flag, key in (("--user", "user"), ("--pid", "pid")):
        if definition.get(key):
            args += [flag, str(definition[key])]
    if definition.get("privileged"):
        args.append("--privileged")
    for volume in definition.get("volumes") or []:
        args += ["--volume", volume]
    for host in definition.get("extra_hosts") or []:
        args += ["--add-host", host]
    for key, value in (definition.get("environment") or {}).items():
        args += ["--env", f"{key}={value}"]
    for env_name, _secret in job.env_secrets:
        args += ["--env", env_name]  # the value comes from podman's own environment
    return [*args, definition["image"], *job.argv]


def job_addresses(cat: Catalog, count: int = JOB_ADDRESSES) -> list[str]:
    """Addresses for job containers, from the top of the container network down, skipping every
    service's fixed one. (Left to IPAM, a job could hold the address of a service about to start.)"""
    taken = {str(cat.ip(svc.name)) for svc in cat if not svc.host_network}
    net, found = cat.settings.network.container_cidr, []
    for index in range(1, net.num_addresses - 2):
        ip = str(ip_in(net, -index))
        if ip not in taken:
            found.append(ip)
        if len(found) == count:
            break
    return found


def host_listed(list_hosts_output: str, host: str) -> bool:
    """Is `host` a row of `nova-manage cell_v2 list_hosts`' table?"""
    return any(host in [cell.strip() for cell in line.split("|")] for line in list_hosts_output.splitlines())


class JobRunner:
    """Runs a service's pending jobs, before or after its container starts."""

    def __init__(self, cat: Catalog, admin: Admin, log: JobLog, secrets: dict[str, str],
                 compose: Callable[[], dict[str, dict[str, Any]]]) -> None:
        self.cat, self.admin, self.log, self.secrets = cat, admin, log, secrets
        redact.register(secrets.values())
        self._compose = compose
        self._addresses: queue.Queue[str] = queue.Queue()
        for ip in job_addresses(cat):
            self._addresses.put(ip)

    def pending(self, svc: Service, *, after_start: bool) -> list[Job]:
        return [j for j in svc.jobs if j.after_start == after_start and not self.log.done(j.name)]

    def run_pending(self, svc: Service, *, after_start: bool, notify: Callable[[str], None] | None = None) -> list[str]:
        ran = []
        for job in self.pending(svc, after_start=after_start):
            if notify:
                notify(job.name)
            start = time.monotonic()
            self.run_one(svc, job)
            self.log.record(job.name, time.monotonic() - start)
            ran.append(job.name)
        return ran

    def run_one(self, svc: Service, job: Job) -> None:
        if job.kind == "keystone":
            if keystone_jobs.run(self.admin.conn(), self.cat, svc, job, self.secrets):
                self.admin.forget()  # the catalog changed: later calls need a token that shows it
            return
        if job.kind == "sql":
            user = db_user(svc)
            script = sql_script(svc.database, user, self.secrets[f"db_{user}"], svc.db_privileges)
            database = self.cat[job.in_service or svc.name].container
            self._podman(job, control.exec_args(database, ["mariadb"], stdin=True), stdin=script)
        elif job.kind == "run":
            env = {name: self.secrets[secret] for name, secret in job.env_secrets}
            ip = self._addresses.get()  # blocks while every job address is in use
            try:
                self._podman(job, run_args(self._compose()[svc.name], job, ip), env=env)
            finally:
                self._addresses.put(ip)
        elif job.kind == "exec":
            container = self.cat[job.in_service or svc.name].container
            self._podman(job, control.exec_args(container, job.argv))
        else:
            raise HotstackError(f"job {job.name}: unknown kind {job.kind!r}")

    def _podman(self, job: Job, args: list[str], *, stdin: str | None = None,
                env: dict[str, str] | None = None) -> None:
        log = self.cat.paths.logs / "jobs" / f"{job.name}.log"
        try:
            proc = podman.run(args, input=stdin, env=env, timeout=RUN_TIMEOUT_S, check=False)
        except CommandError as exc:
            raise HotstackError(f"job {job.name} failed: {exc.message}") from exc
        output = self.redact((proc.stdout or "") + (proc.stderr or ""))
        write_if_changed(log, f"$ podman {' '.join(args)}\n{output}", mode=0o600)
        if proc.returncode != 0:
            tail = "\n".join(output.strip().splitlines()[-30:])
            raise HotstackError(f"job {job.name} failed (exit {proc.returncode}):\n{tail}",
                                hint=f"full output in {log}; fix the cause and run `hotstack up` again")

    def redact(self, text: str) -> str:
        """Job output with every secret value masked (an SQL error may quote its statement)."""
        return redact.redact(text, self.secrets.values())

    def map_compute_host(self, timeout: float) -> str:
        """One attempt at mapping this host's nova-compute to a cell (for nova-compute's probe)."""
        compute = next(s for s in self.cat if s.probe.maps_cell)
        discover = next(j for j in compute.jobs if j.kind == "exec")
        host = self.cat.settings.nova.host
        container = self.cat[discover.in_service or compute.name].container
        if self.log.done(discover.name):  # host mappings live in the API database
            return f"{host} mapped to a cell (recorded)"
        for argv in (LIST_HOSTS, discover.argv, LIST_HOSTS):
            code, out = control.exec_in(container, argv, timeout=max(timeout, 60), check=False)
            if argv is LIST_HOSTS and code == 0 and host_listed(out, host):
                return f"{host} mapped to a cell"
        raise Miss(f"{host} is not mapped to a cell yet (nova-manage cell_v2 discover_hosts)")
