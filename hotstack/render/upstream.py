"""The host's DNS resolvers, for dnsmasq to forward every name that is not an API name.

Read at render time from the host's resolv.conf. Loopback addresses are skipped: a stub such as
systemd-resolved's 127.0.0.53 listens on the host's loopback, which a container cannot reach;
for that stub the real upstreams are in systemd-resolved's own file, tried next. IPv6 servers
are skipped too: the container network is IPv4 only.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address
from pathlib import Path


def nameservers(text: str) -> list[str]:
    """The usable IPv4 `nameserver` addresses of a resolv.conf, in order."""
    found: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) < 2 or words[0] != "nameserver":
            continue
        try:
            addr = IPv4Address(words[1])
        except ValueError:
            continue  # IPv6 or garbage
        if not (addr.is_loopback or addr.is_unspecified) and str(addr) not in found:
            found.append(str(addr))
    return found


def host_nameservers(files: Sequence[Path]) -> list[str]:
    """The first file's usable servers; the next file where it has none (or is missing)."""
    for path in files:
        try:
            servers = nameservers(path.read_text())
        except OSError:
            continue
        if servers:
            return servers
    return []
