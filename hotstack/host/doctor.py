"""doctor: read-only checks of the host, each a finding with a level and the fix."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from hotstack.catalog import IMAGE_REPOSITORY, Catalog
from hotstack.containers import podman, runtime
from hotstack.core import distro
from hotstack.core.errors import HotstackError
from hotstack.core.hostfacts import firmware_dirs, host_facts
from hotstack.host import daemons, facts, firmware, listeners, net, nfs, ovs
from hotstack.host.fwpolicy import api_ports
from hotstack.host.system import Host

GB = 1024**3
HOTSTACK_OWNERS = ("conmon", "haproxy", "dnsmasq", "rootlessport", "netavark", "podman")


@dataclass(frozen=True)
class Finding:
    check: str
    level: str  # ok | warn | fail
    message: str
    fix: str = ""


Check = Callable[[Catalog, Host], list[Finding]]


def virtualization(cat: Catalog, host: Host) -> list[Finding]:
    s, p = cat.settings, cat.paths
    try:
        found = facts.virt_facts(s, host, host_facts(p))
    except HotstackError as exc:
        return [Finding("virtualization", "warn", f"cannot probe: {exc.message}", "run `hotstack prepare`")]
    if found["virt_type"] == "kvm":
        return [Finding("virtualization", "ok", f"kvm ({found.get('virt_note', '')})")]
    return [Finding("virtualization", "warn", f"qemu: {found.get('virt_note', '')}",
                    "enable (nested) KVM for fast guests; hotstack works with qemu, only slower")]


def podman_runtime(cat: Catalog, host: Host) -> list[Finding]:
    if not podman.available():
        return [Finding("podman-runtime", "fail", "podman is not installed", distro.hint("podman"))]
    version = podman.run(["version", "--format", "{{.Client.Version}}"], check=False).stdout.strip()
    policy = runtime.detect(host.proc / "self/mountinfo")
    try:
        name, why = runtime.require(policy), policy.why
    except HotstackError as exc:
        return [Finding("podman-runtime", "fail", f"podman {version}: {exc.message}", exc.hint or "")]
    return [Finding("podman-runtime", "ok", f"podman {version}, runtime {name} ({why})"), *_container_starts()]


def _container_starts() -> list[Finding]:
    """Start a throw-away container from a hotstack image, when one exists already."""
    images = podman.run(["images", "--filter", f"reference={IMAGE_REPOSITORY}/*", "--format",
                         "{{.Repository}}:{{.Tag}}"], check=False).stdout.split()
    if not images:
        return [Finding("container", "ok", "no hotstack image yet to start a test container with")]
    proc = podman.run(["run", "--rm", "--network", "none", images[-1], "true"], check=False, timeout=60)
    if proc.returncode != 0:
        return [Finding("container", "fail", f"a container of {images[-1]} does not start: "
                        f"{proc.stderr.strip()[-200:]}", "check the runtime and limits above")]
    return [Finding("container", "ok", f"a container of {images[-1]} starts and exits cleanly")]


def ports_free(cat: Catalog, host: Host) -> list[Finding]:
    s = cat.settings
    brex = str(s.network.brex_ip)
    found, owner = listeners.listeners(host.proc), listeners.owners(host.proc)
    wanted = [(port, "tcp") for port in api_ports(cat)] + [(s.ports.dns, "udp")]
    busy, ours = [], 0
    for port, proto in wanted:
        for lst in listeners.on(brex, port, proto, found):
            comm = owner.get(lst.inode, "?")
            if comm in HOTSTACK_OWNERS:
                ours += 1
            else:
                busy.append(f"{proto}/{port} on {lst.address} by {comm}")
    if busy:
        return [Finding("ports", "fail", "taken on brex_ip: " + ", ".join(busy),
                        "stop those services or change ports.* / network.brex_ip")]
    note = f" ({ours} held by hotstack's containers)" if ours else ""
    return [Finding("ports", "ok", f"{len(wanted)} API ports free on {brex}{note}")]


def networks(cat: Catalog, host: Host) -> list[Finding]:
    s = cat.settings
    with net.netlink(host) as ipr:
        found = net.collisions(s, net.addresses(ipr), net.routes(ipr))
    if found:
        return [Finding("networks", "fail", f"{key}: {what}", f"choose another {key}") for key, what in found]
    return [Finding("networks", "ok", f"{s.network.container_cidr} and {s.network.provider_cidr} "
                    "are used by nothing but hotstack")]


def hostname(cat: Catalog, host: Host) -> list[Finding]:
    name = socket.gethostname()
    try:
        socket.getaddrinfo(name, None)
    except OSError:
        return [Finding("hostname", "fail", f"{name} does not resolve",
                        f"add `127.0.1.1 {name}` to /etc/hosts")]
    return [Finding("hostname", "ok", f"{name} resolves")]


def resources(cat: Catalog, host: Host) -> list[Finding]:
    s = cat.settings
    where = next(d for d in (s.data_dir, *s.data_dir.parents) if d.exists())
    free = shutil.disk_usage(where).free
    mem = next(int(line.split()[1]) * 1024 for line in (host.proc / "meminfo").read_text().splitlines()
               if line.startswith("MemTotal:"))
    disk = Finding("disk", "ok" if free >= 30 * GB else "warn", f"{free / GB:.0f} GB free under {where}",
                   "" if free >= 30 * GB else "images and volumes need ~30 GB: free space or move data_dir")
    memory = Finding("memory", "ok" if mem >= 8 * GB else "warn", f"{mem / GB:.1f} GB memory",
                     "" if mem >= 8 * GB else "the control plane alone uses ~3 GB; 8 GB or more is advised")
    return [disk, memory]


def daemons_up(cat: Catalog, host: Host) -> list[Finding]:
    found = []
    for name, group, fix in (("ovs", daemons.ovs_daemons(host), "hotstack prepare starts it"),
                             ("libvirt", daemons.libvirt_daemons(), "hotstack prepare starts it")):
        down = [d.name for d in group if not daemons.is_up(d)]
        found.append(Finding(name, "warn" if down else "ok",
                             f"not running: {', '.join(down)}" if down else "running and reachable",
                             fix if down else ""))
    return found


def kernel(cat: Catalog, host: Host) -> list[Finding]:
    s = cat.settings
    dp = ovs.datapath_type(host)
    mode, why = nfs.choose_mode(s, host)
    return [
        Finding("kernel-ovs", "ok", "openvswitch module: kernel datapath (system)" if dp == "system"
                else "no openvswitch kernel module: userspace datapath (netdev)"),
        Finding("kernel-nfs", "ok", f"cinder NFS mode {mode}: {why}"),
    ]


def uefi_firmware(cat: Catalog, host: Host) -> list[Finding]:
    """UEFI guests (images with hw_firmware_type=uefi) need the firmware and nova-compute seeing
    its descriptors; BIOS guests do not, so this only warns."""
    found = firmware.plain_uefi(firmware.descriptors(host.qemu_firmware))
    if found is None:
        return [Finding("uefi-firmware", "warn", "no UEFI firmware for q35 guests in "
                        f"{', '.join(map(str, host.qemu_firmware))}: images with hw_firmware_type=uefi fail",
                        f"{distro.hint('ovmf')}, then `hotstack prepare` and `hotstack up`")]
    if missing := firmware.missing_files(found):
        return [Finding("uefi-firmware", "warn", f"{found.descriptor} names missing {', '.join(map(str, missing))}",
                        f"reinstall the firmware ({distro.hint('ovmf')})")]
    recorded = host_facts(cat.paths)
    unseen = [str(d) for d in firmware.present_dirs(host.qemu_firmware) if str(d) not in firmware_dirs(cat.paths)]
    if recorded and unseen:
        return [Finding("uefi-firmware", "warn", f"nova-compute does not mount {', '.join(unseen)} yet",
                        "run `hotstack prepare`, then `hotstack up`")]
    return [Finding("uefi-firmware", "ok", f"UEFI for q35 guests: {found.code} ({found.descriptor.name})")]


CHECKS: tuple[Check, ...] = (virtualization, podman_runtime, ports_free, networks, hostname,
                             resources, daemons_up, kernel, uefi_firmware)


def run(cat: Catalog, host: Host | None = None, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every check but those named in `skip`; a broken check becomes a failed finding."""
    host = host or Host()
    found: list[Finding] = []
    for check in (c for c in CHECKS if c.__name__ not in skip):
        try:
            found += check(cat, host)
        except Exception as exc:  # a broken check is itself a finding, never a crash
            found.append(Finding(check.__name__, "fail", f"check failed: {exc}", "report this as a bug"))
    return {"ok": all(f.level != "fail" for f in found), "findings": [asdict(f) for f in found]}

