"""Node one's libvirtd listening for the other nodes' live migrations: TLS on 16514 at its
address on the pods' underlay, with a certificate from the deployment's CA (client certificates
checked), so only nodes holding one may drive it.

Without systemd hotstack runs libvirtd itself (host/daemons.py): this step restarts it with
`--listen` and a config file of its own (the host's libvirtd.conf with the listen keys set), and
back without them on remove. Guests keep running across the restart (qemu is not libvirtd's
child for long). Under systemd the listener is the unit's business (`libvirtd-tls.socket`); the
step says so instead of touching it.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

from hotstack.core import runner
from hotstack.core.errors import HotstackError
from hotstack.core.fsutil import write_if_changed
from hotstack.host.daemons import socket_answers
from hotstack.host.step import Step
from hotstack.host.system import Host

TLS_PORT = 16514
QEMU_MIGRATION_PORTS = (49152, 49215)  # qemu's live migration stream: libvirt's default range
KEYS = ("listen_tls", "listen_tcp", "listen_addr", "key_file", "cert_file", "ca_file")
HOST_CONF = Path("/etc/libvirt/libvirtd.conf")
PIDFILE = Path("/run/libvirtd.pid")
SOCKET = Path("/run/libvirt/libvirt-sock")


def listen_conf(base: str, address: str, pki: Path, key: str = "server.key", cert: str = "server.crt") -> str:
    """The host's settings without the listen keys, then hotstack's."""
    kept = [line for line in base.splitlines() if line.split("=")[0].strip() not in KEYS]
    return "\n".join([*kept, "# hotstack: node one's migration listener (host/libvirt_listen.py)",
                      "listen_tls = 1", "listen_tcp = 0", f'listen_addr = "{address}"',
                      f'key_file = "{pki / key}"', f'cert_file = "{pki / cert}"',
                      f'ca_file = "{pki / "ca.crt"}"']) + "\n"


def answers(address: str, port: int = TLS_PORT) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


class LibvirtListen(Step):
    id = "libvirt-listen"
    fix = "look at libvirtd's log (journalctl -u libvirtd, or /var/log/libvirt/libvirtd.log)"

    def __init__(self, host: Host, conf: Path, address: str, pki: Path) -> None:
        self.host, self.conf, self.address, self.pki = host, conf, address, pki

    def describe(self) -> str:
        return f"libvirtd listening for migrations: TLS on {self.address}:{TLS_PORT}"

    def _wanted(self) -> str:
        base = HOST_CONF.read_text() if HOST_CONF.exists() else ""
        return listen_conf(base, self.address, self.pki)

    def check(self) -> list[str]:
        if self.host.systemd:
            return [] if answers(self.address) else [
                f"libvirtd does not listen on {self.address}:{TLS_PORT}: enable libvirtd-tls.socket "
                f"with listen_addr {self.address} and the certificates in {self.pki}"]
        current = self.conf.read_text() if self.conf.exists() else None
        if current == self._wanted() and answers(self.address):
            return []
        if (other := running_conf()) is not None and other != self.conf:
            raise HotstackError(f"libvirtd runs with another deployment's migration listener ({other}): "
                                "one deployment per host can have pod nodes that migrate",
                                hint="remove that deployment's pod nodes first (hotstack node remove)")
        return [f"restart libvirtd with --listen (TLS on {self.address}:{TLS_PORT}, {self.conf})"]

    def apply(self) -> None:
        if self.host.systemd:
            raise HotstackError(self.check()[0], hint="systemctl enable --now libvirtd-tls.socket")
        write_if_changed(self.conf, self._wanted(), mode=0o644)
        _restart(["libvirtd", "-d", "--listen", "-f", str(self.conf)])
        deadline = time.monotonic() + 15
        while not answers(self.address):
            if time.monotonic() > deadline:
                raise HotstackError(f"libvirtd restarted but does not listen on {self.address}:{TLS_PORT}")
            time.sleep(0.2)

    def remove(self) -> list[str]:
        if self.host.systemd or not self.conf.exists():
            return []
        _restart(["libvirtd", "-d"])
        self.conf.unlink()
        return [f"restarted libvirtd without its migration listener (removed {self.conf})"]


def running_conf() -> Path | None:
    """The config file the running libvirtd was started with (`-f`), when hotstack gave one."""
    try:
        argv = Path(f"/proc/{int(PIDFILE.read_text().strip())}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    found = [a.decode() for a in argv]
    return Path(found[found.index("-f") + 1]) if "-f" in found[:-1] else None


def _restart(argv: list[str]) -> None:
    try:
        pid = int(PIDFILE.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        raise HotstackError(f"libvirtd (pid {pid}) did not stop within 15 s")
    except (FileNotFoundError, ValueError, ProcessLookupError):
        pass
    runner.run(argv, timeout=60)
    deadline = time.monotonic() + 15
    while not socket_answers(SOCKET):
        if time.monotonic() > deadline:
            raise HotstackError(f"libvirtd started but does not answer at {SOCKET}")
        time.sleep(0.1)
