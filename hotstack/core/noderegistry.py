"""The nodes this deployment expects beside node one: `<data_dir>/state/nodes.json`.

An entry is written when a node's bundle is made (`hotstack node bundle`, `node add`) and
dropped by `node remove`: its name, whether it is a pod on this machine or another machine,
and the address the first host expects it from (the firewall's and the exports' business).
Whether a node is joined or healthy is never stored here: the cloud says (docs/nodes.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Literal

from hotstack.core.errors import BadInput, HotstackError
from hotstack.core.fsutil import write_if_changed

FILE = "nodes.json"
Kind = Literal["pod", "machine"]
# A DNS label, as nova's host and the OVN chassis take it; short, so `<deployment>-<node>-<service>`
# container names and the pod's namespace name stay readable.
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")


@dataclass(frozen=True)
class Entry:
    name: str
    kind: Kind
    address: str


def check_name(name: str, first_host: str) -> str:
    if not _NAME.match(name) or "--" in name:
        raise BadInput(f"node name {name!r}: must be 2 to 32 lower-case letters, digits and single dashes, "
                       "starting with a letter and not ending with a dash (e.g. compute-2)")
    if name == first_host:
        raise BadInput(f"node name {name!r}: is node one's (nova.host); choose another")
    return name


class Registry:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / FILE

    def entries(self) -> dict[str, Entry]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as exc:
            raise HotstackError(f"{self.path} is damaged: {exc}",
                                hint="restore it or remove the broken entry") from None
        return {e["name"]: Entry(e["name"], e["kind"], e["address"]) for e in data.get("nodes", [])}

    def put(self, entry: Entry) -> None:
        """Add or replace one node; another node already at that address is refused."""
        found = self.entries()
        clash = [e.name for e in found.values() if e.address == entry.address and e.name != entry.name]
        if clash:
            raise BadInput(f"node address {entry.address}: already node {clash[0]}'s; choose another")
        found[entry.name] = entry
        self._write(found)

    def drop(self, name: str) -> bool:
        found = self.entries()
        if found.pop(name, None) is None:
            return False
        self._write(found)
        return True

    def _write(self, found: dict[str, Entry]) -> None:
        nodes = [asdict(e) for e in sorted(found.values(), key=lambda e: e.name)]
        write_if_changed(self.path, json.dumps({"nodes": nodes}, indent=2) + "\n", mode=0o644)


def next_pod_address(underlay: IPv4Network, taken: set[str]) -> IPv4Address:
    """The first free underlay address after the host's own (the network's first host)."""
    hosts = list(underlay.hosts())
    for address in hosts[1:]:
        if str(address) not in taken:
            return address
    raise BadInput(f"setting nodes.underlay_cidr = '{underlay}': has no free address left for another node",
                   hint="choose a larger network, or remove a node first")
