"""Settings: sources merge in order, and every bad input is one clear BadInput naming key, value and rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hotstack.core.errors import BadInput
from hotstack.core.settings import load

# (key path, bad value, a fragment of the rule the message must state)
BAD: list[tuple[str, Any, str]] = [
    ("bogus", 1, "not a known setting"),
    ("network.bogus", 1, "not a known setting"),
    ("nova.cpu", "host", "not a known setting"),
    ("data_dir", "relative/path", "absolute path"),
    ("data_dir", "", "absolute path"),
    ("data_dir", 5, "must be a string"),
    ("region", "", "non-empty name"),
    ("region", "Region One", "non-empty name"),
    ("release", "2024.2", "2025.1"),
    ("release", "epoxy", "2025.1"),
    ("debug", "maybe", "must be a boolean"),
    ("network.container_cidr", "172.31.0.0/33", "CIDR form"),
    ("network.container_cidr", "not-a-cidr", "CIDR form"),
    ("network.container_cidr", "172.31.0.1/25", "host bits"),
    ("network.provider_cidr", "300.1.1.0/24", "CIDR form"),
    ("network.provider_cidr", "172.31.0.0/24", "overlap"),
    ("network.container_cidr", "172.31.0.128/26", "overlap"),
    ("network.brex_ip", "172.31.0.5", "inside network.provider_cidr"),
    ("network.brex_ip", "172.31.0.128", "host address"),
    ("network.brex_ip", "172.31.0.255", "host address"),
    ("network.brex_ip", "hello", "IPv4 address"),
    ("network.provider_cidr", "172.31.0.128/30", "at least 14 hosts"),
    ("network.container_cidr", "172.31.0.0/27", "62 hosts"),
    ("network.mtu", 100, "greater than or equal to 1280"),
    ("network.mtu", 65000, "less than or equal to 9000"),
    ("network.mtu", "big", "must be a whole number"),
    ("network.ex_bridge", "", "non-empty name"),
    ("network.ex_bridge", "a-very-long-bridge-name", "15 characters"),
    ("network.ex_bridge", "hot-int", "must differ from network.int_bridge"),
    ("network.domain", "Not A Domain", "DNS domain"),
    ("network.physnet", "phys net", "non-empty name"),
    ("network.tenant_cidr", "172.31.0.0/24", "must not overlap network.container_cidr"),
    ("ports.keystone", 0, "greater than or equal to 1"),
    ("ports.glance", 70000, "less than or equal to 65535"),
    ("ports.glance", 5000, "must differ from ports.keystone"),
    ("ports.nova", "http", "must be a whole number"),
    ("nova.virt_type", "xen", "'auto', 'kvm' or 'qemu'"),
    ("nova.host", "", "non-empty name"),
    ("cinder.nfs_mode", "iscsi", "'auto', 'nfs' or 'local'"),
    ("quotas.instances", -5, "greater than or equal to -1"),
    ("quotas.cores", "many", "must be a whole number"),
    ("horizon.enabled", "perhaps", "must be a boolean"),
    ("images.base", "docker", "'auto', 'pull' or 'debootstrap'"),
    ("images.mirror", "deb.debian.org", "should match pattern"),
    ("images.parallel", 0, "greater than or equal to 1"),
    ("network", "flat", "must be a mapping"),
]


def nested(key: str, value: Any) -> dict[str, Any]:
    head, _, rest = key.partition(".")
    return {head: nested(rest, value) if rest else value}


@pytest.mark.parametrize(("key", "value", "rule"), BAD, ids=[f"{k}={v!r}" for k, v, _ in BAD])
def test_bad_input_in_file_names_key_value_and_rule(tmp_path: Path, key: str, value: Any, rule: str) -> None:
    cfg = tmp_path / "hotstack.yaml"
    cfg.write_text(yaml.safe_dump(nested(key, value)))
    with pytest.raises(BadInput) as caught:
        load(cfg, environ={})
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert key in message, message
    assert rule in message, message
    if not isinstance(value, dict) and value != "":
        assert str(value) in message, message


def test_at_least_thirty_bad_inputs() -> None:
    assert len(BAD) >= 30


def test_defaults_match_the_design(config_file: Path) -> None:
    s = load(config_file, environ={})
    assert str(s.data_dir) == "/var/lib/hotstack-os"
    assert str(s.network.container_cidr) == "172.31.0.0/25"
    assert str(s.network.provider_cidr) == "172.31.0.128/25"
    assert str(s.network.brex_ip) == "172.31.0.129"
    assert (s.region, s.release, s.debug) == ("RegionOne", "2025.1", False)
    assert (s.nova.virt_type, s.cinder.nfs_mode, s.horizon.enabled) == ("auto", "auto", True)


def test_sources_override_in_order(tmp_path: Path) -> None:
    cfg = tmp_path / "hotstack.yaml"
    cfg.write_text("region: FromFile\nnetwork: {mtu: 1400}\ndebug: true\n")
    env = {"HOTSTACK_REGION": "FromEnv", "HOTSTACK_NETWORK__MTU": "1450"}
    s = load(cfg, {"network.mtu": "1300"}, environ=env)
    assert (s.region, s.network.mtu, s.debug) == ("FromEnv", 1300, True)


def test_environment_names_the_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "other.yaml"
    cfg.write_text("region: Elsewhere\n")
    assert load(environ={"HOTSTACK_CONFIG": str(cfg)}).region == "Elsewhere"


def test_quoted_release_in_yaml_is_accepted(tmp_path: Path) -> None:
    cfg = tmp_path / "hotstack.yaml"
    cfg.write_text('release: "2025.1"\n')
    assert load(cfg, environ={}).release == "2025.1"


def test_unknown_environment_key_is_rejected(config_file: Path) -> None:
    with pytest.raises(BadInput, match="netwrok"):
        load(config_file, environ={"HOTSTACK_NETWROK__MTU": "1400"})


def test_missing_explicit_config_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        load(tmp_path / "nope.yaml", environ={})


@pytest.mark.parametrize("text", ["[1, 2]", "key: [unclosed", "just a string"])
def test_malformed_file_is_bad_input(tmp_path: Path, text: str) -> None:
    cfg = tmp_path / "hotstack.yaml"
    cfg.write_text(text)
    with pytest.raises(BadInput, match=str(cfg)):
        load(cfg, environ={})


def test_alternate_networks_validate(config_file: Path) -> None:
    s = load(config_file, {"network.container_cidr": "10.99.0.0/25", "network.provider_cidr": "10.99.0.128/25",
                           "network.brex_ip": "10.99.0.129"}, environ={})
    assert str(s.network.brex_ip) == "10.99.0.129"
