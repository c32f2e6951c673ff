"""`podman run` and `podman network create` arguments for one service of the rendered compose
document: the container podman-compose would make from the same definition, labels included
(so `podman-compose -f podman-compose.yml ps/down/logs` still finds hotstack's containers).

`up` starts each container with one podman call instead of one podman-compose process per
service (a Python start and a parse of the file, then its own podman calls): measured ~0.5
CPU-s a service on two cores. The compose file stays the description a user can run by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from hotstack.core.errors import HotstackError

# compose keys hotstack orders or leaves out itself: the graph starts services, profiles pick them.
IGNORED = frozenset({"depends_on", "profiles"})
HEALTH = (("interval", "--health-interval"), ("timeout", "--health-timeout"),
          ("start_period", "--health-start-period"), ("retries", "--health-retries"))


def _pairs(value: Mapping[str, Any] | list[str]) -> list[str]:
    """compose's two spellings of labels and environment (a mapping or KEY=VALUE lines)."""
    return [f"{k}={v}" for k, v in value.items()] if isinstance(value, Mapping) else [str(v) for v in value]


def _networks(service: str, value: Mapping[str, Any]) -> list[str]:
    out = []
    for name, opts in value.items():
        parts = [f"ip={opts['ipv4_address']}"] if opts and opts.get("ipv4_address") else []
        parts += [f"mac={opts['mac_address']}"] if opts and opts.get("mac_address") else []
        out.append(f"--network={name}:{','.join([*parts, f'alias={service}'])}")
    return out


def _healthcheck(value: Mapping[str, Any]) -> list[str]:
    test = value["test"]
    # CMD-SHELL's string is what podman-compose hands podman as a one-element JSON list.
    command = json.dumps([test[1]] if test[0] == "CMD-SHELL" else test[1:])
    out = ["--health-cmd", command]
    for key, flag in HEALTH:
        if key in value:
            out += [flag, str(value[key])]
    return out


# Each key of a definition → its podman flags (`k` is the key's value).
FLAGS: dict[str, Callable[[Any], list[str]]] = {
    "container_name": lambda v: [f"--name={v}"],
    "labels": lambda v: [a for pair in _pairs(v) for a in ("--label", pair)],
    "network_mode": lambda v: [f"--network={v}"],
    "extra_hosts": lambda v: [a for host in v for a in ("--add-host", host)],
    "hostname": lambda v: ["--hostname", v],
    "restart": lambda v: ["--restart", v],
    "volumes": lambda v: [a for volume in v for a in ("-v", volume)],
    "user": lambda v: ["-u", v],
    "privileged": lambda v: ["--privileged"] if v else [],
    "pid": lambda v: [f"--pid={v}"],
    "environment": lambda v: [a for pair in _pairs(v) for a in ("-e", pair)],
    "ports": lambda v: [a for port in v for a in ("-p", port)],
    "cpu_shares": lambda v: ["--cpu-shares", str(v)],
    "healthcheck": _healthcheck,
}


def compose_labels(project: str, service: str, compose_file: Path) -> list[str]:
    """The labels podman-compose puts on a container it makes (how it finds its project's)."""
    pairs = {"io.podman.compose.project": project, "com.docker.compose.project": project,
             "com.docker.compose.project.working_dir": str(compose_file.parent),
             "com.docker.compose.project.config_files": str(compose_file),
             "io.podman.compose.service": service, "com.docker.compose.service": service,
             "com.docker.compose.container-number": "1"}
    return [a for pair in _pairs(pairs) for a in ("--label", pair)]


def run_args(definition: Mapping[str, Any], service: str, project: str, compose_file: Path) -> list[str]:
    """`podman run -d ...` arguments (after `podman`) creating and starting the service's container."""
    args = ["run", "-d"]
    for key, value in definition.items():
        if key in IGNORED or key in ("image", "command", "networks"):
            continue
        if key not in FLAGS:
            raise HotstackError(f"compose key {key!r} of service {service} has no podman flag here",
                                hint="a bug in hotstack: containers/runargs.py must learn it")
        args += FLAGS[key](value)
    args += compose_labels(project, service, compose_file)
    args += _networks(service, definition.get("networks") or {})
    command = definition.get("command") or []
    return [*args, definition["image"], *([command] if isinstance(command, str) else command)]


def network_create_args(name: str, definition: Mapping[str, Any], project: str) -> list[str]:
    """`podman network create ...` for a compose network: bridge, its subnet, gateway and options."""
    args = ["network", "create", "--driver", definition.get("driver", "bridge"),
            "--label", f"io.podman.compose.project={project}"]
    for pool in (definition.get("ipam") or {}).get("config") or []:
        args += ["--subnet", pool["subnet"]] + (["--gateway", pool["gateway"]] if pool.get("gateway") else [])
    for key, value in (definition.get("driver_opts") or {}).items():
        args += ["--opt", f"{key}={value}"]
    return [*args, definition.get("name", name)]
