"""The systemd unit for lab hosts: `up` at boot, `down` at shutdown.

The unit runs with a settings file written at install time from the effective settings (the
config file, HOTSTACK_* variables and --set flags merged), so it works on a host with no config
file and carries every setting the user gave. One unit per deployment, named after it."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

from hotstack.core import distro, runner
from hotstack.core.fsutil import write_if_changed
from hotstack.core.paths import template_root
from hotstack.core.settings import Settings, dump

DEFAULT_NAME = "hotstack"


def unit_stem(deployment: str) -> str:
    """hotstack for the default deployment, hotstack-NAME for any other."""
    return DEFAULT_NAME if deployment == DEFAULT_NAME else f"{DEFAULT_NAME}-{deployment}"


@dataclass(frozen=True)
class UnitPaths:
    deployment: str = DEFAULT_NAME
    unit_dir: Path = Path("/etc/systemd/system")
    settings_dir: Path = Path("/etc/hotstack")
    systemd_runtime: Path = Path("/run/systemd/system")  # exists only when systemd is PID 1

    @property
    def unit_name(self) -> str:
        return f"{unit_stem(self.deployment)}.service"

    @property
    def unit_file(self) -> Path:
        return self.unit_dir / self.unit_name

    @property
    def settings_file(self) -> Path:
        return self.settings_dir / f"{unit_stem(self.deployment)}.unit.yaml"

    def systemd_running(self) -> bool:
        return self.systemd_runtime.is_dir()


def executable() -> str:
    """The absolute path of the installed `hotstack` script (systemd needs an absolute path)."""
    found = shutil.which("hotstack")
    return str(Path(found).resolve()) if found else f"{sys.executable} -m hotstack"


def render_unit(config_file: Path, exe: str, host: distro.Distro | None = None) -> str:
    template = (template_root() / "systemd" / "hotstack.service.j2").read_text()
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    ovs_unit = (host or distro.current()).ovs_unit  # Debian's openvswitch-switch, elsewhere openvswitch
    return env.from_string(template).render(config_file=str(config_file), executable=exe, ovs_unit=ovs_unit)


def settings_text(settings: Settings) -> str:
    return "# written by `hotstack systemd install`: the settings the unit runs with\n" + \
        yaml.safe_dump(dump(settings), sort_keys=False)


def install(paths: UnitPaths, settings: Settings) -> list[str]:
    """Write the settings file and the unit and, where systemd runs, reload and enable it.
    Returns what was done."""
    done = []
    if write_if_changed(paths.settings_file, settings_text(settings)):
        done.append(f"wrote {paths.settings_file}")
    if write_if_changed(paths.unit_file, render_unit(paths.settings_file, executable())):
        done.append(f"wrote {paths.unit_file}")
    if paths.systemd_running():
        runner.run(["systemctl", "daemon-reload"])
        runner.run(["systemctl", "enable", paths.unit_name])
        done.append(f"enabled {paths.unit_name}")
    else:
        done.append("systemd is not running on this host: the unit is written but not enabled")
    return done


def uninstall(paths: UnitPaths) -> list[str]:
    done = []
    if paths.systemd_running() and paths.unit_file.exists():
        runner.run(["systemctl", "disable", paths.unit_name], check=False)
    if paths.unit_file.exists():
        paths.unit_file.unlink()
        done.append(f"removed {paths.unit_file}")
        if paths.systemd_running():
            runner.run(["systemctl", "daemon-reload"])
    if paths.settings_file.exists():
        paths.settings_file.unlink()
        done.append(f"removed {paths.settings_file}")
    return done
