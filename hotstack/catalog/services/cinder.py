"""Block storage: cinder-api, scheduler and volume with the NFS driver over one share on the host.

The share string and where os-brick expects it mounted are defined here; the host's NFS step
(host/nfs.py) and the templates use the same two functions."""

from __future__ import annotations

import hashlib

from hotstack.catalog.model import HostPorts, Probe, Service, Volume
from hotstack.catalog.services.common import Ctx, api_deps, conf, worker, wsgi_api
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings

PROJECT = "cinder"
NFS_SERVER_PORTS = (111, 2049)  # rpcbind and nfsd on the host, in `nfs` mode


def nfs_share(s: Settings, p: Paths) -> str:
    """The share string cinder's NFS driver is given (in local mode it is never really mounted):
    at the control address, where other machines' nodes mount it too (default: brex_ip). Set
    `nodes.control_address` before volumes exist: an attached volume keeps the share it had."""
    return f"{s.nodes.control_address or s.network.brex_ip}:{p.cinder_nfs}"


def nfs_mount_dir(s: Settings, p: Paths) -> str:
    """Where os-brick expects the share: <mount base>/<md5 of the share string>."""
    return f"{p.nova_mnt}/{hashlib.md5(nfs_share(s, p).encode()).hexdigest()}"


def services(c: Ctx) -> list[Service]:
    s, p = c.s, c.p
    cinder_conf = (conf("cinder", "cinder.conf"),)
    cmd = ("--config-file", "/etc/cinder/cinder.conf")
    return [
        wsgi_api(c, "cinder-api", PROJECT, 29, c.api("volumev3", "cinderv3", s.ports.cinder, "/v3/%(project_id)s"),
                 "/v3/{project_id}/types", api_deps(), cinder_conf, ("cinder-manage", "db", "sync")),
        worker("cinder-scheduler", PROJECT, 30, "volume_service", cinder_conf, "cinder-api"),
        Service(
            "cinder-volume", "cinder", ("cinder-volume", *cmd),
            Probe("volume_service", binary="cinder-volume"), depends_on=api_deps(), after_jobs=("cinder-api",),
            slot=31, privileged=True,
            volumes=(c.data("cinder", "/var/lib/cinder"), Volume(str(p.cinder_nfs), nfs_mount_dir(s, p))),
            configs=(*cinder_conf, conf("cinder", "nfs_shares")),
            host_ports=(HostPorts(NFS_SERVER_PORTS, ("tcp", "udp"), nfs_only=True, why="the kernel NFS server"),),
        ),
    ]
