"""OVN: the northbound and southbound databases, ovn-northd, and ovn-controller on the host's OVS."""

from __future__ import annotations

from hotstack.catalog.model import Probe, Service, Volume
from hotstack.catalog.node import NODE_PKI, Node
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


SB_PKI = "/etc/ovn/pki"  # the southbound DB's TLS files (core/pki.py's server dir, read-only)
SB_TLS = "sb-tls"  # their name under the CA's server dir


def _tls_listener(c: Ctx, kind: str, slot: int) -> tuple[str, str]:
    """With nodes registered, the southbound DB also listens for them with TLS: client
    certificates from the deployment's CA, and the Connection row's role `ovn-controller`, so
    OVN's RBAC lets a node write only its own chassis' rows. The role lives in the database
    only; the row is (re)written once the server answers on its socket."""
    if kind != "sb" or not c.nodes:
        return "", ""
    sock = f"unix:/run/ovn/ovn{kind}_db.sock"
    flags = (f"--remote=db:OVN_Southbound,SB_Global,connections --private-key={SB_PKI}/server.key "
             f"--certificate={SB_PKI}/server.crt --ca-cert={SB_PKI}/ca.crt ")
    role = (f"(until ovn-sbctl --db={sock} --timeout=5 set-connection role=ovn-controller "
            f"pssl:{SB_TLS_PORT}:{c.ip(slot)}; do sleep 0.5; done) & ")
    return flags, role


def _db(c: Ctx, name: str, slot: int, port: int, kind: str) -> Service:
    dbfile = f"/var/lib/ovn/ovn{kind}_db.db"
    schema = f"/usr/share/ovn/ovn-{kind}.ovsschema"
    tls_flags, tls_role = _tls_listener(c, kind, slot)
    script = (f"mkdir -p /run/ovn; test -s {dbfile} || ovsdb-tool create {dbfile} {schema}; "
              f"ovsdb-tool needs-conversion {dbfile} {schema} | grep -q yes && "
              f"ovsdb-tool convert {dbfile} {schema}; {tls_role}"
              f"exec ovsdb-server --remote=ptcp:{port}:{c.ip(slot)} --remote=punix:/run/ovn/ovn{kind}_db.sock "
              f"{tls_flags}--unixctl=/run/ovn/ovn{kind}_db.ctl {dbfile}")
    volumes: tuple[Volume, ...] = (c.data("ovn", "/var/lib/ovn"),)
    if tls_flags:
        volumes += (Volume(str(c.p.pki / "server" / SB_TLS), SB_PKI, read_only=True),)
    return Service(name, "ovn", ("sh", "-c", script), Probe("ovsdb", deadline_s=30),
                   slot=slot, port=port, volumes=volumes, node_ports=(SB_TLS_PORT,) if tls_flags else ())


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


def _tls_flags(node: Node) -> str:
    """A node other than node one proves its chassis with its certificate (docs/nodes.md)."""
    return f"-p {NODE_PKI}/node.key -c {NODE_PKI}/node.crt -C {NODE_PKI}/ca.crt " if node.pki else ""


def controller(c: Ctx, node: Node) -> Service:
    """ovn-controller on a node's Open vSwitch (the compute role)."""
    trust = (Volume(node.pki, NODE_PKI, read_only=True),) if node.pki else ()
    return Service(
        node.service("ovn-controller"), "ovn",
        ("sh", "-c", f"mkdir -p /run/ovn && exec ovn-controller {_chassis_flag(node)}{_tls_flags(node)}"
                     "--unixctl=/run/ovn/ovn-controller.ctl unix:/run/openvswitch/db.sock"),
        # The Chassis row outlives its controller (the SB DB is persistent): the probe also
        # asks the running ovn-controller whether it is connected.
        Probe("chassis", command=CONTROLLER_STATUS, expect="connected", via=SB_DB, binary=node.host,
              deadline_s=60),
        # ovn-controller 25.03 segfaults on restart while the southbound DB has a chassis but
        # northd has not filled it in yet: start it only once northd runs.
        depends_on=role_deps(node, "ovn-northd"), privileged=True, network_mode=node.network,
        volumes=(Volume(node.run_dir("openvswitch"), "/run/openvswitch"),
                 Volume(str(node.data(c.p, "ovn-controller")), "/var/lib/ovn"), *trust),
    )


ROLE = (controller,)
