"""What host preparation detected, read back: the `auto` settings resolved for this host.

`prepare` writes <data_dir>/state/host-facts.json (host/facts.py); the catalog and the
templates read it here, so both render the same choices.
"""

from __future__ import annotations

import json
from typing import Any

from hotstack.core.paths import Paths
from hotstack.core.settings import Settings

FACTS_FILE = "host-facts.json"


def host_facts(paths: Paths) -> dict[str, Any]:
    """What host preparation detected (virt type, NFS mode, datapath); empty before `prepare`."""
    try:
        data = json.loads((paths.state / FACTS_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def kernel_modules(paths: Paths) -> str:
    """The host's kernel modules directory, mounted into nova-compute; "" where the host has none."""
    return str(host_facts(paths).get("kernel_modules", ""))


def resolved(settings: Settings, paths: Paths) -> dict[str, str]:
    """Settings whose `auto` is decided by the host; before detection, this machine kind's safe choice."""
    facts = host_facts(paths)
    virt = settings.nova.virt_type
    nfs = settings.cinder.nfs_mode
    return {
        "virt_type": virt if virt != "auto" else str(facts.get("virt_type", "qemu")),
        "nfs_mode": nfs if nfs != "auto" else str(facts.get("nfs_mode", "local")),
        "datapath_type": str(facts.get("datapath_type", "netdev")),
    }


def firmware_dirs(paths: Paths) -> tuple[str, ...]:
    """The host's UEFI firmware descriptor directories, as prepare found them (none before it)."""
    return tuple(str(host_facts(paths).get("firmware_dirs", "")).split())
