"""The systemd unit for lab hosts: `up` at boot, `down` at shutdown."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2

from hotstack.core import runner
from hotstack.core.fsutil import write_if_changed
from hotstack.core.paths import template_root

UNIT_NAME = "hotstack.service"


@dataclass(frozen=True)
class UnitPaths:
    unit_dir: Path = Path("/etc/systemd/system")
    systemd_runtime: Path = Path("/run/systemd/system")  # exists only when systemd is PID 1

    @property
    def unit_file(self) -> Path:
        return self.unit_dir / UNIT_NAME

    def systemd_running(self) -> bool:
        return self.systemd_runtime.is_dir()


def executable() -> str:
    """The absolute path of the installed `hotstack` script (systemd needs an absolute path)."""
    found = shutil.which("hotstack")
    return str(Path(found).resolve()) if found else f"{sys.executable} -m hotstack"


def render_unit(config_file: Path, exe: str) -> str:
    template = (template_root() / "systemd" / f"{UNIT_NAME}.j2").read_text()
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(template).render(config_file=str(config_file), executable=exe)


def install(paths: UnitPaths, config_file: Path) -> list[str]:
    """Write the unit and, where systemd runs, reload and enable it. Returns what was done."""
    done = []
    if write_if_changed(paths.unit_file, render_unit(config_file, executable())):
        done.append(f"wrote {paths.unit_file}")
    if paths.systemd_running():
        runner.run(["systemctl", "daemon-reload"])
        runner.run(["systemctl", "enable", UNIT_NAME])
        done.append(f"enabled {UNIT_NAME}")
    else:
        done.append("systemd is not running on this host: the unit is written but not enabled")
    return done


def uninstall(paths: UnitPaths) -> list[str]:
    done = []
    if paths.systemd_running() and paths.unit_file.exists():
        runner.run(["systemctl", "disable", UNIT_NAME], check=False)
    if paths.unit_file.exists():
        paths.unit_file.unlink()
        done.append(f"removed {paths.unit_file}")
        if paths.systemd_running():
            runner.run(["systemctl", "daemon-reload"])
    return done
