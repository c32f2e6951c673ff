"""A node's Open vSwitch for OVN: its integration bridge and the keys its ovn-controller reads.

Its chassis is named by its own system-id, set to the node's name: the name its certificate
carries as CN, which OVN's RBAC matches against the Chassis row it may write. Its encap IP is the
node's address; it has no provider bridge (floating IPs are centralised on node one's gateway
chassis), so no bridge mappings and no gateway option.
"""

from __future__ import annotations

from typing import Any

from hotstack.host import ovs
from hotstack.host.step import Step
from hotstack.host.system import Host
from hotstack.nodes.bundle import Bundle


def wanted_ids(bundle: Bundle, datapath: str) -> dict[str, str]:
    return {"system-id": bundle.name, "hostname": bundle.name, "ovn-remote": bundle.urls["ovn_sb"],
            "ovn-encap-type": "geneve", "ovn-encap-ip": bundle.address,
            "ovn-bridge": bundle.data["network"]["int_bridge"], "ovn-bridge-datapath-type": datapath}


class NodeOvs(Step):
    fix = "look at `ovs-vsctl show` on the node (a pod node: its <pod>-ovs container)"

    def __init__(self, bundle: Bundle, host: Host, datapath: str) -> None:
        self.host, self.datapath = host, datapath
        self.bridge = bundle.data["network"]["int_bridge"]
        self.mtu = int(bundle.data["network"]["mtu"])
        self.ids = wanted_ids(bundle, datapath)
        self.id = f"node-ovs-{bundle.name}"

    def describe(self) -> str:
        return f"OVS bridge {self.bridge} ({self.datapath}) and the OVN keys of chassis {self.ids['system-id']}"

    def _diffs(self, api: Any) -> list[str]:
        diffs = [] if api.br_exists(self.bridge).execute(check_error=True) else [f"create bridge {self.bridge}"]
        current = api.db_get("Open_vSwitch", ".", "external_ids").execute(check_error=True)
        return diffs + [f"set external_ids:{k}={v}" for k, v in self.ids.items() if current.get(k) != v]

    def check(self) -> list[str]:
        with ovs.session(self.host) as api:
            return self._diffs(api)

    def apply(self) -> None:
        with ovs.session(self.host) as api, api.transaction(check_error=True) as txn:
            txn.add(api.add_br(self.bridge, may_exist=True, datapath_type=self.datapath))
            txn.add(api.db_set("Bridge", self.bridge, ("external_ids", {ovs.MARK: "managed"})))
            txn.add(api.db_set("Interface", self.bridge, ("mtu_request", self.mtu)))
            txn.add(api.db_set("Open_vSwitch", ".", ("external_ids", self.ids)))

    def remove(self) -> list[str]:
        with ovs.session(self.host) as api:
            if not api.br_exists(self.bridge).execute(check_error=True):
                return []
            api.del_br(self.bridge, if_exists=True).execute(check_error=True)
        return [f"deleted bridge {self.bridge}"]
