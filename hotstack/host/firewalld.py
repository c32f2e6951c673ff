"""firewalld, where it runs: zones `hotstack-os` (the container network) and
`hotstack-external` (the external bridge), each opening only the ports of fwpolicy.py: the
published ones in both, the host ports services' containers connect to in hotstack-os only.

Zones are created permanently and loaded with `firewall-cmd --reload`, which on firewalld's
iptables backend drops rules other programs added: podman's are restored right after
(`podman network reload --all`). Without firewalld, firewall.py's nftables table is used.
"""

from __future__ import annotations

from hotstack.catalog import Catalog
from hotstack.containers import podman
from hotstack.core import runner
from hotstack.host.fwpolicy import policy, port_text
from hotstack.host.step import Step

FC = "firewall-cmd"


def running() -> bool:
    return runner.available(FC) and runner.run([FC, "--state"], check=False).returncode == 0


CONTAINER_ZONE = "hotstack-os"  # the container network: also gets the policy's from_containers ports


def zones(cat: Catalog) -> dict[str, tuple[str, str]]:
    """zone → (binding option, value)."""
    net = cat.settings.network
    return {CONTAINER_ZONE: ("--add-source", str(net.container_cidr)),
            "hotstack-external": ("--add-interface", net.ex_bridge)}


def wanted_ports(cat: Catalog, zone: str, nfs_server: bool = False) -> list[str]:
    """firewalld's port specs (`5000/tcp`, a range `first-last/tcp`) the policy opens in `zone`."""
    return sorted(f"{port_text(p)}/{proto}" for o in policy(cat, nfs_server)
                  if zone == CONTAINER_ZONE or not o.from_containers for p in o.ports for proto in o.protos)


def zone_argv(zone: str, binding: tuple[str, str], ports: list[str]) -> list[list[str]]:
    base = [FC, "--permanent", f"--zone={zone}"]
    return ([[FC, "--permanent", f"--new-zone={zone}"], [*base, f"{binding[0]}={binding[1]}"]]
            + [[*base, f"--add-port={p}"] for p in ports])


class FirewalldZones(Step):
    id = "firewall"
    fix = "look at `firewall-cmd --list-all-zones`"

    def __init__(self, cat: Catalog, nfs_server: bool = False) -> None:
        self.cat = cat
        self.ports = {zone: wanted_ports(cat, zone, nfs_server) for zone in zones(cat)}

    def describe(self) -> str:
        return "firewalld zones hotstack-os and hotstack-external with the API ports"

    def _listed(self, zone: str, what: str) -> list[str]:
        proc = runner.run([FC, f"--zone={zone}", f"--list-{what}"], check=False)
        return proc.stdout.split() if proc.returncode == 0 else []

    def check(self) -> list[str]:
        diffs = []
        for zone, (option, value) in zones(self.cat).items():
            kind = "sources" if option == "--add-source" else "interfaces"
            if value not in self._listed(zone, kind):
                diffs.append(f"zone {zone}: bind {value}")
            if sorted(self._listed(zone, "ports")) != self.ports[zone]:
                diffs.append(f"zone {zone}: open {', '.join(self.ports[zone])}")
        return diffs

    def apply(self) -> None:
        existing = runner.run([FC, "--permanent", "--get-zones"]).stdout.split()
        for zone, binding in zones(self.cat).items():
            for argv in zone_argv(zone, binding, self.ports[zone]):
                if "--new-zone" in argv[-1] and zone in existing:
                    continue
                runner.run(argv)
        self._reload()

    def _reload(self) -> None:
        runner.run([FC, "--reload"])
        if podman.available():
            podman.run(["network", "reload", "--all"], check=False)

    def remove(self) -> list[str]:
        existing = runner.run([FC, "--permanent", "--get-zones"]).stdout.split()
        gone = [z for z in zones(self.cat) if z in existing]
        for zone in gone:
            runner.run([FC, "--permanent", f"--delete-zone={zone}"])
        if gone:
            self._reload()
        return [f"deleted firewalld zone {z}" for z in gone]
