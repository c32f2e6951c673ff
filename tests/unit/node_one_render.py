"""The rendered files of fixed deployments, as {deployment: {file: sha256}}, for the node-one test.

The compute role renders per node; node one (the first host) must render exactly what it did
before nodes existed. `python3 tests/unit/node_one_render.py` rewrites the recorded digests:
run it only when a change to the rendered files is meant (and say so in the commit).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from hotstack import catalog
from hotstack.core.paths import Paths
from hotstack.core.settings import Settings
from hotstack.render import configs as render

RECORDED = Path(__file__).parent / "data" / "node-one-render.json"
# Two deployments that between them take every branch the compute role's definitions have:
# the default one (local NFS, qemu) and one beside it (its own chassis, kernel NFS, kvm).
DEPLOYMENTS: dict[str, dict[str, Any]] = {
    "default": {"nova": {"host": "lab", "virt_type": "qemu"}, "cinder": {"nfs_mode": "local"}},
    "beside": {"name": "other", "data_dir": "/srv/other", "nova": {"host": "lab2", "virt_type": "kvm"},
               "cinder": {"nfs_mode": "nfs"}, "horizon": {"enabled": False},
               "network": {"int_bridge": "oth-int", "ex_bridge": "oth-ex", "podman_network": "other",
                           "container_cidr": "172.30.0.0/25", "provider_cidr": "172.30.0.128/25",
                           "brex_ip": "172.30.0.129"}},
}


class _Side(Paths):
    """Paths whose secrets file and state (no recorded host facts) are in a temp dir: nothing is
    written under data_dir, and the render does not depend on what this host's `prepare` found."""

    secrets_at: Path = Path()

    @property
    def secrets_file(self) -> Path:
        return self.secrets_at

    @property
    def state(self) -> Path:
        return Path("state")


def digests(settings: Settings, work: Path) -> dict[str, str]:
    """Render `settings` under `work` with fixed secrets and resolvers; every file's sha256.

    The rendered dir is given relative (`out`, from `work`): the compose file and the config
    hashes name it, and a temp dir's name is not content."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "resolv.conf").write_text("nameserver 192.0.2.53\n")
    here = Path.cwd()
    os.chdir(work)
    try:
        paths = _Side(settings.data_dir, rendered_override=Path("out"), resolv_confs=(Path("resolv.conf"),))
        object.__setattr__(paths, "secrets_at", Path("secrets.yaml"))
        cat = catalog.build(settings, paths)
        fixed = {n: hashlib.sha256(n.encode()).hexdigest()[:32] for n in catalog.secret_names(cat)}
        Path("secrets.yaml").write_text(yaml.safe_dump(fixed))
        render.render(cat, lambda image: f"localhost/hotstack/{image}:fixed")
    finally:
        os.chdir(here)
    out = work / "out"
    return {str(f.relative_to(out)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(out.rglob("*")) if f.is_file()}


def all_digests(work: Path) -> dict[str, dict[str, str]]:
    return {name: digests(Settings.model_validate(data), work / name) for name, data in DEPLOYMENTS.items()}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        RECORDED.write_text(json.dumps(all_digests(Path(tmp)), indent=1, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {RECORDED}\n")
