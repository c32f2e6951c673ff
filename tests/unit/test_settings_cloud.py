"""The settings of what post-setup makes in the cloud: flavors and quotas (defaults are upstream
HotStack-OS's), each bad entry one BadInput naming the key, the value and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from settingsfiles import refused, write

from hotstack.core.settings import dump, load

UPSTREAM_FLAVORS = {
    "hotstack.small": (1, 2048, 20), "hotstack.medium": (2, 4096, 40), "hotstack.mlarge": (2, 6144, 40),
    "hotstack.large": (4, 8192, 80), "hotstack.xlarge": (8, 16384, 160), "hotstack.xxlarge": (12, 32768, 160),
    "hotstack.xxxlarge": (12, 49152, 160),
}
UPSTREAM_QUOTAS = {
    "cores": 40, "ram_mb": 102400, "instances": 20, "key_pairs": 10, "server_groups": 10, "server_group_members": 10,
    "networks": 20, "subnets": 20, "ports": 100, "routers": 10, "floating_ips": 20, "security_groups": 20,
    "security_group_rules": 100, "volumes": 20, "snapshots": 20, "gigabytes": 1000, "per_volume_gigabytes": 500,
}
TINY = {"vcpus": 1, "ram_mb": 192, "disk_gb": 1}


def test_default_flavors_are_upstreams_and_hotstack_tiny(config_file: Path) -> None:
    flavors = load(config_file, environ={}).flavors
    sizes = {name: (f.vcpus, f.ram_mb, f.disk_gb) for name, f in flavors.items()}
    assert sizes == UPSTREAM_FLAVORS | {"hotstack.tiny": (1, 192, 1)}


def test_default_quotas_are_upstreams(config_file: Path) -> None:
    assert load(config_file, environ={}).quotas.model_dump() == UPSTREAM_QUOTAS


def test_flavors_from_the_file_replace_the_default_set(tmp_path: Path) -> None:
    cfg = write(tmp_path, {"flavors": {"hotstack.tiny": TINY, "m1.big": {"vcpus": 16, "ram_mb": 65536, "disk_gb": 0}}})
    s = load(cfg, environ={})
    assert sorted(s.flavors) == ["hotstack.tiny", "m1.big"] and s.flavors["m1.big"].disk_gb == 0
    assert load(write(tmp_path, yaml.safe_dump(dump(s))), environ={}) == s  # `config show` loads back


# (flavors, a fragment of the message)
BAD_FLAVORS = [
    ({"hotstack.tiny": TINY | {"vcpus": 0}}, "setting flavors.hotstack.tiny.vcpus = 0: Input should be greater than"),
    ({"hotstack.tiny": TINY | {"ram_mb": -1}}, "flavors.hotstack.tiny.ram_mb = -1"),
    ({"hotstack.tiny": TINY | {"disk_gb": -1}}, "flavors.hotstack.tiny.disk_gb = -1"),
    ({"hotstack.tiny": TINY | {"vcpus": 2**31}}, "less than or equal to 2147483647"),
    ({"hotstack.tiny": TINY | {"vcpus": "2"}}, "vcpus = '2': must be a whole number, not a string"),
    ({"hotstack.tiny": {"vcpus": 1, "ram_mb": 192}}, "flavors.hotstack.tiny.disk_gb = (missing)"),
    ({"hotstack.tiny": TINY | {"swap": 1}}, "flavors.hotstack.tiny.swap = 1: is not a known setting"),
    ({"hotstack.tiny": [1, 192, 1]}, "flavors.hotstack.tiny = [1, 192, 1]: must be a mapping, not a list"),
    ({"hotstack.tiny": TINY, "bad name": TINY}, "flavor name 'bad name' must be a non-empty name"),
    ({"hotstack.tiny": TINY, "x" * 256: TINY}, "must be at most 255 characters long"),
    ({"hotstack.small": TINY}, "setting flavors = '{...}': must hold hotstack.tiny"),
    ({}, "must hold hotstack.tiny"),
    ([TINY], "setting flavors = [{"),
]


@pytest.mark.parametrize(("flavors", "fragment"), BAD_FLAVORS)
def test_bad_flavors_name_the_key_the_value_and_the_rule(tmp_path: Path, flavors: object, fragment: str) -> None:
    message = refused(write(tmp_path, {"flavors": flavors}))
    assert fragment in message and len(message) < 400, message


@pytest.mark.parametrize("key", ["flavors", "flavors.hotstack.tiny.vcpus"])
def test_flavors_come_from_the_file_only(config_file: Path, key: str) -> None:
    message = refused(config_file, {key: "2"})
    assert f"setting '{key}' from --set: flavors is a set of entries" in message and "config file" in message
    env = "HOTSTACK_" + key.upper().replace(".", "__")
    assert "written in the config file only" in refused(config_file, environ={env: "2"})


@pytest.mark.parametrize(("key", "value", "fragment"), [
    ("quotas.key_pairs", "-2", "greater than or equal to -1"),
    ("quotas.security_group_rules", "1000001", "less than or equal to 1000000"),
    ("quotas.per_volume_gigabytes", str(2**31), "less than or equal to 2147483647"),
    ("quotas.snapshots", "some", "valid integer"),
])
def test_new_quotas_are_bounded(config_file: Path, key: str, value: str, fragment: str) -> None:
    message = refused(config_file, {key: value})
    assert key in message and value in message and fragment in message


def test_unlimited_quotas_stay_allowed(config_file: Path) -> None:
    s = load(config_file, {"quotas.routers": "-1", "quotas.per_volume_gigabytes": "-1"}, environ={})
    assert (s.quotas.routers, s.quotas.per_volume_gigabytes) == (-1, -1)
