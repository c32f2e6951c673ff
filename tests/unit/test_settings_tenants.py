"""The tenants of the settings: their quotas default to the deployment's key by key; every bad
entry is one BadInput naming the key, the value and the rule; each user gets a password in the
secrets file and a clouds.yaml entry, and a user dropped from the settings loses its entry."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from settingsfiles import refused, write

from hotstack import catalog
from hotstack.cli.main import cli
from hotstack.cloud.clouds_yaml import remove_clouds_yaml, write_clouds_yaml
from hotstack.cloud.outcome import Outcome
from hotstack.commands import cloud_cmd
from hotstack.core.credentials import USER_PROJECT, entries, tenant_secret
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings, dump, load
from hotstack.core.settings_cloud import QuotaSettings
from hotstack.core.settings_tenants import RESERVED_PROJECTS, RESERVED_USERS, TenantQuotas, quotas_of
from hotstack.stack.keystone_jobs import SERVICE_PROJECT, generated_passwords

RED = {"name": "red", "users": [{"name": "alice"}, {"name": "rita", "role": "reader"}],
       "quotas": {"instances": 1, "volumes": 1}, "network": {"cidr": "10.20.1.0/24"}}


def tenants(tmp_path: Path, *entries: Any, **more: Any) -> Path:
    return write(tmp_path, {"tenants": list(entries), **more})


def loaded(cfg: Path, tmp_path: Path) -> Settings:
    return load(cfg, {"data_dir": str(tmp_path / "data")}, environ={})


def test_no_tenants_by_default(settings: Settings) -> None:
    assert settings.tenants == []


def test_a_tenant_takes_the_deployments_quotas_but_its_own(tmp_path: Path) -> None:
    s = loaded(tenants(tmp_path, RED, quotas={"cores": 8}), tmp_path)
    red = s.tenants[0]
    assert [(u.name, u.role) for u in red.users] == [("alice", "member"), ("rita", "reader")]
    q = quotas_of(red, s.quotas)
    assert (q.instances, q.volumes, q.cores, q.ports) == (1, 1, 8, QuotaSettings().ports)
    assert red.network is not None and red.network.router and str(red.network.cidr) == "10.20.1.0/24"
    assert load(write(tmp_path, yaml.safe_dump(dump(s))), environ={}) == s  # `config show` loads back


def test_tenant_quotas_have_every_key_of_quotas_and_its_bounds() -> None:
    assert set(TenantQuotas.model_fields) == set(QuotaSettings.model_fields)
    for name, field in QuotaSettings.model_fields.items():
        assert TenantQuotas.model_fields[name].metadata == field.metadata, name


def test_reserved_names_hold_every_project_and_user_hotstack_makes(settings: Settings) -> None:
    cat = catalog.build(settings, Paths(settings.data_dir))
    assert {USER_PROJECT, SERVICE_PROJECT, "admin"} <= set(RESERVED_PROJECTS)
    assert {svc.keystone_user for svc in cat if svc.keystone_user} | {"admin", "hotstack", "heat_domain_admin"} \
        <= set(RESERVED_USERS)


BAD_TENANTS: list[tuple[Any, str]] = [
    ([RED, RED], "setting tenants = [{"),
    ([RED, RED], "tenant name 'red' is listed twice"),
    ([{"name": "hotstack"}], "setting tenants.0.name = 'hotstack': is a project hotstack makes itself"),
    ([{"name": "service"}], "tenants.0.name = 'service'"),
    ([{"name": "a b"}], "tenants.0.name = 'a b': must be a non-empty name"),
    ([{"name": "x" * 65}], "must be at most 64 characters long"),
    ([{"users": []}], "tenants.0.name = (missing)"),
    ([{"name": "red", "colour": "red"}], "tenants.0.colour = 'red': is not a known setting"),
    ([{"name": "red", "users": [{"name": "nova"}]}], "tenants.0.users.0.name = 'nova': is a user hotstack makes"),
    ([{"name": "red", "users": [{"name": "a", "role": "owner"}]}],
     "tenants.0.users.0.role = 'owner': must be 'admin', 'member' or 'reader'"),
    ([{"name": "red", "users": [{"name": "a"}, {"name": "a", "role": "reader"}]}],
     "user name 'a' is listed twice in this tenant"),
    ([{"name": "red", "users": ["alice"]}], "tenants.0.users.0 = 'alice': must be a mapping, not a string"),
    ([{"name": "red", "quotas": {"instances": -2}}], "tenants.0.quotas.instances = -2: Input should be greater"),
    ([{"name": "red", "quotas": {"gigabytes": 2**31}}], "less than or equal to 2147483647"),
    ([{"name": "red", "quotas": {"instance": 1}}], "tenants.0.quotas.instance = 1: is not a known setting"),
    ([{"name": "red", "quotas": {"volumes": "1"}}], "tenants.0.quotas.volumes = '1': must be a whole number"),
    ([{"name": "red", "network": {}}], "tenants.0.network.cidr = (missing)"),
    ([{"name": "red", "network": {"cidr": "10.0.0.1/24"}}], "tenants.0.network.cidr = '10.0.0.1/24': must be an IPv4"),
    ([{"name": "red", "network": {"cidr": "10.0.0.0/30"}}], "must have room for a router, DHCP and guests (prefix /29"),
    ([{"name": "red", "network": {"cidr": "192.168.100.128/25"}}],
     "tenants.0.network.cidr = '192.168.100.128/25': must not overlap network.tenant_cidr 192.168.100.0/24"),
    ([{"name": "red", "network": {"cidr": "172.31.0.0/16"}}], "must not overlap network.container_cidr"),
    ([{"name": "a", "network": {"cidr": "10.0.0.0/24"}}, {"name": "b", "network": {"cidr": "10.0.0.0/16"}}],
     "setting tenants.1.network.cidr = '10.0.0.0/16': must not overlap tenants.0.network.cidr 10.0.0.0/24"),
    ([{"name": "red", "network": {"cidr": "10.0.0.0/24"}, "quotas": {"routers": 0}}],
     "tenants.0.quotas.routers = 0: must be at least 1 (or -1, unlimited)"),
    ([{"name": "red", "network": {"cidr": "10.0.0.0/24"}, "quotas": {"ports": 1}}], "tenants.0.quotas.ports = 1"),
    ([{"name": "a-b", "users": [{"name": "c"}]}, {"name": "a", "users": [{"name": "b-c"}]}],
     "tenants.1.users.0.name = 'b-c': makes the clouds.yaml entry hotstack-a-b-c, the same as tenant a-b's user c"),
    ({"red": {}}, "setting tenants = {'red': {}}: must be a list, not a mapping"),
]


@pytest.mark.parametrize(("value", "fragment"), BAD_TENANTS)
def test_bad_tenants_name_the_key_the_value_and_the_rule(tmp_path: Path, value: Any, fragment: str) -> None:
    message = refused(write(tmp_path, {"tenants": value}))
    assert fragment in message and len(message) < 400, message


def test_a_network_without_router_needs_no_router_quota(tmp_path: Path) -> None:
    cfg = tenants(tmp_path, {"name": "red", "network": {"cidr": "10.0.0.0/24", "router": False},
                             "quotas": {"routers": 0}})
    assert loaded(cfg, tmp_path).tenants[0].quotas.routers == 0


def test_more_routers_than_the_pool_has_addresses_for_are_refused(tmp_path: Path) -> None:
    many = [{"name": f"t{i}", "network": {"cidr": f"10.0.{i}.0/24"}} for i in range(13)]
    net = {"provider_cidr": "172.31.0.128/28", "brex_ip": "172.31.0.129"}  # a pool of 13, 1 for hotstack's router
    assert len(loaded(tenants(tmp_path, *many[:12], network=net), tmp_path).tenants) == 12
    message = refused(tenants(tmp_path, *many, network=net))
    assert "setting tenants = '[...]': ask for 13 routers; the floating-IP pool of network.provider_cidr has " \
           "12 addresses left" in message


@pytest.mark.parametrize("key", ["tenants", "tenants.0.name"])
def test_tenants_come_from_the_file_only(config_file: Path, key: str) -> None:
    assert "tenants is a set of entries, written in the config file only" in refused(config_file, {key: "x"})


def test_each_tenant_user_gets_a_password_and_a_clouds_yaml_entry(tmp_path: Path) -> None:
    blue = {"name": "blue", "users": [{"name": "alice", "role": "reader"}]}
    s = loaded(tenants(tmp_path, RED, blue), tmp_path)
    paths = Paths(s.data_dir)
    clouds = entries(s, paths, with_user=True)
    assert set(clouds) == {"hotstack-os-admin", "hotstack-os", "hotstack-red-alice", "hotstack-red-rita",
                           "hotstack-blue-alice"}
    red_alice, blue_alice = clouds["hotstack-red-alice"]["auth"], clouds["hotstack-blue-alice"]["auth"]
    assert (red_alice["username"], red_alice["project_name"], blue_alice["project_name"]) == ("alice", "red", "blue")
    secrets = yaml.safe_load(paths.secrets_file.read_text())
    assert red_alice["password"] == blue_alice["password"] == secrets[tenant_secret("alice")]  # one keystone user
    assert len(red_alice["password"]) == 32 and paths.secrets_file.stat().st_mode & 0o777 == 0o600
    assert set(entries(s, paths, with_user=False)) == {"hotstack-os-admin"}
    other = loaded(write(tmp_path, {"name": "lab", "tenants": [RED]}), tmp_path)
    assert "lab-red-alice" in entries(other, Paths(other.data_dir), with_user=True)


def test_a_dropped_users_entry_leaves_the_system_clouds_yaml(tmp_path: Path) -> None:
    system = tmp_path / "etc-openstack" / "clouds.yaml"
    system.parent.mkdir()
    system.write_text(yaml.safe_dump({"clouds": {"mine": {"auth": {}}, "hotstack-red-x": {"auth": {}}}}))
    s = loaded(tenants(tmp_path, RED), tmp_path)
    paths = dataclasses.replace(Paths(s.data_dir), system_clouds_yaml=system)
    write_clouds_yaml(s, paths, with_user=True)
    names = set(yaml.safe_load(system.read_text())["clouds"])
    assert {"mine", "hotstack-red-x", "hotstack-red-alice", "hotstack-red-rita"} <= names
    fewer = loaded(tenants(tmp_path, {**RED, "users": [{"name": "alice"}]}), tmp_path)
    write_clouds_yaml(fewer, paths, with_user=True)
    names = set(yaml.safe_load(system.read_text())["clouds"])
    assert "hotstack-red-rita" not in names and {"mine", "hotstack-red-x", "hotstack-red-alice"} <= names
    remove_clouds_yaml(fewer, paths)  # clean: every entry it wrote, and only those
    assert set(yaml.safe_load(system.read_text())["clouds"]) == {"mine", "hotstack-red-x"}


def test_the_password_cost_job_sets_tenant_users_passwords_again(tmp_path: Path) -> None:
    s = loaded(tenants(tmp_path, RED, {"name": "blue", "users": [{"name": "alice"}]}), tmp_path)
    cat = catalog.build(s, Paths(s.data_dir))
    secrets = {name: f"pw-{name}" for name in catalog.secret_names(cat)}
    users = generated_passwords(cat, secrets)
    assert ("alice", "default", f"pw-{tenant_secret('alice')}") in users
    assert [name for name, _, _ in users].count("alice") == 1


def test_the_readmes_tenants_example_is_valid_settings(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Tenants"):]
    start = section.index("```yaml\n") + 8
    s = loaded(write(tmp_path, section[start:section.index("```\n", start)]), tmp_path)
    assert [t.name for t in s.tenants] == ["team-a", "team-b"]
    assert [(u.name, u.role) for u in s.tenants[1].users] == [("bob", "member"), ("alice", "reader")]


def test_setup_cloud_prunes_only_when_asked_and_says_what_it_kept(tmp_path: Path, config_file: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The click layer: the flag reaches the command; orphans are said on stderr, stdout stays JSON."""
    asked: list[bool] = []

    def fake(settings: Settings, progress: Any, *, prune: bool = False) -> cloud_cmd.SetupReport:
        asked.append(prune)  # the command itself needs a cloud: the e2e tests run it
        return cloud_cmd.SetupReport([Outcome("tenant gone", "orphaned"), Outcome("user gus", "orphaned")], "x-os")

    monkeypatch.setattr(cloud_cmd, "setup_cloud_command", fake)
    base = ["--config", str(config_file), "--set", f"data_dir={tmp_path}/data", "setup-cloud"]
    result = CliRunner().invoke(cli, [*base, "--json"], catch_exceptions=False)
    assert result.exit_code == 0 and asked == [False]
    assert json.loads(result.stdout)["changes"][0] == {"thing": "tenant gone", "action": "orphaned"}
    assert "no longer in the settings, kept: tenant gone, user gus; `hotstack setup-cloud --prune-tenants`" \
        in result.stderr
    assert CliRunner().invoke(cli, [*base, "--prune-tenants"], catch_exceptions=False).exit_code == 0
    assert asked == [False, True]
