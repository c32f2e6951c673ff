"""The README is the configuration reference: it must name every setting and the test command CI runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hotstack.core.settings import Settings, dump

ROOT = Path(__file__).resolve().parents[2]


def keys(data: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for key, value in data.items():
        out += keys(value, f"{prefix}{key}.") if isinstance(value, dict) else [prefix + key]
    return out


def test_readme_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [k for k in keys(dump(Settings())) if f"| `{k}` |" not in readme]
    assert not missing


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = 'python3 -m pytest -m "not e2e" -q'
    assert command in readme and command in ci.splitlines()[-1]
