"""OpenvSwitch: the two bridges and the Open_vSwitch external_ids ovn-controller reads.

Everything goes through the python `ovs` IDL via ovsdbapp's Open_vSwitch API over the
ovsdb-server socket (never parsed ovs-vsctl output). The datapath is detected: without the
openvswitch kernel module the bridges use the userspace datapath (`netdev`).

remove() deletes the two bridges (only when marked as hotstack's) and this deployment's ovn-*
keys; it keeps `hostname`, which ovs-ctl maintains itself, a system-id hotstack did not choose,
and every key of another deployment on the same Open vSwitch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ovsdbapp.backend.ovs_idl import connection
from ovsdbapp.schema.open_vswitch import impl_idl

from hotstack.catalog import Catalog
from hotstack.core import distro
from hotstack.core.errors import HotstackError
from hotstack.core.scope import Scope
from hotstack.host.netns import inner_links
from hotstack.host.step import Step
from hotstack.host.system import Host

MARK = "hotstack"  # Bridge external_ids key marking the bridges hotstack made
OWNS_SYSTEM_ID = "hotstack-system-id"  # set when hotstack, not ovs-ctl, chose the system-id
CHASSIS_IDX = "ovn-chassis-idx-"  # other_config keys ovn-controller writes


def datapath_type(host: Host) -> str:
    """`system` where the kernel has the openvswitch module, else the userspace `netdev`."""
    return "system" if host.kernel_has_module("openvswitch") else "netdev"


def wanted_external_ids(cat: Catalog, datapath: str) -> dict[str, str]:
    """The keys this deployment's ovn-controller reads: the plain names for the default
    deployment, suffixed with its chassis name for one beside it (core/scope.py)."""
    net = cat.settings.network
    suffix = Scope(cat.settings.name).ovn_suffix
    return {f"{key}{suffix}": value for key, value in {
        "ovn-remote": f"tcp:{cat.address('ovn-sb-db')}",
        "ovn-encap-type": "geneve",
        "ovn-encap-ip": str(cat.encap_ip),
        "ovn-bridge": net.int_bridge,
        "ovn-bridge-mappings": f"{net.physnet}:{net.ex_bridge}",
        "ovn-bridge-datapath-type": datapath,
        "hostname": cat.settings.nova.host,
        "ovn-cms-options": "enable-chassis-as-gw",
    }.items()}


class _NoWaitTransaction(impl_idl.OvsVsctlTransaction):  # type: ignore[misc]
    """Commits without waiting for ovs-vswitchd to apply the change (there is none)."""

    def do_post_commit(self, txn: Any) -> None:
        pass


def _start_hint() -> str:
    here = distro.current()
    return f"start Open vSwitch ({here.ovs_ctl} start, or systemctl start {here.ovs_unit})"


@contextmanager
def session(host: Host) -> Iterator[Any]:
    """An ovsdbapp Open_vSwitch API on host.ovsdb, closed afterwards.

    ovsdbapp keeps its connection on the API class, so each session gets a class of its own
    (a second session on another socket must not reuse the first one's connection).
    """
    attrs: dict[str, Any] = {"_ovsdb_connection": None}
    if not host.wait_vswitchd:  # a bare ovsdb-server: nobody will ever bump cur_cfg
        attrs["create_transaction"] = lambda self, check_error=False, log_errors=True, **kw: (
            _NoWaitTransaction(self, self.ovsdb_connection, check_error=check_error,
                               log_errors=log_errors))
    api_class = type("HotstackOvsdb", (impl_idl.OvsdbIdl,), attrs)
    if host.ovsdb.startswith("unix:") and not Path(host.ovsdb[5:]).exists():
        raise HotstackError(f"ovsdb-server is not running (no socket {host.ovsdb[5:]})",
                            hint=_start_hint())
    try:
        idl = connection.OvsdbIdl.from_server(host.ovsdb, "Open_vSwitch")
        conn = connection.Connection(idl=idl, timeout=10)
        api = api_class(conn)
    except Exception as exc:
        raise HotstackError(f"cannot reach ovsdb-server at {host.ovsdb}: {exc}",
                            hint=_start_hint()) from exc
    try:
        yield api
    finally:
        conn.stop(timeout=5)


def namespace_owner(host: Host, bridge: str) -> Callable[[Path], bool]:
    """Is a metadata namespace this deployment's? Its inner veth end (`tap…1`) pairs with an
    outer end (`tap…0`) that the agent plugged into the deployment's integration bridge. When
    Open vSwitch cannot be asked, every namespace counts as ours (one deployment per host)."""
    ports: set[str] | None = None

    def owns(handle: Path) -> bool:
        nonlocal ports
        if ports is None:
            try:
                with session(host) as api:
                    ports = set(api.list_ports(bridge).execute(check_error=True)) if api.br_exists(bridge).execute(
                        check_error=True) else set()
            except HotstackError:
                return True
        return any(f"{name[:-1]}0" in ports for name in inner_links(handle) if name.endswith("1"))

    return owns


class OvsBridges(Step):
    id = "ovs-bridges"
    fix = "check `ovs-vsctl show` and /var/log/openvswitch/ovs-vswitchd.log"

    def __init__(self, cat: Catalog, host: Host) -> None:
        self.cat, self.host = cat, host
        net = cat.settings.network
        self.bridges = (net.int_bridge, net.ex_bridge)
        self.mtu = net.mtu
        self.datapath = datapath_type(host)
        self.ids = wanted_external_ids(cat, self.datapath)

    def describe(self) -> str:
        return (f"OVS bridges {', '.join(self.bridges)} ({self.datapath} datapath, MTU {self.mtu}) "
                "and OVN settings")

    def check(self) -> list[str]:
        try:
            with session(self.host) as api:
                return self._diffs(api)
        except HotstackError:
            if not (self.host.start_daemons and not self.host.systemd):
                raise
            # Open vSwitch is down; the ovs-daemons step before this one starts it.
            return [*(f"create bridge {br} (datapath {self.datapath}, MTU {self.mtu})" for br in self.bridges),
                    f"set the OVN external_ids ({', '.join(self.ids)})"]

    def _diffs(self, api: Any) -> list[str]:
        diffs = []
        rows = {r["name"]: r for r in api.db_list("Bridge", columns=["name", "datapath_type",
                                                                    "external_ids"]).execute(check_error=True)}
        ifaces = {r["name"]: r for r in api.db_list("Interface", columns=["name", "mtu_request"])
                  .execute(check_error=True)}
        for br in self.bridges:
            row = rows.get(br)
            if row is None:
                diffs.append(f"create bridge {br} (datapath {self.datapath}, MTU {self.mtu})")
                continue
            if row["datapath_type"] != self.datapath:
                diffs.append(f"set {br} datapath_type {row['datapath_type'] or '(default)'} → {self.datapath}")
            if ifaces.get(br, {}).get("mtu_request") not in (self.mtu, [self.mtu]):
                diffs.append(f"set {br} MTU to {self.mtu}")
        current = api.db_get("Open_vSwitch", ".", "external_ids").execute(check_error=True)
        if not current.get("system-id"):
            diffs.append("set a system-id for this chassis")
        for key, value in self.ids.items():
            if current.get(key) != value:
                diffs.append(f"set external_ids:{key}={value}")
        return diffs

    def apply(self) -> None:
        with session(self.host) as api:
            current = api.db_get("Open_vSwitch", ".", "external_ids").execute(check_error=True)
            ids = dict(self.ids)
            if not current.get("system-id"):
                ids.update({"system-id": str(uuid.uuid4()), OWNS_SYSTEM_ID: "true"})
            with api.transaction(check_error=True) as txn:
                for br in self.bridges:
                    txn.add(api.add_br(br, may_exist=True, datapath_type=self.datapath))
                    txn.add(api.db_set("Bridge", br, ("external_ids", {MARK: "managed"})))
                    txn.add(api.db_set("Interface", br, ("mtu_request", self.mtu)))
                txn.add(api.db_set("Open_vSwitch", ".", ("external_ids", ids)))

    def remove(self) -> list[str]:
        done = []
        with session(self.host) as api:
            rows = api.db_list("Bridge", columns=["name", "external_ids"]).execute(check_error=True)
            ours = [r["name"] for r in rows if r["name"] in self.bridges and r["external_ids"].get(MARK)]
            current = api.db_get("Open_vSwitch", ".", "external_ids").execute(check_error=True)
            scope = Scope(self.cat.settings.name)
            keys = [k for k in self.ids if k in current and k != "hostname"]  # ovs-ctl keeps hostname
            chassis = current.get("system-id", "") if scope.default else scope.chassis
            if scope.default and current.get(OWNS_SYSTEM_ID):
                keys += [OWNS_SYSTEM_ID, "system-id"]
            # ovn-controller's own bookkeeping for this deployment's chassis (not another's)
            other = api.db_get("Open_vSwitch", ".", "other_config").execute(check_error=True)
            chassis_keys = [k for k in other if k == f"{CHASSIS_IDX}{chassis}"]
            with api.transaction(check_error=True) as txn:
                for br in ours:
                    txn.add(api.del_br(br, if_exists=True))
                if keys:
                    txn.add(api.db_remove("Open_vSwitch", ".", "external_ids", *keys))
                if chassis_keys:
                    txn.add(api.db_remove("Open_vSwitch", ".", "other_config", *chassis_keys))
        done += [f"deleted bridge {br}" for br in ours]
        done += [f"removed external_ids:{k}" for k in keys if k != OWNS_SYSTEM_ID]
        done += [f"removed other_config:{k}" for k in chassis_keys]
        return done
