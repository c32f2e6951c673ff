"""A settings file of a test's own, and the one message loading it must refuse with."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hotstack.core.errors import BadInput
from hotstack.core.settings import load


def write(tmp_path: Path, data: object) -> Path:
    """tmp_path/hotstack.yaml holding `data`: text or bytes as given, anything else as YAML."""
    cfg = tmp_path / "hotstack.yaml"
    if isinstance(data, bytes):
        cfg.write_bytes(data)
    else:
        cfg.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return cfg


def refused(cfg: Path, overrides: dict[str, str] | None = None, environ: dict[str, str] | None = None) -> str:
    """The message of the BadInput (exit 2) that loading `cfg` raises."""
    with pytest.raises(BadInput) as caught:
        load(cfg, overrides, environ=environ or {})
    assert caught.value.exit_code == 2
    return str(caught.value)
