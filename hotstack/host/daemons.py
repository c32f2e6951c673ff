"""Host daemons hotstack relies on: Open vSwitch and libvirt.

Where systemd is PID 1 they are the service manager's business: a stopped daemon is reported
with the systemctl command to run. Without systemd (CI containers, minimal VMs) hotstack starts
them directly, the way their packages' scripts would, and says so.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from hotstack.core import distro, runner
from hotstack.core.errors import HotstackError
from hotstack.host.step import Step
from hotstack.host.system import Host


@dataclass(frozen=True)
class Daemon:
    name: str
    probe: Path  # a unix socket that answers once the daemon is up, or a pid file
    start: tuple[str, ...]
    unit: str  # the systemd unit, for the hint


def socket_answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def pidfile_alive(path: Path) -> bool:
    try:
        os.kill(int(path.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def is_up(daemon: Daemon) -> bool:
    return pidfile_alive(daemon.probe) if daemon.probe.suffix == ".pid" else socket_answers(daemon.probe)


def ovs_daemons(host: Host) -> list[Daemon]:
    rundir = Path(host.ovsdb.removeprefix("unix:")).parent
    here = distro.current()
    start = (here.ovs_ctl, "start", "--system-id=random")
    return [Daemon("ovsdb-server", Path(host.ovsdb.removeprefix("unix:")), start, here.ovs_unit),
            Daemon("ovs-vswitchd", rundir / "ovs-vswitchd.pid", start, here.ovs_unit)]


def libvirt_daemons() -> list[Daemon]:
    return [Daemon("virtlogd", Path("/run/libvirt/virtlogd-sock"), ("virtlogd", "-d"), "virtlogd"),
            Daemon("libvirtd", Path("/run/libvirt/libvirt-sock"), ("libvirtd", "-d"), "libvirtd")]


def relied_on(host: Host) -> list[Daemon]:
    """Every host daemon the cloud needs running: its dataplane and its hypervisor."""
    return ovs_daemons(host) + (libvirt_daemons() if host.libvirt_uri == "qemu:///system" else [])


def not_running(host: Host) -> list[str]:
    """Names of the host daemons the cloud relies on that are down (a few socket connects)."""
    return [d.name for d in relied_on(host) if not is_up(d)]


class Daemons(Step):
    """Start what is down (once per distinct start command); never stop anything on remove."""

    def __init__(self, step_id: str, daemons: list[Daemon], host: Host) -> None:
        self.id, self.daemons, self.host = step_id, daemons, host

    def describe(self) -> str:
        return "running: " + ", ".join(d.name for d in self.daemons)

    def check(self) -> list[str]:
        down = [d for d in self.daemons if not is_up(d)]
        if self.host.systemd:
            return [f"{d.name} is not running: systemctl start {d.unit}" for d in down]
        diffs = []
        for start in dict.fromkeys(d.start for d in down):
            names = ", ".join(d.name for d in down if d.start == start)
            diffs.append(f"start {names} (not running, no systemd: {' '.join(start)})")
        return diffs

    def apply(self) -> None:
        down = [d for d in self.daemons if not is_up(d)]
        if down and (self.host.systemd or not self.host.start_daemons):
            raise HotstackError(f"{', '.join(d.name for d in down)} not running",
                                hint=f"systemctl start {' '.join(sorted({d.unit for d in down}))}")
        started: set[tuple[str, ...]] = set()
        for daemon in down:
            if daemon.start not in started:
                runner.run(daemon.start, timeout=60, hint=f"start {daemon.name} by hand and look at its log")
                started.add(daemon.start)
            self._wait(daemon)

    def _wait(self, daemon: Daemon, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not is_up(daemon):
            if time.monotonic() > deadline:
                raise HotstackError(f"{daemon.name} was started but does not answer at {daemon.probe}")
            time.sleep(0.1)

    def remove(self) -> list[str]:
        return []
