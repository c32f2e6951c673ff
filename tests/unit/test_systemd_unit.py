"""The unit file: rendered with absolute paths, accepted by systemd-analyze, installed and removed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hotstack.core import runner
from hotstack.core.distro import Distro
from hotstack.core.settings import load
from hotstack.host.systemd import UnitPaths, install, render_unit, uninstall


def test_unit_runs_up_and_down_as_a_oneshot() -> None:
    text = render_unit(Path("/etc/hotstack/hotstack.yaml"), "/usr/local/bin/hotstack", Distro("debian"))
    assert "Type=oneshot" in text and "RemainAfterExit=yes" in text
    assert "ExecStart=/usr/local/bin/hotstack up" in text and "ExecStop=/usr/local/bin/hotstack down" in text
    assert "After=network-online.target openvswitch-switch.service libvirtd.service" in text


def test_unit_requires_the_distributions_open_vswitch_unit() -> None:
    fedora = render_unit(Path("/etc/hotstack/hotstack.yaml"), "/usr/bin/hotstack", Distro("fedora", "fedora", "41"))
    assert "Requires=openvswitch.service\n" in fedora and "After=network-online.target openvswitch.service" in fedora
    debian = render_unit(Path("/etc/hotstack/hotstack.yaml"), "/usr/bin/hotstack", Distro("debian", "debian", "12"))
    assert "Requires=openvswitch-switch.service\n" in debian


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    exe = tmp_path / "hotstack"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    unit = tmp_path / "hotstack.service"
    # Requires= names a unit this host may not have; verify the rest of the file strictly.
    text = render_unit(tmp_path / "hotstack.yaml", str(exe), Distro("debian"))
    unit.write_text(text.replace("Requires=openvswitch-switch.service\n", ""))
    result = runner.run(["systemd-analyze", "verify", "--man=no", str(unit)], check=False)
    problems = [line for line in (result.stderr + result.stdout).splitlines()
                if "hotstack.service" in line and "not found" not in line]
    assert result.returncode == 0 and not problems, result.stderr


def test_install_and_uninstall_without_systemd(tmp_path: Path) -> None:
    settings = load(None, {"network.mtu": "1400", "data_dir": str(tmp_path / "data")}, environ={})
    paths = UnitPaths(unit_dir=tmp_path / "units", settings_dir=tmp_path / "etc", systemd_runtime=tmp_path / "no")
    done = install(paths, settings)
    assert paths.unit_file.exists() and any("not enabled" in d for d in done)
    assert install(paths, settings) == [done[-1]]  # unchanged files are not rewritten
    assert uninstall(paths) == [f"removed {paths.unit_file}", f"removed {paths.settings_file}"]
    assert not paths.unit_file.exists() and not paths.settings_file.exists()


def test_the_unit_carries_the_settings_given_without_a_config_file(tmp_path: Path) -> None:
    """No config file anywhere: the unit gets a settings file of its own, --set values included."""
    settings = load(None, {"network.mtu": "1400", "data_dir": str(tmp_path / "data")}, environ={})
    paths = UnitPaths(unit_dir=tmp_path / "units", settings_dir=tmp_path / "etc", systemd_runtime=tmp_path / "no")
    install(paths, settings)
    assert f"Environment=HOTSTACK_CONFIG={paths.settings_file}" in paths.unit_file.read_text()
    again = load(paths.settings_file, {}, environ={})  # what `up` at boot reads
    assert again == settings and again.network.mtu == 1400


def test_a_second_deployment_gets_its_own_unit() -> None:
    assert UnitPaths().unit_name == "hotstack.service"
    other = UnitPaths(deployment="e2e")
    assert other.unit_name == "hotstack-e2e.service" and other.settings_file.name == "hotstack-e2e.unit.yaml"
