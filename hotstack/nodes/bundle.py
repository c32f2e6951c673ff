"""A join bundle read back on the node (the first host writes it: render/bundle.py).

Only what a node needs: the control plane's settings (no secrets), its address and URLs, this
node's credentials and trust. A bundle that is not one, or of another format, is refused with
the key that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hotstack.core.errors import BadInput
from hotstack.core.settings import Settings

FORMAT = 1


@dataclass(frozen=True)
class Bundle:
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data["node"]["name"])

    @property
    def kind(self) -> str:
        return str(self.data["node"]["kind"])

    @property
    def address(self) -> str:
        return str(self.data["node"]["address"])

    @property
    def control(self) -> str:
        return str(self.data["control_address"])

    @property
    def names(self) -> dict[str, str]:
        return dict(self.data["names"])

    @property
    def urls(self) -> dict[str, str]:
        return dict(self.data["urls"])

    @property
    def rabbitmq(self) -> tuple[str, str]:
        cred = self.data["credentials"]["rabbitmq"]
        return str(cred["user"]), str(cred["password"])

    def secrets(self) -> dict[str, str]:
        """The secrets the node's templates may ask for, under their secrets-file names."""
        cred = self.data["credentials"]
        return {"metadata_secret": str(cred["metadata_secret"]),
                **{f"keystone_{user}": str(pw) for user, pw in cred["keystone"].items()}}

    def service_password(self, user: str) -> str:
        return str(self.data["credentials"]["keystone"][user])

    def settings(self) -> Settings:
        return Settings.model_validate(self.data["settings"])

    @property
    def trust(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.data["trust"].items()}


REQUIRED = ("deployment", "node", "control_address", "names", "urls", "credentials", "trust", "settings")


def load(path: Path) -> Bundle:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise BadInput(f"bundle {path}: no such file", hint="make it on the first host: hotstack node bundle NAME") \
            from None
    except yaml.YAMLError as exc:
        raise BadInput(f"bundle {path}: is not YAML ({exc})") from None
    if not isinstance(data, dict) or data.get("hotstack_node_bundle") != FORMAT:
        raise BadInput(f"bundle {path}: key hotstack_node_bundle must be {FORMAT} (is this a hotstack node bundle?)")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise BadInput(f"bundle {path}: key {missing[0]} is missing; make the bundle again on the first host")
    return Bundle(data)
