"""Compute: nova's API, metadata API, conductor, scheduler, noVNC proxy and nova-compute on the
host's libvirt (host network, identical paths inside and outside)."""

from __future__ import annotations

import dataclasses

from hotstack.catalog.model import ConfigFile, HostPorts, Job, Probe, Service, Volume
from hotstack.catalog.node import Node, first_listens_at
from hotstack.catalog.services.common import Ctx, api_deps, conf, keystone, role_deps, run, sql, uwsgi, worker
from hotstack.core.hostfacts import firmware_dirs, kernel_modules, resolved

PROJECT = "nova"
# A restart's critical path is nova-api (the others' probes ask it) → conductor → compute: on a
# busy start they get twice podman's default CPU weight.
CRITICAL_SHARES = 2048
# The conductor and the scheduler make their placement client as they start and exit when
# placement does not answer yet (seen on a restart once they no longer waited for nova-api).
PLACEMENT = ("placement",)
METADATA_PORT = 8775  # nova's metadata API in its container; haproxy publishes it on ports.nova_metadata
NOVA_CONF = conf("nova", "nova.conf")
COMPUTE_CONF = conf("nova", "nova-compute.conf")  # nova-compute's own (libvirt, migration)
VNC_PORTS = (5900, 6923)  # qemu's VNC consoles on the host (displays 0-1023), for nova-novncproxy


NODE_ONE_TLS = "node-one"  # node one's certificate for libvirt's TLS (the CA's server dir of that name)
SSH_DIR = "/etc/hotstack/ssh"  # where nova-compute and nova-ssh see their node's SSH trust


def compute(c: Ctx, node: Node) -> Service:
    """nova-compute on a node's libvirt (the compute role)."""
    s, p = c.s, c.p
    conf_files: tuple[ConfigFile, ...] = (NOVA_CONF, COMPUTE_CONF)
    vols: tuple[Volume, ...] = (
        Volume(node.run_dir("libvirt"), "/run/libvirt"), Volume(node.run_dir("openvswitch"), "/run/openvswitch"),
        # the consoles' ptys: the host's, or a pod node's own devpts (host/node_pod.py)
        Volume("/dev/pts" if node.network == "host" else node.run_dir("pts"), "/dev/pts"),
        Volume(str(node.instances(p)), str(p.nova_instances)),
        Volume(str(node.data(p, "nova")), "/var/lib/nova"),
    )
    # nova picks a UEFI guest's loader and NVRAM template from the firmware descriptors it sees and
    # hands libvirt their paths: the host's, mounted over the image's own (host/firmware.py).
    vols += tuple(Volume(d, d, read_only=True) for d in firmware_dirs(p))
    if modules := kernel_modules(p):  # for modprobe by os-vif and privsep; some hosts have none
        vols += (Volume(modules, "/lib/modules", read_only=True),)
    if migrates(c, node):  # cold migration: it copies a guest's disks to another node over SSH
        vols += (Volume(node.ssh_dir(p), SSH_DIR, read_only=True),)
        conf_files += (ConfigFile("nova/ssh_config", "/root/.ssh/config", "root", 0o644),)
    if resolved(s, p)["nfs_mode"] == "local":
        # nova mounts a volume's share on attach and unmounts it on detach; with no kernel NFS,
        # its `mount -t nfs` reaches a helper that bind-mounts the export directory instead.
        vols += (Volume(str(p.cinder_nfs), str(p.cinder_nfs)),)
        conf_files += (ConfigFile("nova/mount.nfs", "/sbin/mount.nfs", "root", 0o755),)
    return Service(
        node.service("nova-compute"), "nova-compute",
        ("nova-compute", "--config-file", NOVA_CONF.target, "--config-file", COMPUTE_CONF.target),
        Probe("compute_service", binary="nova-compute", maps_cell=True, node_host=node.host, deadline_s=240),
        # placement: it registers its resource provider there as it starts; the conductor: it
        # waits for it. Neutron is only asked when a server is built.
        depends_on=role_deps(node, "nova-conductor", "ovn-controller", "placement", own=("ovn-controller",)),
        privileged=True, network_mode=node.network, volumes=vols, configs=conf_files, cpu_shares=CRITICAL_SHARES,
        # nova-manage needs nova.conf's database settings: it runs in nova-conductor.
        jobs=(Job("nova-discover-hosts", "exec", ("nova-manage", "cell_v2", "discover_hosts", "--verbose"),
                  after_start=True, in_service="nova-conductor"),),
    )


