"""`podman run` arguments from the rendered compose file: every service of the real catalog
maps, with its name, labels, network address, mounts and command; an unknown key is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotstack import catalog
from hotstack.commands.render_cmd import render_catalog
from hotstack.containers import runargs
from hotstack.core.errors import HotstackError
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.stack.jobs import load_compose


def test_every_service_of_the_catalog_maps(settings: Settings) -> None:
    cat = catalog.build(settings, Paths(settings.data_dir))
    render_catalog(cat)
    compose = load_compose(cat.paths.compose_file)
    for name, definition in compose["services"].items():
        args = runargs.run_args(definition, name, "hotstack", cat.paths.compose_file)
        assert args[:2] == ["run", "-d"] and f"--name={cat[name].container}" in args
        assert f"io.hotstack.service={name}" in args and f"com.docker.compose.service={name}" in args
        tail = [definition["image"], *definition["command"]]
        assert args[-len(tail):] == tail
        for volume in definition["volumes"]:
            assert args[args.index(volume) - 1] == "-v"
        if cat[name].host_network:
            assert "--network=host" in args
        else:
            assert f"--network=hotstack:ip={cat.ip(name)},mac={definition['networks']['hotstack']['mac_address']}," \
                   f"alias={name}" in args


def test_an_unknown_compose_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HotstackError, match="compose key 'tmpfs' of service x"):
        runargs.run_args({"image": "i", "tmpfs": ["/run"]}, "x", "p", tmp_path / "c.yml")


def test_the_network_is_made_as_the_file_says() -> None:
    network = {"name": "hs", "driver": "bridge", "driver_opts": {"mtu": "1500"},
               "ipam": {"config": [{"subnet": "10.0.0.0/25", "gateway": "10.0.0.1"}]}}
    args = runargs.network_create_args("hotstack", network, "hs")
    assert args == ["network", "create", "--driver", "bridge", "--label", "io.podman.compose.project=hs",
                    "--subnet", "10.0.0.0/25", "--gateway", "10.0.0.1", "--opt", "mtu=1500", "hs"]
