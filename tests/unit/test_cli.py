"""The CLI's contract: exit codes, one-line errors, secrets never shown."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from hotstack import __version__
from hotstack.cli.main import cli


def invoke(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env or {}, catch_exceptions=False)


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_bad_setting_exits_2_names_the_key_and_writes_nothing(tmp_path: Path, config_file: Path) -> None:
    out = tmp_path / "out"
    result = invoke("--config", str(config_file), "--set", f"data_dir={tmp_path}/data",
                    "--set", "network.brex_ip=10.0.0.1", "render", "--output", str(out))
    assert result.exit_code == 2
    assert "network.brex_ip" in result.output and "10.0.0.1" in result.output
    assert not out.exists() and not (tmp_path / "data").exists()


def test_malformed_set_flag_is_bad_input(config_file: Path) -> None:
    result = invoke("--config", str(config_file), "--set", "novalue", "config", "show")
    assert result.exit_code == 2 and "KEY=VALUE" in result.output


def test_config_show_masks_secrets(tmp_path: Path, config_file: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "secrets.yaml").write_text("admin_password: s3cr3t-value\n")
    result = invoke("--config", str(config_file), "--set", f"data_dir={data}", "config", "show", "--json")
    assert result.exit_code == 0
    shown = json.loads(result.output)
    assert shown["secrets"]["values"] == {"admin_password": "********"}
    assert "s3cr3t-value" not in result.output
    assert shown["network"]["brex_ip"] == "172.31.0.129"


def test_environment_overrides_reach_the_commands(tmp_path: Path, config_file: Path) -> None:
    env = {"HOTSTACK_REGION": "EnvRegion", "HOTSTACK_DATA_DIR": str(tmp_path)}
    result = invoke("--config", str(config_file), "config", "show", "--json", env=env)
    assert json.loads(result.output)["region"] == "EnvRegion"
