"""Where host preparation acts: one explicit object, so tests can point every step elsewhere.

Defaults are the real host. Tests give a private ovsdb socket, a network namespace, libvirt's
test:///default driver and files under a temp dir; nothing then touches the host's config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Host:
    ovsdb: str = "unix:/run/openvswitch/db.sock"
    libvirt_uri: str = "qemu:///system"
    netns: str | None = None  # network namespace for addresses and nft (None: the host's own)
    system_bus: str | None = None  # D-Bus system bus address firewall-cmd talks to (None: the default)
    etc_hosts: Path = Path("/etc/hosts")
    exports_dir: Path = Path("/etc/exports.d")
    run_netns: Path = Path("/run/netns")
    proc: Path = Path("/proc")
    sys: Path = Path("/sys")
    start_daemons: bool = True  # start ovs/libvirt directly where they are down and no systemd
    wait_vswitchd: bool = True  # OVS transactions wait for ovs-vswitchd (False: bare ovsdb-server)
    mounts: bool = True  # bind mounts (local NFS, /run/netns); tests turn them off
    # QEMU's firmware descriptor directories (host/firmware.py), mounted into nova-compute
    qemu_firmware: tuple[Path, ...] = (Path("/usr/share/qemu/firmware"), Path("/etc/qemu/firmware"))
    kernel_modules: Path = Path("/lib/modules")  # absent on some container-like hosts

    @property
    def systemd(self) -> bool:
        """Is systemd PID 1? (Then daemons are the service manager's business, not ours.)"""
        try:
            return (self.proc / "1" / "comm").read_text().strip() == "systemd"
        except OSError:
            return False

    def kernel_modules_dir(self) -> str:
        """Its kernel modules directory (mounted into nova-compute), "" where it has none."""
        return str(self.kernel_modules) if self.kernel_modules.is_dir() else ""

    def kernel_has_filesystem(self, name: str) -> bool:
        try:
            text = (self.proc / "filesystems").read_text()
        except OSError:
            return False
        return any(line.split()[-1] == name for line in text.splitlines() if line.split())

    def kernel_has_module(self, name: str) -> bool:
        return (self.sys / "module" / name).is_dir()
