"""The distribution facts: the family from os-release files (real files in a temp dir), the
package map, and the command lines install-deps runs — checked here because no Fedora or EL
host (nor mirror) is reachable from the test machine. The script itself runs once, against
stub `rpm` and `dnf` programs."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hotstack.cli import distro as distro_cli
from hotstack.core import distro
from hotstack.core.distro import PACKAGES, PRODUCT, TESTS, Distro, install_plan

ROOT = Path(__file__).resolve().parents[2]

# Trimmed from each distribution's own /etc/os-release.
OS_RELEASES = {
    "debian12": ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n', "debian", "debian"),
    "ubuntu2404": ('NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n', "debian", "ubuntu"),
    "fedora41": ('NAME="Fedora Linux"\nVERSION_ID=41\nID=fedora\n# a comment\nVARIANT_ID=server\n', "fedora",
                 "fedora"),
    "centos9": ('NAME="CentOS Stream"\nVERSION_ID="9"\nID="centos"\nID_LIKE="rhel fedora"\n', "el", "centos"),
    "rhel94": ('NAME="Red Hat Enterprise Linux"\nVERSION_ID="9.4"\nID="rhel"\nID_LIKE="fedora"\n', "el", "rhel"),
    "alma9": ('NAME="AlmaLinux"\nVERSION_ID="9.5"\nID="almalinux"\nID_LIKE="rhel centos fedora"\n', "el", "almalinux"),
    "rocky9": ("NAME='Rocky Linux'\nVERSION_ID='9.5'\nID='rocky'\nID_LIKE='rhel centos fedora'\n", "el", "rocky"),
    "arch": ("NAME=\"Arch Linux\"\nID=arch\n", "other", "arch"),
}


def os_release(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.os-release"
    path.write_text(OS_RELEASES[name][0])
    return path


@pytest.mark.parametrize("name", sorted(OS_RELEASES))
def test_family_from_id_then_id_like(tmp_path: Path, name: str) -> None:
    found = distro.detect((os_release(tmp_path, name),))
    assert (found.family, found.id) == OS_RELEASES[name][1:]


def test_usr_lib_os_release_is_the_fallback_and_none_is_other(tmp_path: Path) -> None:
    assert distro.detect((tmp_path / "none", os_release(tmp_path, "fedora41"))).family == "fedora"
    assert distro.detect((tmp_path / "none",)) == Distro("other")


def test_every_need_has_debian_and_fedora_packages_and_el_lacks_only_debootstrap_and_guest_efi() -> None:
    for need, families in PACKAGES.items():
        assert families.get("debian") and families.get("fedora"), need
        assert bool(families.get("el")) == (need not in ("debootstrap", "guest-efi")), need
    assert set(PRODUCT + TESTS) <= set(PACKAGES)


DEBIAN_ONLY = {"uidmap", "openvswitch-switch", "iproute2", "libvirt-daemon-system", "qemu-system-x86", "qemu-utils",
               "libvirt-dev", "pkg-config", "syslinux-common", "chromium-driver", "nfs-kernel-server", "ovmf",
               "systemd-boot-efi"}


@pytest.mark.parametrize(("family", "extra"), [("fedora", {"debootstrap"}), ("el", set())])
def test_dnf_families_name_their_own_packages(family: distro.Family, extra: set[str]) -> None:
    names = set(Distro(family).packages(PRODUCT + TESTS))
    assert not names & DEBIAN_ONLY
    assert {"podman", "runc", "qemu-kvm", "qemu-img", "libvirt-daemon-kvm", "libvirt-devel", "iproute",
            "shadow-utils", "syslinux-nonlinux", "chromedriver", "edk2-ovmf"} <= names
    assert ("openvswitch" if family == "fedora" else "openvswitch3.3") in names
    assert ("debootstrap" in names) == ("systemd-boot-unsigned" in names) == bool(extra)


def test_debian_keeps_the_list_install_deps_always_had() -> None:
    # iptables since 2026-12-02: a fresh Debian 12 lacks it, and its netavark 1.4 runs it for every network
    assert Distro("debian").packages(PRODUCT) == [
        "podman", "runc", "netavark", "aardvark-dns", "slirp4netns", "uidmap", "fuse-overlayfs", "iptables",
        "openvswitch-switch", "iproute2", "nftables", "libvirt-daemon-system", "qemu-system-x86", "qemu-utils",
        "ovmf", "libvirt-dev", "pkg-config", "debootstrap", "dosfstools", "syslinux", "syslinux-common", "mtools",
        "systemd-boot-efi"]


def test_host_paths_and_units_per_family() -> None:
    debian, fedora, el = Distro("debian"), Distro("fedora"), Distro("el", "rhel", "9.4")
    assert debian.ovs_ctl == fedora.ovs_ctl == el.ovs_ctl == "/usr/share/openvswitch/scripts/ovs-ctl"
    assert (debian.ovs_unit, fedora.ovs_unit, el.ovs_unit) == ("openvswitch-switch", "openvswitch", "openvswitch")
    assert (debian.qemu, fedora.qemu, el.qemu) == ("/usr/bin/qemu-system-x86_64", "/usr/bin/qemu-system-x86_64",
                                                   "/usr/libexec/qemu-kvm")


def test_hints_name_the_package_manager_and_the_packages() -> None:
    assert Distro("debian").install_hint("nfs-server") == "apt-get install nfs-kernel-server"
    assert Distro("fedora").install_hint("guest-tools", "qemu-img") == \
        "dnf install dosfstools syslinux syslinux-nonlinux mtools qemu-img"
    assert Distro("el", "centos", "9").install_hint("debootstrap") == "centos has no package for debootstrap"
    assert "Debian's names: runc" in Distro("other", "arch").install_hint("runc")


def test_installed_is_parsed_from_dpkg_query_and_rpm() -> None:
    debian = Distro("debian")
    assert debian.installed_query(["podman", "runc"]) == ["dpkg-query", "-W", "-f=${Package} ${Status}\\n",
                                                          "podman", "runc"]
    dpkg = "podman install ok installed\nrunc deinstall ok config-files\nmtools install ok installed\n"
    assert debian.installed(["podman", "runc"], dpkg) == {"podman"}
    fedora = Distro("fedora")
    assert fedora.installed_query(["podman", "runc"]) == ["rpm", "-q", "--qf", "%{NAME}\\n", "podman", "runc"]
    assert fedora.installed(["podman", "runc"], "podman\npackage runc is not installed\n") == {"podman"}


def test_install_commands_per_family() -> None:
    assert Distro("debian").install_commands([]) == []
    assert Distro("debian").install_commands(["podman"]) == [
        ["apt-get", "update", "-q"],
        ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "--no-install-recommends",
         "podman"]]
    dnf = ["dnf", "install", "-y", "--setopt=install_weak_deps=False"]
    assert Distro("fedora").install_commands(["podman", "openvswitch"]) == [[*dnf, "podman", "openvswitch"]]
    assert Distro("el", "centos", "9").install_commands(["openvswitch3.3", "libvirt-devel"]) == [
        [*dnf, "centos-release-nfv-openvswitch"], [*dnf, "--enablerepo=crb", "openvswitch3.3", "libvirt-devel"]]
    assert Distro("el", "centos", "9").install_commands(["podman"]) == [[*dnf, "--enablerepo=crb", "podman"]]
    assert Distro("el", "rhel", "9.4").install_commands(["openvswitch3.3"]) == [[*dnf, "openvswitch3.3"]]
    assert "fast-datapath" in Distro("el", "rhel", "9.4").notes()[0]


def test_plan_installs_only_what_is_missing_and_firewalld_only_without_systemd() -> None:
    fedora = Distro("fedora", "fedora", "41")

    def have_all_but(*missing: str) -> Callable[[Distro, list[str]], set[str]]:
        return lambda d, packages: set(packages) - set(missing)

    commands, notes = install_plan(fedora, tests=False, systemd=True, installed=have_all_but("runc", "mtools"))
    assert commands == [["dnf", "install", "-y", "--setopt=install_weak_deps=False", "runc", "mtools"]]
    assert notes == []
    commands, notes = install_plan(fedora, tests=True, systemd=True, installed=have_all_but("firewalld", "chromium"))
    assert commands[0][-1:] == ["chromium"] and "not installing firewalld" in notes[0]
    commands, _ = install_plan(fedora, tests=True, systemd=False, installed=have_all_but("firewalld"))
    assert commands[0][-1:] == ["firewalld"]
    assert install_plan(fedora, tests=True, systemd=False, installed=have_all_but()) == ([], [])


def test_the_plan_command_prints_shell_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distro, "installed_packages", lambda d, packages: {"podman"})
    monkeypatch.setattr(distro_cli, "SYSTEMD_RUNS", tmp_path / "no-systemd")
    assert distro_cli.main(["install-plan", "--os-release", str(os_release(tmp_path, "centos9"))]) == 0
    out, err = capsys.readouterr()
    lines = [shlex.split(line) for line in out.splitlines()]
    assert lines[0][-1] == "centos-release-nfv-openvswitch" and "podman" not in lines[1] and "runc" in lines[1]
    assert "note: no debootstrap" in err
    assert distro_cli.main(["install-plan", "--os-release", str(os_release(tmp_path, "arch"))]) == 2
    assert "unknown distribution arch" in capsys.readouterr().err


def test_el8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "el8"
    path.write_text('ID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="8"\n')
    assert "older than 9" in str(distro.detect((path,)).unsupported())


def test_install_deps_runs_the_plan_on_a_dnf_host(tmp_path: Path) -> None:
    """scripts/install-deps end to end on a Fedora os-release, with stub rpm (nothing installed)
    and dnf (records its arguments): it runs exactly the commands the plan prints."""
    stubs, log = tmp_path / "bin", tmp_path / "dnf.log"
    stubs.mkdir()
    (stubs / "rpm").write_text('#!/bin/sh\nfor p in "$@"; do echo "package $p is not installed"; done\nexit 1\n')
    (stubs / "dnf").write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:{Path(sys.executable).parent}:/usr/bin:/bin"}
    fedora = os_release(tmp_path, "fedora41")
    proc = subprocess.run([str(ROOT / "scripts" / "install-deps"), "--os-release", str(fedora)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    packages = Distro("fedora").packages(PRODUCT)
    assert log.read_text() == "install -y --setopt=install_weak_deps=False " + " ".join(packages) + "\n"
    assert proc.stdout.startswith("+ dnf install -y")
