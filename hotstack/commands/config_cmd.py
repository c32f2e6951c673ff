"""`hotstack config show`: the effective settings, and where the secrets live (never their values)."""

from __future__ import annotations

import click
import yaml

from hotstack.cli.main import emit_json
from hotstack.core.paths import Paths
from hotstack.core.secrets import MASK, Secrets
from hotstack.core.settings import Settings, dump


def show(settings: Settings, as_json: bool) -> int:
    paths = Paths(settings.data_dir)
    data = dump(settings)
    data["secrets"] = {
        "file": str(paths.secrets_file),
        "values": {name: MASK for name in Secrets(paths.secrets_file).names()},
    }
    if as_json:
        emit_json(data)
    else:
        click.echo(yaml.safe_dump(data, sort_keys=False).rstrip())
    return 0
