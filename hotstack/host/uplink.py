"""The host's uplink: the interface of the IPv4 default route (via netlink, in host.netns).

Asked when a firewall step checks or applies, not once at start: a laptop that moves from
wired to wireless gets its masquerade rule moved on the next `prepare`.
"""

from __future__ import annotations

from typing import Any

from hotstack.host.net import netlink
from hotstack.host.system import Host

MAIN_TABLE = 254


def _oif(route: Any) -> int | None:
    oif = route.get("RTA_OIF")
    if oif is None:  # a multipath default route: its first hop's interface
        hops = route.get("RTA_MULTIPATH") or []
        oif = hops[0]["oif"] if hops else None
    return int(oif) if oif is not None else None


def default_interface(host: Host) -> str | None:
    """The interface of the preferred (lowest metric) default route; None without one."""
    with netlink(host) as ipr:
        defaults = [r for r in ipr.get_routes(family=2, table=MAIN_TABLE)
                    if r["dst_len"] == 0 and r["type"] == 1]
        defaults.sort(key=lambda r: r.get("RTA_PRIORITY") or 0)
        for route in defaults:
            if (oif := _oif(route)) is not None:
                links = ipr.get_links(oif)
                return str(links[0].get("IFLA_IFNAME")) if links else None
    return None
