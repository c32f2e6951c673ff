"""The host's distribution family and what hotstack names per family: the packages it needs,
the command lines that find and install them, Open vSwitch's `ovs-ctl` and systemd unit, and
the qemu binary. The one source of truth for these: hotstack's steps and hints ask here, and
scripts/install-deps runs `python3 -m hotstack.cli.distro`, which prints the install commands
from this table (stdlib only: it runs before hotstack's dependencies are installed).

The family comes from /etc/os-release: ID, then each word of ID_LIKE in order —
  debian  Debian, Ubuntu and their derivatives (apt);
  fedora  Fedora (dnf);
  el      RHEL, CentOS Stream, AlmaLinux, Rocky, 9 or newer (dnf): Open vSwitch comes from the
          NFV SIG (CentOS) or the Fast Datapath repository (RHEL), libvirt's headers from CRB,
          the tests' browser from EPEL; there is no debootstrap (images.base: pull), and the
          guest image's UEFI loader is not looked for (its busybox comes via apt: not built there);
  other   anything else: hints name Debian's packages, install-deps refuses.
The dnf families' names are from their package sets, not from a run on such a host (docs say so).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hotstack.core import runner

Family = Literal["debian", "fedora", "el", "other"]
OS_RELEASE = (Path("/etc/os-release"), Path("/usr/lib/os-release"))
_FAMILY_OF = {"debian": "debian", "ubuntu": "debian", "fedora": "fedora", "rhel": "el", "centos": "el",
              "almalinux": "el", "rocky": "el"}
MIN_EL = 9
# Debian's openvswitch-common and Fedora's and EL's openvswitch packages all install it here.
OVS_CTL = "/usr/share/openvswitch/scripts/ovs-ctl"

_DNF_GUEST = ("dosfstools", "syslinux", "syslinux-nonlinux", "mtools")
# need -> family -> packages (a family without an entry has none for it, e.g. el's debootstrap)
PACKAGES: dict[str, dict[Family, tuple[str, ...]]] = {
    "podman": {"debian": ("podman",), "fedora": ("podman",), "el": ("podman",)},
    # crun fails on hybrid cgroups: hotstack uses runc there (containers/runtime.py)
    "runc": {"debian": ("runc",), "fedora": ("runc",), "el": ("runc",)},
    "container-tools": {
        # Debian 12's netavark (1.4) sets container networks up with iptables, which it does not pull in
        "debian": ("netavark", "aardvark-dns", "slirp4netns", "uidmap", "fuse-overlayfs", "iptables"),
        "fedora": ("netavark", "aardvark-dns", "slirp4netns", "shadow-utils", "fuse-overlayfs"),
        "el": ("netavark", "aardvark-dns", "slirp4netns", "shadow-utils", "fuse-overlayfs")},
    "openvswitch": {"debian": ("openvswitch-switch",), "fedora": ("openvswitch",), "el": ("openvswitch3.3",)},
    "host-network": {"debian": ("iproute2", "nftables"), "fedora": ("iproute", "nftables"),
                     "el": ("iproute", "nftables")},
    "libvirt": {"debian": ("libvirt-daemon-system",), "fedora": ("libvirt-daemon-kvm",),
                "el": ("libvirt-daemon-kvm",)},
    "qemu": {"debian": ("qemu-system-x86",), "fedora": ("qemu-kvm",), "el": ("qemu-kvm",)},
    "qemu-img": {"debian": ("qemu-utils",), "fedora": ("qemu-img",), "el": ("qemu-img",)},
    # UEFI firmware and its descriptors (/usr/share/qemu/firmware), read by libvirt and nova-compute
    "ovmf": {"debian": ("ovmf",), "fedora": ("edk2-ovmf",), "el": ("edk2-ovmf",)},
    # headers for building libvirt-python (pip)
    "libvirt-headers": {"debian": ("libvirt-dev", "pkg-config"), "fedora": ("libvirt-devel", "pkgconf-pkg-config"),
                        "el": ("libvirt-devel", "pkgconf-pkg-config")},
    "debootstrap": {"debian": ("debootstrap",), "fedora": ("debootstrap",)},  # the offline base image
    "guest-tools": {"debian": ("dosfstools", "syslinux", "syslinux-common", "mtools"), "fedora": _DNF_GUEST,
                    "el": _DNF_GUEST},
    # the guest image's UEFI boot loader (systemd-boot's EFI binary, no hooks); not looked for on EL,
    # where the guest image is not built (its busybox comes through apt)
    "guest-efi": {"debian": ("systemd-boot-efi",), "fedora": ("systemd-boot-unsigned",)},
    # named in hints only
    "zstd": {"debian": ("zstd",), "fedora": ("zstd",), "el": ("zstd",)},
    "nfs-server": {"debian": ("nfs-kernel-server",), "fedora": ("nfs-utils",), "el": ("nfs-utils",)},
    # the tests only
    "firewalld": {"debian": ("firewalld",), "fedora": ("firewalld",), "el": ("firewalld",)},
    "browser": {"debian": ("chromium", "chromium-driver"), "fedora": ("chromium", "chromedriver"),
                "el": ("chromium", "chromedriver")},
}
PRODUCT = ("podman", "runc", "container-tools", "openvswitch", "host-network", "libvirt", "qemu", "qemu-img",
           "ovmf", "libvirt-headers", "debootstrap", "guest-tools", "guest-efi")
# firewalld is left out where systemd runs: the package would enable and start it for the whole host
TESTS = ("browser", "firewalld")
NFV_REPO = "centos-release-nfv-openvswitch"  # CentOS's NFV SIG repository, from CentOS Extras


@dataclass(frozen=True)
class Distro:
    family: Family
    id: str = ""
    version_id: str = ""

    @property
    def ovs_ctl(self) -> str:
        return OVS_CTL

    @property
    def ovs_unit(self) -> str:
        return "openvswitch-switch" if self.family == "debian" else "openvswitch"

    @property
    def qemu(self) -> str:
        """The qemu system emulator for x86_64 guests (RHEL's is only reachable as qemu-kvm)."""
        return "/usr/libexec/qemu-kvm" if self.family == "el" else "/usr/bin/qemu-system-x86_64"

    def packages(self, needs: tuple[str, ...]) -> list[str]:
        family: Family = "debian" if self.family == "other" else self.family
        return list(dict.fromkeys(p for need in needs for p in PACKAGES[need].get(family, ())))

    def install_hint(self, *needs: str) -> str:
        names = " ".join(self.packages(needs))
        if not names:
            return f"{self.id} has no package for {' or '.join(needs)}"
        if self.family == "debian":
            return f"apt-get install {names}"
        if self.family in ("fedora", "el"):
            return f"dnf install {names}"
        return f"install the packages that provide them (Debian's names: {names})"

    def installed_query(self, packages: list[str]) -> list[str]:
        """Lists the installed ones of packages (unknown names are simply not listed)."""
        if self.family == "debian":
            return ["dpkg-query", "-W", "-f=${Package} ${Status}\\n", *packages]
        return ["rpm", "-q", "--qf", "%{NAME}\\n", *packages]

    def installed(self, packages: list[str], stdout: str) -> set[str]:
        """The installed packages, from the output of installed_query."""
        if self.family == "debian":
            lines = (line.split(" ", 1) for line in stdout.splitlines())
            found = {parts[0] for parts in lines if len(parts) == 2 and parts[1].strip() == "install ok installed"}
        else:  # rpm names an installed package alone, a missing one in a sentence
            found = {line.strip() for line in stdout.splitlines()}
        return found & set(packages)

    def install_commands(self, missing: list[str]) -> list[list[str]]:
        if not missing:
            return []
        if self.family == "debian":
            return [["apt-get", "update", "-q"],
                    ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
                     "--no-install-recommends", *missing]]
        dnf = ["dnf", "install", "-y", "--setopt=install_weak_deps=False"]
        if self.family == "fedora" or self.id == "rhel":  # RHEL's repositories are the subscription's: notes()
            return [[*dnf, *missing]]
        first = [[*dnf, NFV_REPO]] if any(p.startswith("openvswitch") for p in missing) else []
        return [*first, [*dnf, "--enablerepo=crb", *missing]]

    def notes(self) -> list[str]:
        """What install-deps cannot do by itself on this host."""
        if self.family == "el":
            notes = ["no debootstrap on this family: images.base pull (a registry must answer)",
                     "the tests' chromium and chromedriver come from EPEL (dnf install epel-release)"]
            if self.id == "rhel":
                notes.insert(0, "enable the fast-datapath and codeready-builder repositories first "
                                "(subscription-manager repos --enable ...)")
            return notes
        return []

    def unsupported(self) -> str | None:
        """Why install-deps cannot serve this host, or None."""
        if self.family == "other":
            return f"unknown distribution {self.id or '(no /etc/os-release)'}: install the packages by hand"
        major = self.version_id.split(".")[0]
        if self.family == "el" and major.isdigit() and int(major) < MIN_EL:
            return f"{self.id} {self.version_id} is older than {MIN_EL}: hotstack needs an EL {MIN_EL} or newer"
        return None


