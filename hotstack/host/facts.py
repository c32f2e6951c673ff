"""What host preparation detected, for render to resolve the `auto` settings.

Written to <state>/host-facts.json (hostfacts.FACTS_FILE): virt_type, nfs_mode, datapath_type,
runtime, firmware_dirs (the UEFI firmware descriptor directories nova-compute gets mounted),
kernel_modules (/lib/modules for nova-compute, "" on hosts without it).
Everything is re-detected on each run except the virt type, whose probe starts real guests
(seconds): its result is kept while libvirt's version and /dev/kvm stay the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hotstack.containers import runtime
from hotstack.core import fsutil
from hotstack.core.errors import HotstackError
from hotstack.core.hostfacts import FACTS_FILE, host_facts
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.host import firmware, nfs, ovs
from hotstack.host import libvirt as virt
from hotstack.host.step import Step
from hotstack.host.system import Host


def virt_facts(s: Settings, host: Host, cached: dict[str, Any]) -> dict[str, str]:
    if s.nova.virt_type != "auto":
        return {"virt_type": s.nova.virt_type, "virt_note": "set by nova.virt_type"}
    key = virt.probe_key(host.libvirt_uri)
    if cached.get("virt_probe_key") == key and cached.get("virt_type") in ("kvm", "qemu"):
        return {k: str(cached[k]) for k in ("virt_type", "virt_note", "virt_probe_key") if k in cached}
    kind, warning = virt.probe_virt_type(host.libvirt_uri)
    return {"virt_type": kind, "virt_note": warning or "KVM guests run here", "virt_probe_key": key}


def detect(s: Settings, paths: Paths, host: Host) -> dict[str, str]:
    mode, why = nfs.choose_mode(s, host)
    runtime_name = runtime.require(runtime.detect(host.proc / "self" / "mountinfo"))
    return {**virt_facts(s, host, host_facts(paths)), "nfs_mode": mode, "nfs_note": why,
            "datapath_type": ovs.datapath_type(host), "runtime": runtime_name,
            "firmware_dirs": " ".join(map(str, firmware.present_dirs(host.qemu_firmware))),
            "kernel_modules": host.kernel_modules_dir()}


class HostFacts(Step):
    id = "host-facts"

    def __init__(self, s: Settings, paths: Paths, host: Host,
                 detector: Callable[[Settings, Paths, Host], dict[str, str]] = detect) -> None:
        self.s, self.paths, self.host, self.detector = s, paths, host, detector
        self.path: Path = paths.state / FACTS_FILE
        self._last: dict[str, str] | None = None  # what check() detected, reused by apply()

    def describe(self) -> str:
        return f"detected host facts in {self.path}"

    def _wanted(self) -> dict[str, str]:
        self._last = self.detector(self.s, self.paths, self.host)
        return self._last

    def check(self) -> list[str]:
        try:
            wanted = self._wanted()
        except HotstackError as exc:
            return [f"detect the host facts ({exc.message.splitlines()[0]})"]
        current = host_facts(self.paths)
        if current == wanted:
            return []
        return [f"{key}: {wanted[key]}" + (f" ({wanted[note]})" if note in wanted else "")
                for key, note in (("virt_type", "virt_note"), ("nfs_mode", "nfs_note"),
                                  ("datapath_type", ""), ("runtime", ""), ("firmware_dirs", ""),
                                  ("kernel_modules", ""))
                if current.get(key) != wanted.get(key)] or ["record the host facts"]

    def apply(self) -> None:
        facts = self._last or self._wanted()
        fsutil.write_if_changed(self.path, json.dumps(facts, indent=2, sort_keys=True) + "\n")

    def remove(self) -> list[str]:
        if not self.path.exists():
            return []
        self.path.unlink()
        return [f"removed {self.path}"]
