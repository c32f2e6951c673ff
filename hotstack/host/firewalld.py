"""firewalld, where it runs: zones `hotstack-os` (the container network) and
`hotstack-external` (the external bridge), each opening only the ports of fwpolicy.py: the
published ones in both, the host ports services' containers connect to in hotstack-os only.
With `network.masquerade`, a policy `hotstack-masq` forwards the provider network from
hotstack-external to the uplink's zone and masquerades it there.

hotstack owns these objects whole: apply() makes each hold exactly what hotstack wants (adds
what is missing, removes whatever else someone or an older hotstack put in), check() lists
both directions. Changes are made permanently and loaded with `firewall-cmd --reload`, which
on firewalld's iptables backend drops rules other programs added: podman's are restored right
after (`podman network reload --all`). Without firewalld, firewall.py's nftables table is used.
"""

from __future__ import annotations

from hotstack.catalog import Catalog
from hotstack.containers import podman
from hotstack.core import runner
from hotstack.core.runner import Result
from hotstack.core.scope import Scope
from hotstack.host import uplink
from hotstack.host.fwobjects import Observed, Wanted, edits, parse, wanted_objects
from hotstack.host.fwpolicy import Opening, machine_addresses, policy, port_text
from hotstack.host.step import Step
from hotstack.host.system import Host

FC = "firewall-cmd"


def fc(host: Host, *args: str, check: bool = True) -> Result:
    """firewall-cmd inside host.netns, on host.system_bus when one is given."""
    env = {"DBUS_SYSTEM_BUS_ADDRESS": host.system_bus} if host.system_bus else None
    return runner.run(runner.in_netns(host.netns, [FC, *args]), check=check, env=env)


def running(host: Host | None = None) -> bool:
    host = host or Host()
    if host.netns and not host.system_bus:
        return False  # a test namespace has no firewalld of its own unless it brings its bus
    return runner.available(FC) and fc(host, "--state", check=False).returncode == 0


def zones(cat: Catalog) -> dict[str, tuple[str, tuple[str, ...]]]:
    """zone → (what binds traffic to it, values); the nodes zone only while other machines'
    nodes are registered."""
    net = cat.settings.network
    scope = Scope(cat.settings.name)
    found: dict[str, tuple[str, tuple[str, ...]]] = {
        scope.container_zone: ("sources", (str(net.container_cidr),)),
        scope.external_zone: ("interfaces", (net.ex_bridge,))}
    if machines := machine_addresses(cat):
        found[scope.nodes_zone] = ("sources", machines)
    return found


def wanted_ports(cat: Catalog, zone: str, nfs_server: bool = False) -> list[str]:
    """firewalld's port specs (`5000/tcp`, a range `first-last/tcp`) the policy opens in `zone`.

    A port inside a range of the same protocol is left out: firewalld folds it into the range
    (noVNC's 6080 lies in qemu's VNC range), so listing it would never converge."""
    scope = Scope(cat.settings.name)

    def opens(o: Opening) -> bool:
        if zone == scope.nodes_zone or o.sources:
            return zone == scope.nodes_zone and bool(o.sources)
        return zone == scope.container_zone or not o.from_containers

    spans = {(span(p), proto) for o in policy(cat, nfs_server) if opens(o) for p in o.ports for proto in o.protos}
    kept = [(s, proto) for s, proto in spans
            if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o, q in spans if q == proto)]
    return sorted(f"{port_text(s if s[0] != s[1] else s[0])}/{proto}" for s, proto in kept)


def span(port: int | tuple[int, int]) -> tuple[int, int]:
    return port if isinstance(port, tuple) else (port, port)


class FirewalldZones(Step):
    id = "firewall"
    fix = "look at `firewall-cmd --list-all-zones` and `firewall-cmd --list-all-policies`"

    def __init__(self, cat: Catalog, host: Host | None = None, nfs_server: bool = False) -> None:
        self.cat, self.host, self.nfs_server = cat, host or Host(), nfs_server

    def describe(self) -> str:
        return f"firewalld zones {', '.join(zones(self.cat))} with the ports hotstack opens"

    def wanted(self) -> list[Wanted]:
        ports = {zone: wanted_ports(self.cat, zone, self.nfs_server) for zone in zones(self.cat)}
        out = uplink.default_interface(self.host)
        return wanted_objects(self.cat, zones(self.cat), ports, out, self._zone_of(out) if out else None)

    def _zone_of(self, ifname: str) -> str:
        proc = fc(self.host, f"--get-zone-of-interface={ifname}", check=False)
        zone = proc.stdout.strip()
        return zone if proc.returncode == 0 and zone else fc(self.host, "--get-default-zone").stdout.strip()

    def _existing(self, permanent: bool) -> set[str]:
        flag = ("--permanent",) if permanent else ()
        return set(fc(self.host, *flag, "--get-zones").stdout.split()
                   + fc(self.host, *flag, "--get-policies").stdout.split())

    def _observed(self, want: Wanted, permanent: bool) -> Observed:
        flag = ("--permanent",) if permanent else ()
        return parse(fc(self.host, *flag, f"--{want.kind}={want.name}", "--list-all").stdout)

    def check(self) -> list[str]:
        wanted = self.wanted()
        diffs = [f"delete {kind} {name}" for kind, name in self._stale(wanted, permanent=False)]
        existing = self._existing(permanent=False)
        for want in wanted:
            if want.name not in existing:
                diffs.append(f"create {want.kind} {want.name}: {want.summary()}")
                continue
            diffs += [f"{want.kind} {want.name}: {text}"
                      for text, _ in edits(want, self._observed(want, permanent=False))]
        return diffs

    def _stale(self, wanted: list[Wanted], permanent: bool) -> list[tuple[str, str]]:
        """hotstack's objects that exist but are no longer wanted (masquerade turned off)."""
        names = {w.name for w in wanted}
        existing = self._existing(permanent)
        return [(kind, name) for kind, name in Scope(self.cat.settings.name).firewalld_objects()
                if name in existing and name not in names]

    def apply(self) -> None:
        wanted = self.wanted()
        for kind, name in self._stale(wanted, permanent=True):
            fc(self.host, "--permanent", f"--delete-{kind}={name}")
        existing = self._existing(permanent=True)
        for want in wanted:
            if want.name not in existing:
                fc(self.host, "--permanent", f"--new-{want.kind}={want.name}")
            for _, args in edits(want, self._observed(want, permanent=True)):
                fc(self.host, "--permanent", f"--{want.kind}={want.name}", *args)
        self._reload()

    def _reload(self) -> None:
        fc(self.host, "--reload")
        if self.host.netns is None and podman.available():
            podman.run(["network", "reload", "--all"], check=False)

    def remove(self) -> list[str]:
        existing = self._existing(permanent=True)
        gone = [(kind, name) for kind, name in Scope(self.cat.settings.name).firewalld_objects() if name in existing]
        for kind, name in gone:
            fc(self.host, "--permanent", f"--delete-{kind}={name}")
        if gone:
            self._reload()
        return [f"deleted firewalld {kind} {name}" for kind, name in gone]
