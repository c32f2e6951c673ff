"""IPv4 forwarding (net.ipv4.ip_forward=1), so guests' provider traffic can leave by the uplink
(the firewall steps masquerade it there). Only with `network.masquerade`.

Set at run time with sysctl, in host.netns when a test gives one; nothing under /etc is written
(`prepare` sets it again after a reboot). When hotstack turns it on it records the value it
found in the state dir, and `remove` puts that value back; a host that already forwarded (podman
usually turns it on for its bridge networks) is left as it was, then and at `clean`.
"""

from __future__ import annotations

from pathlib import Path

from hotstack.core import fsutil, runner
from hotstack.host.step import Step
from hotstack.host.system import Host

KEY = "net.ipv4.ip_forward"


def get_argv(host: Host) -> list[str]:
    return runner.in_netns(host.netns, ["sysctl", "-n", KEY])


def set_argv(host: Host, value: str) -> list[str]:
    return runner.in_netns(host.netns, ["sysctl", "-q", "-w", f"{KEY}={value}"])


class IpForward(Step):
    id = "ip-forward"
    fix = f"set it by hand: `sysctl -w {KEY}=1`"

    def __init__(self, host: Host, record: Path) -> None:
        self.host, self.record = host, record  # record: the value found before hotstack set it

    def describe(self) -> str:
        return f"{KEY}=1 (guests reach beyond the host)"

    def _value(self) -> str:
        return runner.run(get_argv(self.host)).stdout.strip()

    def check(self) -> list[str]:
        value = self._value()
        return [] if value == "1" else [f"set {KEY}=1 (is {value})"]

    def apply(self) -> None:
        value = self._value()
        if value == "1":
            return
        if not self.record.exists():  # the first value found is the one to restore
            fsutil.write_if_changed(self.record, value + "\n")
        runner.run(set_argv(self.host, "1"))

    def remove(self) -> list[str]:
        if not self.record.exists():
            return []
        before = self.record.read_text().strip()
        runner.run(set_argv(self.host, before))
        self.record.unlink()
        return [f"restored {KEY}={before}"]
