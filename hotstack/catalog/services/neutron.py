"""Networking: neutron-server (ML2/OVN, WSGI) and the OVN metadata agent on the host network."""

from __future__ import annotations

from hotstack.catalog.model import ConfigFile, Probe, Service, Volume
from hotstack.catalog.node import NODE_PKI, Node
from hotstack.catalog.services.common import Ctx, api_deps, conf, keystone, role_deps, run, sql, uwsgi

PROJECT = "neutron"
NEUTRON_CONF = conf("neutron", "neutron.conf")


def services(c: Ctx) -> list[Service]:
    s = c.s
    confs = (NEUTRON_CONF, conf("neutron", "ml2_conf.ini"))
    return [
        Service(
            # Since 2025.1 the API is WSGI-only; uwsgi also supervises the plugin's periodic and
            # OVN maintenance workers (attach-daemon in the ini) so they share one container.
            "neutron-server", "neutron", uwsgi("neutron"),
            Probe("api", path="/v2.0/networks?limit=1", deadline_s=120),
            depends_on=api_deps("ovn-nb-db", "ovn-sb-db"), slot=28,
            user="neutron", configs=(*confs, conf("neutron", "hotstack-uwsgi.ini"),
                                     ConfigFile("neutron/hotstack-plugin-workers",
                                                "/usr/local/bin/hotstack-neutron-workers", "root", 0o755)),
            env=(("OS_NEUTRON_CONFIG_DIR", "/etc/neutron"), ("OS_NEUTRON_CONFIG_FILES", "neutron.conf;ml2_conf.ini")),
            **c.api("network", "neutron", s.ports.neutron),
            database=("neutron",), keystone_user="neutron",
            jobs=(sql("neutron"),
                  run("neutron-db-sync", "neutron-db-manage", "--config-file", "/etc/neutron/neutron.conf",
                      "--config-file", "/etc/neutron/ml2_conf.ini", "upgrade", "heads"),
                  keystone("neutron")),
        ),
    ]


def metadata_agent(c: Ctx, node: Node) -> Service:
    """neutron's OVN metadata agent on a node (the compute role)."""
    return Service(
        node.service("neutron-ovn-metadata-agent"), "neutron",
        (*_metadata_agent(node), "--config-file", "/etc/neutron/neutron.conf",
         "--config-file", "/etc/neutron/neutron_ovn_metadata_agent.ini"),
        Probe("network_agent", binary="neutron-ovn-metadata-agent", deadline_s=120),
        # neutron-server: its probe reads neutron's agent list; nova-metadata is only
        # reached per request.
        depends_on=role_deps(node, "neutron-server", "ovn-controller", own=("ovn-controller",)),
        privileged=True, pid_host=True, network_mode=node.network,
        volumes=(Volume(node.run_dir("openvswitch"), "/run/openvswitch"),
                 Volume(node.run_dir("netns"), "/run/netns", propagation="shared"),
                 Volume(str(node.data(c.p, "neutron")), "/var/lib/neutron"),
                 *((Volume(node.pki, NODE_PKI, read_only=True),) if node.pki else ())),
        configs=(NEUTRON_CONF, conf("neutron", "neutron_ovn_metadata_agent.ini"), *_metadata_shim(node)),
    )


ROLE = (metadata_agent,)

# The agent takes its chassis name (system-id) and bridge (ovn-bridge) from the host-wide OVS
# keys; on an Open vSwitch shared with another deployment it runs through a shim naming its own
# chassis.
SHIM = "/usr/local/bin/hotstack-metadata-agent"


def _metadata_agent(node: Node) -> tuple[str, ...]:
    return ("python3", SHIM) if node.chassis else ("neutron-ovn-metadata-agent",)


def _metadata_shim(node: Node) -> tuple[ConfigFile, ...]:
    return (ConfigFile("neutron/hotstack-metadata-agent", SHIM, "root", 0o755),) if node.chassis else ()
