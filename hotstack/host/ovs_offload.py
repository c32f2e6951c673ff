"""Checksum offload on the userspace datapath, so TCP into and out of guests works.

A virtio NIC leaves TCP/UDP checksums for the host to fill in. On the userspace datapath
ovs-vswitchd reads a VM's tap through an AF_PACKET socket; without a virtio-net header on
that socket it never learns the checksum is pending, its conntrack (security groups, NAT)
drops every such TCP segment as corrupt (`conntrack_l4csum_err`), and only ICMP gets
through. `other_config:userspace-tso-enable=true` makes ovs-vswitchd open its ports with
that header and carry the offload through.

ovs-vswitchd applies the key only to ports it opens afterwards, so the step restarts it when
the running daemon opened its ports without offload. The bridge's own internal port tells:
a tap that ovs-vswitchd opened with offload has tx checksumming on, one without has it off.
Only for the `netdev` datapath; the kernel datapath has no such gap.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pyroute2.ethtool import Ethtool
from pyroute2.netns import popns, pushns

from hotstack.core import distro, runner
from hotstack.core.errors import HotstackError
from hotstack.host.ovs import MARK, session
from hotstack.host.step import Step
from hotstack.host.system import Host

KEY = "userspace-tso-enable"
OWNED = "hotstack-userspace-tso"  # external_ids mark: hotstack set KEY, so clean removes it
TX_CSUM = "tx-checksum-ip-generic"  # the feature a tun device gets from TUN_F_CSUM


def tx_checksum_offload(ifname: str, netns: str | None = None) -> bool | None:
    """Does the device offload tx checksums? None when it does not exist."""
    if netns:
        pushns(netns)  # the ethtool sockets are made in the namespace they should ask
    try:
        ethtool = Ethtool()
    finally:
        if netns:
            popns()
    try:
        features = ethtool.get_features(ifname).features
    except Exception:  # pyroute2 raises several types for a missing device
        return None
    finally:
        ethtool.close()
    feature = features.get(TX_CSUM)
    return bool(feature and feature.enable)


def restart_command(host: Host) -> tuple[str, ...] | None:
    """How to restart ovs-vswitchd alone (keeping ovsdb-server and the flows)."""
    if host.systemd:
        return ("systemctl", "restart", "ovs-vswitchd")
    if host.start_daemons:
        return (distro.current().ovs_ctl, "--no-ovsdb-server", "restart")
    return None


class OvsUserspaceOffload(Step):
    id = "ovs-offload"
    fix = "check /var/log/openvswitch/ovs-vswitchd.log, then `hotstack prepare` again"

    def __init__(self, host: Host, probe_port: str, restart: Sequence[str] | None = None,
                 own_bridges: Sequence[str] = ()) -> None:
        self.host, self.probe_port = host, probe_port
        self.own_bridges = set(own_bridges) or {probe_port}
        self.restart = tuple(restart) if restart is not None else restart_command(host)

    def describe(self) -> str:
        return f"checksum offload on the userspace datapath (other_config:{KEY})"

    def _key(self) -> str | None:
        with session(self.host) as api:
            value = api.db_get("Open_vSwitch", ".", "other_config").execute(check_error=True).get(KEY)
        return str(value) if value is not None else None

    def check(self) -> list[str]:
        try:
            key = self._key()
        except HotstackError:
            if not self.host.start_daemons:
                raise
            key = None  # Open vSwitch is down; the ovs-daemons step before this one starts it
        if key != "true":
            return [f"set other_config:{KEY}=true and restart ovs-vswitchd"]
        if self.host.wait_vswitchd and tx_checksum_offload(self.probe_port, self.host.netns) is False:
            return [f"restart ovs-vswitchd (its ports were opened before {KEY} was set)"]
        return []

    def apply(self) -> None:
        with session(self.host) as api:
            other = api.db_get("Open_vSwitch", ".", "other_config").execute(check_error=True)
            with api.transaction(check_error=True) as txn:
                if other.get(KEY) != "true":
                    txn.add(api.db_set("Open_vSwitch", ".", ("other_config", {KEY: "true"})))
                    txn.add(api.db_set("Open_vSwitch", ".", ("external_ids", {OWNED: "true"})))
        if not self.host.wait_vswitchd or tx_checksum_offload(self.probe_port, self.host.netns) is not False:
            return  # no port yet (the next start reads the key) or already opened with offload
        if self.restart is None:
            raise HotstackError(f"ovs-vswitchd must be restarted to apply other_config:{KEY}",
                                hint="restart ovs-vswitchd, then run the command again")
        runner.run(self.restart, timeout=60, hint="restart ovs-vswitchd by hand and look at its log")
        self._wait_port()

    def _wait_port(self, timeout: float = 15.0) -> None:
        """ovs-vswitchd reopens its ports a moment after it starts."""
        deadline = time.monotonic() + timeout
        while not tx_checksum_offload(self.probe_port, self.host.netns):
            if time.monotonic() > deadline:
                raise HotstackError(f"after the restart {self.probe_port} still has no checksum offload")
            time.sleep(0.2)

    def remove(self) -> list[str]:
        """Drop the key if hotstack set it and no other deployment's bridges still need it; the
        running daemon keeps it until its next start."""
        with session(self.host) as api:
            ids = api.db_get("Open_vSwitch", ".", "external_ids").execute(check_error=True)
            if not ids.get(OWNED):
                return []
            rows = api.db_list("Bridge", columns=["name", "external_ids"]).execute(check_error=True)
            others = sorted(r["name"] for r in rows
                            if r["external_ids"].get(MARK) and r["name"] not in self.own_bridges)
            if others:
                return [f"kept other_config:{KEY}: another deployment's bridges use it ({', '.join(others)})"]
            with api.transaction(check_error=True) as txn:
                txn.add(api.db_remove("Open_vSwitch", ".", "other_config", KEY))
                txn.add(api.db_remove("Open_vSwitch", ".", "external_ids", OWNED))
        return [f"removed other_config:{KEY}"]
