"""Networking: neutron-server (ML2/OVN, WSGI) and the OVN metadata agent on the host network."""

from __future__ import annotations

from hotstack.catalog.model import ConfigFile, Probe, Service, Volume
from hotstack.catalog.services.common import Ctx, api_deps, conf, keystone, run, sql, uwsgi
from hotstack.core.scope import Scope

PROJECT = "neutron"


def services(c: Ctx) -> list[Service]:
    s = c.s
    confs = (conf("neutron", "neutron.conf"), conf("neutron", "ml2_conf.ini"))
    return [
        Service(
            # Since 2025.1 the API is WSGI-only; uwsgi also supervises the periodic and OVN
            # maintenance workers (attach-daemon in the ini) so they share one container.
            "neutron-server", "neutron", uwsgi("neutron"),
            Probe("api", path="/v2.0/networks?limit=1", deadline_s=120),
            depends_on=api_deps("ovn-nb-db", "ovn-sb-db"), slot=28,
            user="neutron", configs=(*confs, conf("neutron", "hotstack-uwsgi.ini")),
            env=(("OS_NEUTRON_CONFIG_DIR", "/etc/neutron"), ("OS_NEUTRON_CONFIG_FILES", "neutron.conf;ml2_conf.ini")),
            **c.api("network", "neutron", s.ports.neutron),
            database=("neutron",), keystone_user="neutron",
            jobs=(sql("neutron"),
                  run("neutron-db-sync", "neutron-db-manage", "--config-file", "/etc/neutron/neutron.conf",
                      "--config-file", "/etc/neutron/ml2_conf.ini", "upgrade", "heads"),
                  keystone("neutron")),
        ),
        Service(
            "neutron-ovn-metadata-agent", "neutron",
            (*_metadata_agent(c), "--config-file", "/etc/neutron/neutron.conf",
             "--config-file", "/etc/neutron/neutron_ovn_metadata_agent.ini"),
            Probe("network_agent", binary="neutron-ovn-metadata-agent", deadline_s=120),
            # neutron-server: its probe reads neutron's agent list; nova-metadata is only
            # reached per request.
            depends_on=("neutron-server", "ovn-controller"), privileged=True, pid_host=True,
            volumes=(Volume("/run/openvswitch", "/run/openvswitch"),
                     Volume("/run/netns", "/run/netns", propagation="shared"),
                     c.data("neutron", "/var/lib/neutron")),
            configs=(confs[0], conf("neutron", "neutron_ovn_metadata_agent.ini"), *_metadata_shim(c)),
        ),
    ]


# The agent takes its chassis name (system-id) and bridge (ovn-bridge) from the host-wide OVS
# keys; a deployment beside the default one runs it through a shim naming its own chassis.
SHIM = "/usr/local/bin/hotstack-metadata-agent"


def _metadata_agent(c: Ctx) -> tuple[str, ...]:
    return ("neutron-ovn-metadata-agent",) if Scope(c.s.name).default else ("python3", SHIM)


def _metadata_shim(c: Ctx) -> tuple[ConfigFile, ...]:
    if Scope(c.s.name).default:
        return ()
    return (ConfigFile("neutron/hotstack-metadata-agent", SHIM, "root", 0o755),)
