"""The firewalld objects hotstack owns, as data: what each should hold, what firewall-cmd says
one holds (`--list-all`), and the firewall-cmd options that turn the one into the other.

Pure functions, no firewalld needed: firewalld.py runs what these return. An object hotstack
owns holds exactly what is wanted: every list firewalld shows that hotstack does not want
(a service, a port someone added, a rich rule) is removed, every setting is put back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotstack.catalog import Catalog
from hotstack.core.scope import Scope
from hotstack.host.fwpolicy import masquerade

# Policies first: a zone a policy names cannot be deleted before the policy.

# `--list-all` key → the option stem of its --add-X / --remove-X.
LISTS = {"interfaces": "interface", "sources": "source", "services": "service", "ports": "port",
         "protocols": "protocol", "forward-ports": "forward-port", "source-ports": "source-port",
         "icmp-blocks": "icmp-block", "rich rules": "rich-rule",
         "ingress-zones": "ingress-zone", "egress-zones": "egress-zone"}
SWITCHES = ("masquerade", "forward", "icmp-block-inversion")  # yes/no: --add-X / --remove-X
# Everything else as firewalld makes a new object (a zone that accepts nothing by itself).
DEFAULTS = {"zone": {"target": "default", "icmp-block-inversion": "no", "masquerade": "no", "forward": "no"},
            "policy": {"target": "CONTINUE", "masquerade": "no"}}

Observed = dict[str, list[str]]


@dataclass(frozen=True)
class Wanted:
    kind: str  # zone | policy
    name: str
    lists: dict[str, tuple[str, ...]]  # the lists hotstack fills; every other list stays empty
    settings: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        return "; ".join(f"{key} {', '.join(values)}" for key, values in self.lists.items() if values)


def parse(text: str) -> Observed:
    """firewall-cmd's `--list-all` of a zone or policy: key → values (rich rules one per line)."""
    out: Observed = {}
    key = ""
    for line in text.splitlines()[1:]:
        if key == "rich rules" and line.startswith("\t"):
            out[key].append(line.strip())
            continue
        key, _, value = line.strip().partition(":")
        out[key] = value.split() if key != "rich rules" else ([value.strip()] if value.strip() else [])
    return out


def _list_edits(want: Wanted, seen: Observed) -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for key, stem in LISTS.items():
        if key not in seen:
            continue  # not a list this kind of object has
        wanted = want.lists.get(key, ())
        extra = [v for v in seen[key] if v not in wanted]
        missing = [v for v in wanted if v not in seen[key]]
        if extra:
            found.append((f"remove {key} {', '.join(extra)}", [f"--remove-{stem}={v}" for v in extra]))
        if missing:
            found.append((f"add {key} {', '.join(missing)}", [f"--add-{stem}={v}" for v in missing]))
    return found


def _setting_edits(want: Wanted, seen: Observed) -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for key, value in {**DEFAULTS[want.kind], **want.settings}.items():
        now = " ".join(seen.get(key, []))
        if now == value:
            continue
        if key in SWITCHES:
            found.append((f"set {key} {value} (is {now})", [f"--{'add' if value == 'yes' else 'remove'}-{key}"]))
        else:
            found.append((f"set {key} {value} (is {now})", [f"--set-{key}={value}"]))
    return found


def edits(want: Wanted, seen: Observed) -> list[tuple[str, list[str]]]:
    """(what differs, in words; the firewall-cmd options that fix it), both directions."""
    return _list_edits(want, seen) + _setting_edits(want, seen)


def wanted_objects(cat: Catalog, bindings: dict[str, tuple[str, tuple[str, ...]]], ports: dict[str, list[str]],
                   uplink: str | None, uplink_zone: str | None) -> list[Wanted]:
    """hotstack's zones, and the masquerade policy when there is an uplink in another zone."""
    wanted = [Wanted("zone", zone, {key: values, "ports": tuple(ports[zone])})
              for zone, (key, values) in bindings.items()]
    masq = masquerade(cat, uplink)
    if masq is None or uplink_zone is None or uplink_zone in bindings:
        return wanted
    source = f'rule family="ipv4" source address="{masq.source}"'
    scope = Scope(cat.settings.name)
    return [*wanted, Wanted("policy", scope.masquerade_policy, {
        "ingress-zones": (scope.external_zone,), "egress-zones": (uplink_zone,),
        # Forwarded (accept) and rewritten to the uplink's address (masquerade): two rules,
        # firewalld's rich rules take one action each.
        "rich rules": (f"{source} accept", f"{source} masquerade")})]
