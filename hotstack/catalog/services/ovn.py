"""OVN: the northbound and southbound databases, ovn-northd, and ovn-controller on the host's OVS."""

from __future__ import annotations

from hotstack.catalog.model import Probe, Service, Volume
from hotstack.catalog.node import Node
from hotstack.catalog.services.common import Ctx, role_deps

PROJECT = "ovn"
NB_PORT = 6641  # OVN's registered OVSDB ports
SB_PORT = 6642
SB_TLS_PORT = 6643  # where nodes reach the southbound DB: TLS with client certificates (docs/nodes.md)
# ovn-controller's own answer to "are you connected to the southbound DB?"
CONTROLLER_STATUS = ("ovn-appctl", "-t", "/run/ovn/ovn-controller.ctl", "connection-status")


SB_DB = "ovn-sb-db"


def _chassis_flag(node: Node) -> str:
    """`-n NAME` for a deployment beside the default one: the host's OVS is shared (core/scope.py)."""
    return f"-n {node.chassis} " if node.chassis else ""


def _db(c: Ctx, name: str, slot: int, port: int, kind: str) -> Service:
    dbfile = f"/var/lib/ovn/ovn{kind}_db.db"
    schema = f"/usr/share/ovn/ovn-{kind}.ovsschema"
    script = (f"mkdir -p /run/ovn; test -s {dbfile} || ovsdb-tool create {dbfile} {schema}; "
              f"ovsdb-tool needs-conversion {dbfile} {schema} | grep -q yes && "
              f"ovsdb-tool convert {dbfile} {schema}; "
              f"exec ovsdb-server --remote=ptcp:{port}:{c.ip(slot)} --remote=punix:/run/ovn/ovn{kind}_db.sock "
              f"--unixctl=/run/ovn/ovn{kind}_db.ctl {dbfile}")
    return Service(name, "ovn", ("sh", "-c", script), Probe("ovsdb", deadline_s=30),
                   slot=slot, port=port, volumes=(c.data("ovn", "/var/lib/ovn"),))


def _remote(c: Ctx, db: Service) -> str:
    assert db.slot is not None
    return f"tcp:{c.ip(db.slot)}:{db.port}"


def services(c: Ctx) -> list[Service]:
    nb, sb = _db(c, "ovn-nb-db", 15, NB_PORT, "nb"), _db(c, SB_DB, 16, SB_PORT, "sb")
    nb_remote, sb_remote = _remote(c, nb), _remote(c, sb)
    return [
        nb, sb,
        Service(
            "ovn-northd", "ovn",
            ("ovn-northd", f"--ovnnb-db={nb_remote}", f"--ovnsb-db={sb_remote}", "--unixctl=/run/ovn/ovn-northd.ctl"),
            Probe("exec", command=("ovn-appctl", "-t", "/run/ovn/ovn-northd.ctl", "status"), deadline_s=30),
            depends_on=(nb.name, sb.name), slot=17,
        ),
    ]


def controller(c: Ctx, node: Node) -> Service:
    """ovn-controller on a node's Open vSwitch (the compute role)."""
    return Service(
        node.service("ovn-controller"), "ovn",
        ("sh", "-c", f"mkdir -p /run/ovn && exec ovn-controller {_chassis_flag(node)}"
                     "--unixctl=/run/ovn/ovn-controller.ctl unix:/run/openvswitch/db.sock"),
        # The Chassis row outlives its controller (the SB DB is persistent): the probe also
        # asks the running ovn-controller whether it is connected.
        Probe("chassis", command=CONTROLLER_STATUS, expect="connected", via=SB_DB, binary=node.host,
              deadline_s=60),
        # ovn-controller 25.03 segfaults on restart while the southbound DB has a chassis but
        # northd has not filled it in yet: start it only once northd runs.
        depends_on=role_deps(node, "ovn-northd"), privileged=True, network_mode=node.network,
        volumes=(Volume(node.run_dir("openvswitch"), "/run/openvswitch"),
                 Volume(str(node.data(c.p, "ovn-controller")), "/var/lib/ovn")),
    )


ROLE = (controller,)
