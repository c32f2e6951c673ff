"""`hotstack node bundle`: the node's registry entry, its 0600 bundle, its certificate (real
keys and signatures, checked with `cryptography`), and bad input refused."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import NameOID

from hotstack import catalog
from hotstack.cli.main import cli
from hotstack.commands.node_cmd import bundle_command
from hotstack.core.errors import BadInput
from hotstack.core.noderegistry import Registry
from hotstack.core.paths import Paths
from hotstack.core.secrets import Secrets
from hotstack.core.settings import Settings, load


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def all_secrets(paths: Paths) -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load(paths.secrets_file.read_text())
    return data


def test_a_pod_node_s_bundle_holds_its_credentials_and_no_other_secret(settings: Settings) -> None:
    paths = Paths(settings.data_dir)
    bundle_command(settings, "compute-2", None, None)
    # every secret the deployment has (as after `up`), then the bundle made again
    Secrets(paths.secrets_file).ensure(catalog.secret_names(catalog.build(settings, paths)))
    report = bundle_command(settings, "compute-2", None, None)
    assert (report.kind, report.address) == ("pod", "172.31.1.2")  # after the host's .1
    assert stat.S_IMODE(report.path.stat().st_mode) == 0o600
    b = read(report.path)
    secrets = all_secrets(paths)
    assert len(secrets) > 10
    assert b["node"] == {"name": "compute-2", "kind": "pod", "address": "172.31.1.2"}
    assert b["credentials"]["rabbitmq"] == {"user": "node-compute-2", "password": secrets["rabbitmq_node_compute-2"]}
    assert b["credentials"]["keystone"] == {"nova": secrets["keystone_nova"], "neutron": secrets["keystone_neutron"]}
    assert b["urls"]["ovn_sb"] == "ssl:172.31.0.129:6643" and b["urls"]["rabbitmq"] == "172.31.0.129:5672"
    assert b["names"]["keystone.hotstack-os.local"] == "172.31.0.129"
    given = {secrets[n] for n in ("rabbitmq_node_compute-2", "metadata_secret", "keystone_nova", "keystone_neutron")}
    text = report.path.read_text()
    leaked = [n for n, v in secrets.items() if v not in given and v in text]
    assert not leaked, f"secrets the node must not get: {leaked}"
    assert Registry(paths.state).entries()["compute-2"].address == "172.31.1.2"


def test_the_certificate_is_the_node_s_signed_by_the_deployment_s_ca(settings: Settings) -> None:
    trust = read(bundle_command(settings, "compute-2", None, None).path)["trust"]
    ca = x509.load_pem_x509_certificate(trust["ca"].encode())
    cert = x509.load_pem_x509_certificate(trust["certificate"].encode())
    key = load_pem_private_key(trust["key"].encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert.verify_directly_issued_by(ca)  # raises unless the CA signed it
    assert cert.public_key() == key.public_key()
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "compute-2"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["172.31.1.2"]
    assert stat.S_IMODE((Paths(settings.data_dir).pki / "ca.key").stat().st_mode) == 0o600


def test_made_again_it_keeps_address_and_password_and_issues_a_new_certificate(settings: Settings) -> None:
    first = read(bundle_command(settings, "compute-2", None, None).path)
    second_node = bundle_command(settings, "compute-3", None, None)
    again = read(bundle_command(settings, "compute-2", None, None).path)
    assert second_node.address == "172.31.1.3"
    assert again["node"] == first["node"]
    assert again["credentials"] == first["credentials"]
    assert again["trust"]["serial"] != first["trust"]["serial"]
    assert again["trust"]["ca"] == first["trust"]["ca"]


def test_another_machine_reaches_the_control_address(tmp_path: Path, config_file: Path) -> None:
    s = load(config_file, {"data_dir": str(tmp_path / "data"), "nodes.control_address": "192.0.2.10"}, environ={})
    report = bundle_command(s, "lab-b", "192.0.2.20", tmp_path / "lab-b.bundle")
    b = read(report.path)
    assert report.kind == "machine" and report.path == tmp_path / "lab-b.bundle"
    assert b["control_address"] == "192.0.2.10" and b["urls"]["nova_metadata"] == "http://192.0.2.10:8775"
    assert set(b["names"].values()) == {"192.0.2.10"}


@pytest.mark.parametrize(("name", "address", "says"), [
    ("Compute2", None, "lower-case"), ("c", None, "2 to 32"), ("compute--2", None, "single dashes"),
    ("compute-2", "172.31.0.129", "network.brex_ip"), ("compute-2", "172.31.1.1", "underlay address"),
    ("compute-2", "not-an-ip", "IPv4"),
])
def test_bad_input_is_refused_before_anything_is_written(settings: Settings, name: str, address: str | None,
                                                         says: str) -> None:
    with pytest.raises(BadInput, match=says):
        bundle_command(settings, name, address, None)
    assert not Path(settings.data_dir).exists()


def test_an_address_taken_by_another_node_is_refused(settings: Settings) -> None:
    bundle_command(settings, "compute-2", None, None)
    with pytest.raises(BadInput, match="already node compute-2"):
        bundle_command(settings, "compute-3", "172.31.1.2", None)


def test_node_one_s_name_is_refused(tmp_path: Path, config_file: Path) -> None:
    s = load(config_file, {"data_dir": str(tmp_path / "data"), "nova.host": "lab"}, environ={})
    with pytest.raises(BadInput, match="node one"):
        bundle_command(s, "lab", None, None)


def test_the_cli_says_where_the_bundle_is_and_never_what_is_in_it(tmp_path: Path, config_file: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config_file), "--set", f"data_dir={tmp_path}/data",
                                      "node", "bundle", "compute-2", "--json"], env={}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["node"] == "compute-2" and Path(shown["bundle"]).is_file()
    secrets = all_secrets(Paths(tmp_path / "data"))
    assert secrets and not [n for n, v in secrets.items() if v in result.output]
