"""The host's cached link-layer address of a container that was just recreated.

Every service keeps its fixed address, but a recreated container has a new MAC. The host's
neighbour entry still names the old one; its unicast re-probes go unanswered and the entry sat
FAILED for 30 s and more here (podman 4.3's netavark sends no gratuitous ARP), so probes from
the host timed out although the service was up. Dropping the entry makes the host ask again.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError


def forget(address: str, netns: str | None = None) -> int:
    """Delete every neighbour entry for `address`; how many there were (0 without privileges)."""
    ipr: Any = IPRoute(netns=netns) if netns else IPRoute()
    try:
        entries = [n["ifindex"] for n in ipr.neigh("dump", family=socket.AF_INET)
                   if n.get_attr("NDA_DST") == address]
        for ifindex in entries:
            with contextlib.suppress(NetlinkError):  # gone meanwhile, or not ours to change
                ipr.neigh("del", dst=address, ifindex=ifindex)
        return len(entries)
    except (NetlinkError, OSError):
        return 0
    finally:
        ipr.close()
