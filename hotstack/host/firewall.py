"""The host firewall for hotstack's networks, as an nftables table `inet hotstack`.

Policy (fwpolicy.py, the same firewalld gets): new connections to brex_ip, arriving on the
external bridge, or coming from the container network may reach only the ports the catalog
publishes (every frontend, haproxy stats, DNS) and — from the container network — the host
ports services connect to (qemu's VNC consoles; NFS in `nfs` mode). Replies, loopback and ICMP
pass. The chain's policy is
accept, so traffic that is none of hotstack's business is left to the host's own rules; other
tables are never flushed or touched. Published container ports are DNATed before the input hook
and so are not filtered here. The table is replaced in one nft transaction.

With `network.masquerade`, a postrouting chain masquerades the provider network out of the
default route's interface (fwpolicy.masquerade; asked at check and apply, so a moved default
route is followed). Forwarding itself needs no rule here (an accept in this table could not
override another table's drop anyway); net.ipv4.ip_forward is the forwarding step's business.
"""

from __future__ import annotations

import json

from hotstack.catalog import Catalog
from hotstack.core import runner
from hotstack.core.fsutil import sha256
from hotstack.core.scope import Scope
from hotstack.host import uplink
from hotstack.host.fwpolicy import Masquerade, Opening, api_ports, masquerade, policy, port_text
from hotstack.host.step import Step
from hotstack.host.system import Host

MARK = "managed by hotstack"  # the first rule's comment carries a fingerprint of all rules


def _nft_set(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{{ {', '.join(items)} }}"


def accept_rule(cat: Catalog, o: Opening) -> str:
    """One nft rule accepting an opening of the policy."""
    ports = _nft_set([port_text(p) for p in o.ports])
    match = (f"{o.protos[0]} dport {ports}" if len(o.protos) == 1
             else f"meta l4proto {_nft_set(list(o.protos))} th dport {ports}")
    source = (f"ip saddr {_nft_set(list(o.sources))} " if o.sources
              else f"ip saddr {cat.settings.network.container_cidr} " if o.from_containers else "")
    return f"{source}{match} accept"


def rules(cat: Catalog, nfs_server: bool = False) -> list[str]:
    net = cat.settings.network
    return [
        'iifname "lo" accept',
        "ct state established,related accept",
        "meta l4proto { icmp, ipv6-icmp } accept",
        *(accept_rule(cat, o) for o in policy(cat, nfs_server)),
        f"ip daddr {net.brex_ip} ct state new drop",
        f'iifname "{net.ex_bridge}" ct state new drop',
        f"ip saddr {net.container_cidr} ct state new drop",
    ]


def nat_rules(masq: Masquerade | None) -> list[str]:
    """Only what leaves by the uplink: traffic staying on the external bridge or going to the
    container network leaves by another interface and keeps its address."""
    return [f'ip saddr {masq.source} oifname "{masq.uplink}" masquerade'] if masq else []


def table(cat: Catalog) -> tuple[str, str]:
    """(family, name) of this deployment's table: one per deployment (core/scope.py)."""
    return "inet", Scope(cat.settings.name).nft_table


def ruleset(cat: Catalog, nfs_server: bool = False, masq: Masquerade | None = None) -> str:
    """The nft script: ensure, delete and recreate the table in one atomic transaction."""
    body, nat = rules(cat, nfs_server), nat_rules(masq)
    family, name = table(cat)
    lines = [f"table {family} {name}", f"delete table {family} {name}",
             f"table {family} {name} {{",
             "  chain input {", "    type filter hook input priority filter + 10; policy accept;",
             f'    {body[0]} comment "{MARK} {fingerprint(body + nat)}"',
             *(f"    {r}" for r in body[1:]), "  }"]
    if nat:
        lines += ["  chain postrouting {", "    type nat hook postrouting priority srcnat + 10; policy accept;",
                  *(f"    {r}" for r in nat), "  }"]
    return "\n".join([*lines, "}"]) + "\n"


def fingerprint(body: list[str]) -> str:
    return sha256("\n".join(body))[:16]


def list_argv(host: Host, name: tuple[str, str]) -> list[str]:
    return runner.in_netns(host.netns, ["nft", "-j", "list", "table", *name])


def apply_argv(host: Host) -> list[str]:
    return runner.in_netns(host.netns, ["nft", "-f", "-"])


def delete_argv(host: Host, name: tuple[str, str]) -> list[str]:
    return runner.in_netns(host.netns, ["nft", "delete", "table", *name])


def observed(host: Host, name: tuple[str, str]) -> tuple[str, int] | None:
    """(first rule's comment, number of rules) or None when the table does not exist."""
    proc = runner.run(list_argv(host, name), check=False)
    if proc.returncode != 0:
        return None
    items = json.loads(proc.stdout).get("nftables", [])
    found = [i["rule"] for i in items if "rule" in i]
    return (found[0].get("comment", "") if found else ""), len(found)


class NftTable(Step):
    id = "firewall"

    def __init__(self, cat: Catalog, host: Host, nfs_server: bool = False) -> None:
        self.cat, self.host, self.nfs_server = cat, host, nfs_server
        self.rules = rules(cat, nfs_server)
        self.table = table(cat)
        self.fix = f"look at `nft list table {' '.join(self.table)}`"

    def describe(self) -> str:
        return f"nftables table {' '.join(self.table)}: only the API ports open on hotstack's networks"

    def masquerade(self) -> Masquerade | None:
        return masquerade(self.cat, uplink.default_interface(self.host))

    def check(self) -> list[str]:
        seen = observed(self.host, self.table)
        masq = self.masquerade()
        body = self.rules + nat_rules(masq)
        if seen == (f"{MARK} {fingerprint(body)}", len(body)):
            return []
        verb = "create" if seen is None else "replace"
        nat = f", masquerade {masq.source} out of {masq.uplink}" if masq else ""
        return [f"{verb} nftables table {' '.join(self.table)} (API ports {api_ports(self.cat)}{nat})"]

    def apply(self) -> None:
        runner.run(apply_argv(self.host), input=ruleset(self.cat, self.nfs_server, self.masquerade()))

    def remove(self) -> list[str]:
        if observed(self.host, self.table) is None:
            return []
        runner.run(delete_argv(self.host, self.table))
        return [f"deleted nftables table {' '.join(self.table)}"]
