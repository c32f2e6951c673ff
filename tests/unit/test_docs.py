"""The README is the configuration reference: it must name every setting and the test command CI runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from hotstack.core.settings import Settings, load

ROOT = Path(__file__).resolve().parents[2]


def keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every settings key: sections are descended into; a mapping or list of entries (flavors,
    cloud_images) is one key, its entries documented in its row."""
    out: list[str] = []
    for name, field in model.model_fields.items():
        sub: Any = field.annotation
        section = isinstance(sub, type) and issubclass(sub, BaseModel)
        out += keys(sub, f"{prefix}{name}.") if section else [prefix + name]
    return out


def test_readme_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    found = keys(Settings)
    assert "quotas.cores" in found and "flavors" in found
    missing = [k for k in found if f"| `{k}` |" not in readme]
    assert not missing


def test_the_scenarios_example_is_valid_settings(tmp_path: Path) -> None:
    """The README's cloud_images example loads as it is written."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Running HotStack scenarios"):]
    example = section[section.index("```yaml\n") + 8:section.index("```\n", section.index("```yaml\n") + 8)]
    cfg = tmp_path / "hotstack.yaml"
    cfg.write_text(example)
    images = load(cfg, environ={}).cloud_images
    assert [i.name for i in images][:2] == ["cirros", "CentOS-Stream-GenericCloud-9"]
    assert images[-1].properties["hw_firmware_type"] == "uefi"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = "python3 -m pytest -q"
    assert command in readme and command in ci.splitlines()[-1]


def test_architecture_names_only_places_that_exist() -> None:
    """The "where is" table and the rooms table point at real files and folders."""
    import re

    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    named = set(re.findall(r"`((?:hotstack|configs|compose|docs)/[\w/.<>-]*?)`", text))
    concrete = {p for p in named if "<" not in p}
    assert len(concrete) > 10
    missing = sorted(p for p in concrete if not (ROOT / p.rstrip("/")).exists())
    assert not missing
    rooms = {p.name for p in (ROOT / "hotstack").iterdir() if (p / "__init__.py").exists()}
    for room in rooms:
        assert f"| `{room}` |" in text, f"room {room} is not described"