def migrates(c: Ctx, node: Node) -> bool:
    """Whether other nodes exist for it to migrate guests to (node one alone has none)."""
    return not node.is_first or bool(c.nodes)


def ssh(c: Ctx, node: Node) -> Service | None:
    """sshd on a node, where the other nodes' nova-compute copies a cold-migrating guest's disks
    into its instances path (core/sshtrust.py: the deployment's keys only, nothing else signs
    in). It listens on the node's migration address alone; only with other nodes."""
    if not migrates(c, node):
        return None
    listen = node.address if not node.is_first else first_listens_at(c.s, {e.kind for e in c.nodes})
    assert listen is not None
    return Service(
        node.service("nova-ssh"), "nova-compute",
        ("sh", "-c", "mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -f /etc/ssh/hotstack-sshd.conf"),
        Probe("tcp", host=listen, port=c.s.nodes.ssh_port, deadline_s=60),
        network_mode=node.network,
        volumes=(Volume(str(node.instances(c.p)), str(c.p.nova_instances)),
                 Volume(node.ssh_dir(c.p), SSH_DIR, read_only=True)),
        configs=(ConfigFile("nova/sshd_config", "/etc/ssh/hotstack-sshd.conf", "root", 0o644),),
        # node one's: closed to all but the nodes (host/node_guard.py)
        node_ports=(c.s.nodes.ssh_port,) if node.is_first else (),
    )


ROLE = (compute, ssh)


def services(c: Ctx) -> list[Service]:
    s = c.s
    nova_conf = (NOVA_CONF,)
    cmd = ("--config-file", "/etc/nova/nova.conf")
    cells = ("sh", "-c", "nova-manage cell_v2 list_cells | grep -q ' cell1 ' || "
                         "nova-manage cell_v2 create_cell --name cell1 --verbose")
    return [
        Service(
            # Glance and placement are called per request, never at start: nova-api starts beside
            # them (a restart's critical path was keystone → glance → nova-api → ...).
            "nova-api", "nova", uwsgi("nova"), Probe("api", path="/v2.1/flavors", deadline_s=120),
            depends_on=api_deps(), slot=23, user="nova", cpu_shares=CRITICAL_SHARES,
            configs=(*nova_conf, conf("nova", "hotstack-uwsgi.ini")),
            **c.api("compute", "nova", s.ports.nova, "/v2.1"),
            database=("nova_api", "nova", "nova_cell0"), keystone_user="nova",
            jobs=(sql("nova"), run("nova-api-db-sync", "nova-manage", "api_db", "sync"),
                  run("nova-cell0", "nova-manage", "cell_v2", "map_cell0"),
                  run("nova-cell1", *cells), run("nova-db-sync", "nova-manage", "db", "sync"),
                  keystone("nova")),
        ),
        Service(
            # The OVN metadata agent (host network) reaches it through haproxy on brex_ip.
            "nova-metadata", "nova", uwsgi("nova", "hotstack-uwsgi-metadata.ini"),
            Probe("http", path="/", deadline_s=60), depends_on=api_deps(), after_jobs=("nova-api",), slot=24,
            user="nova",
            port=METADATA_PORT, frontend=s.ports.nova_metadata,
            configs=(*nova_conf, conf("nova", "hotstack-uwsgi-metadata.ini")),
        ),
        dataclasses.replace(worker("nova-conductor", PROJECT, 25, "compute_service", nova_conf, "nova-api",
                                   PLACEMENT),
                            cpu_shares=CRITICAL_SHARES),
        worker("nova-scheduler", PROJECT, 26, "compute_service", nova_conf, "nova-api", PLACEMENT),
        Service(
            "nova-novncproxy", "nova", ("nova-novncproxy", *cmd, "--web", "/usr/share/novnc"),
            Probe("tcp", deadline_s=60), depends_on=api_deps(), after_jobs=("nova-api",), slot=27, user="nova",
            configs=nova_conf, **c.api("novnc", "novnc", s.ports.novnc),
            host_ports=(HostPorts((VNC_PORTS,), why="qemu's VNC consoles"),),
        ),
    ]