def parse_os_release(text: str) -> dict[str, str]:
    """os-release's KEY=value lines (values quoted or not); comments and junk are skipped."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            fields[key] = value
    return fields


def family_of(fields: dict[str, str]) -> Family:
    for word in [fields.get("ID", ""), *fields.get("ID_LIKE", "").split()]:
        if word.lower() in _FAMILY_OF:
            return _FAMILY_OF[word.lower()]  # type: ignore[return-value]
    return "other"


def detect(candidates: tuple[Path, ...] = OS_RELEASE) -> Distro:
    for path in candidates:
        try:
            fields = parse_os_release(path.read_text())
        except OSError:
            continue
        return Distro(family_of(fields), fields.get("ID", "").lower(), fields.get("VERSION_ID", ""))
    return Distro("other")


@functools.cache
def current() -> Distro:
    """This host's distribution, read on first use and kept."""
    return detect()


def hint(*needs: str) -> str:
    """How to install what provides these needs on this host, e.g. `dnf install runc`."""
    return current().install_hint(*needs)


def installed_packages(d: Distro, packages: list[str]) -> set[str]:
    """Which of packages this host has (one dpkg-query or rpm; it exits non-zero for a missing one)."""
    return d.installed(packages, runner.run(d.installed_query(packages), check=False, timeout=60).stdout)


def install_plan(d: Distro, *, tests: bool, systemd: bool,
                 installed: Callable[[Distro, list[str]], set[str]] | None = None,
                 ) -> tuple[list[list[str]], list[str]]:
    """(the commands that install what this host lacks, notes for the operator)."""
    notes = d.notes()
    needs = PRODUCT + (TESTS if tests else ())
    if tests and systemd:
        needs = tuple(n for n in needs if n != "firewalld")
        notes.append("not installing firewalld (systemd would start it on this host); its tests skip")
    packages = d.packages(needs)
    have = (installed or installed_packages)(d, packages)
    return d.install_commands([p for p in packages if p not in have]), notes
