"""hotstack's own `podman run` makes the container podman-compose makes from the same compose
definition: each service here created both ways with real podman (test deployment: own name,
network and addresses), and podman's view of the two compared field by field — labels,
user, hostname, command, environment, mounts, privileges, CPU weight, ulimits, runtime,
restart policy, health check, extra hosts, network address, MAC and alias. All removed after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import isolated_overrides

from hotstack import catalog
from hotstack.catalog import Catalog
from hotstack.commands.render_cmd import render_catalog
from hotstack.containers import control, podman
from hotstack.core.paths import Paths
from hotstack.core.settings import load
from hotstack.stack.jobs import load_compose

pytestmark = [pytest.mark.integration, pytest.mark.images]

SERVICES = ("memcached", "rabbitmq", "horizon")  # plain; with environment; with a user and a CPU weight
# What podman-compose adds that says which tool made the container, not what it is.
TOOL_LABELS = ("io.podman.compose.version", "io.podman.compose.config-hash", "PODMAN_SYSTEMD_UNIT",
               "com.docker.compose.project.config_files", "com.docker.compose.project.working_dir")


@pytest.fixture
def cat(tmp_path: Path, config_file: Path, hotstack_images: dict[str, str]) -> Iterator[Catalog]:
    settings = load(config_file, isolated_overrides(tmp_path / "data"), environ={})
    cat = catalog.build(settings, Paths(settings.data_dir))
    render_catalog(cat)
    network = settings.network.podman_network
    had_network = control.network_exists(network)
    try:
        yield cat
    finally:
        control.remove(*(cat[name].container for name in SERVICES), timeout=5)
        if not had_network and control.network_exists(network):
            podman.run(["network", "rm", network], check=False)


def view(container: str) -> dict[str, Any]:
    data = json.loads(podman.run(["inspect", container]).stdout)[0]
    config, host = data["Config"], data["HostConfig"]
    labels = {k: v for k, v in (config.get("Labels") or {}).items() if k not in TOOL_LABELS}
    own_id = data["Id"][:12]  # podman's alias for every container: its own short id
    nets = {name: (n["IPAddress"], n["MacAddress"], sorted(a for a in n.get("Aliases") or [] if a != own_id))
            for name, n in (data["NetworkSettings"].get("Networks") or {}).items()}
    return {"labels": labels, "user": config["User"], "hostname": config["Hostname"], "cmd": config["Cmd"],
            "env": sorted(e for e in config["Env"] if not e.startswith(("HOSTNAME=", "container="))),
            "image": config["Image"], "binds": sorted(host.get("Binds") or []), "privileged": host["Privileged"],
            "pid": host["PidMode"], "cpu_shares": host["CpuShares"], "ulimits": host.get("Ulimits"),
            "runtime": data["OCIRuntime"], "restart": host["RestartPolicy"], "health": config.get("Healthcheck"),
            "hosts": sorted(host.get("ExtraHosts") or []), "networks": nets}


def test_both_ways_make_the_same_container(cat: Catalog) -> None:
    compose = load_compose(cat.paths.compose_file)
    project = cat.settings.network.podman_network
    control.ensure_network(compose, project)
    for name in SERVICES:
        container = cat[name].container
        control.compose_up(compose, project, name, state_dir=cat.paths.state, profile=cat[name].profile)
        theirs = view(container)
        control.remove(container, timeout=5)
        control.start(compose, project, name, cat.paths.compose_file)
        ours = view(container)
        control.remove(container, timeout=5)
        assert ours == theirs, name
        assert theirs["labels"]["io.hotstack.service"] == name and theirs["networks"]
