"""The ports the control plane publishes to nodes alone (RabbitMQ, the southbound DB's TLS
listener, node one's sshd for cold migration: `Service.node_ports`), closed to every other source.

Published container ports are DNATed in prerouting, before any input filter sees them, so the
guard is its own nftables table (`inet <deployment>-nodes`) with a prerouting filter chain just
ahead of DNAT: a new connection to one of those ports on the control address from anything but a
registered node's address is dropped. It is the same with firewalld running (firewalld's zones
filter after DNAT and never touch another table). Without registered nodes the ports are not
published and the table does not exist. The table is replaced in one nft transaction.
"""

from __future__ import annotations

from hotstack.catalog import Catalog
from hotstack.catalog.node import first_listens_at
from hotstack.core import runner
from hotstack.core.scope import Scope
from hotstack.host.firewall import MARK, _nft_set, apply_argv, delete_argv, fingerprint, observed
from hotstack.host.step import Step
from hotstack.host.system import Host


def node_ports(cat: Catalog) -> list[int]:
    return sorted({port for svc in cat for port in svc.node_ports})


def guard_rules(cat: Catalog) -> list[str]:
    ports = [str(p) for p in node_ports(cat)]
    if not ports or not cat.nodes:
        return []
    # the control address, and node one's migration address (its sshd; libvirtd checks certificates)
    targets = sorted({str(cat.control_address), str(first_listens_at(cat.settings, {e.kind for e in cat.nodes}))})
    # the host's own connections to its addresses come in on lo (its probes, its tools)
    return [f'iifname != "lo" ip daddr {_nft_set(targets)} tcp dport {_nft_set(ports)} '
            f"ip saddr != {_nft_set(cat.node_addresses())} ct state new drop"]


def table(cat: Catalog) -> tuple[str, str]:
    return "inet", f"{Scope(cat.settings.name).nft_table}-nodes"


def guard_ruleset(cat: Catalog) -> str:
    body = guard_rules(cat)
    family, name = table(cat)
    return "\n".join([
        f"table {family} {name}", f"delete table {family} {name}", f"table {family} {name} {{",
        "  chain prerouting {", "    type filter hook prerouting priority dstnat - 10; policy accept;",
        f'    {body[0]} comment "{MARK} {fingerprint(body)}"', "  }", "}"]) + "\n"


class NodeGuard(Step):
    id = "node-guard"

    def __init__(self, cat: Catalog, host: Host) -> None:
        self.cat, self.host = cat, host
        self.rules, self.table = guard_rules(cat), table(cat)
        self.fix = f"look at `nft list table {' '.join(self.table)}`"

    def describe(self) -> str:
        return (f"nftables table {' '.join(self.table)}: ports {node_ports(self.cat)} on "
                f"{self.cat.control_address} open to the nodes' addresses only")

    def check(self) -> list[str]:
        seen = observed(self.host, self.table)
        if not self.rules:
            return [] if seen is None else [f"delete nftables table {' '.join(self.table)} (no nodes)"]
        if seen == (f"{MARK} {fingerprint(self.rules)}", len(self.rules)):
            return []
        return [f"{'create' if seen is None else 'replace'} nftables table {' '.join(self.table)} "
                f"(nodes {', '.join(self.cat.node_addresses())})"]

    def apply(self) -> None:
        if self.rules:
            runner.run(apply_argv(self.host), input=guard_ruleset(self.cat))
        else:
            self.remove()

    def remove(self) -> list[str]:
        if observed(self.host, self.table) is None:
            return []
        runner.run(delete_argv(self.host, self.table))
        return [f"deleted nftables table {' '.join(self.table)}"]
