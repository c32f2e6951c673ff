"""The e2e deployment's settings and a handle to run the CLI against it (used by conftest.py
and the tests)."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from hotstack.core.paths import Paths
from hotstack.core.settings import PortSettings, Settings

ARTIFACTS = Path(__file__).parent / "artifacts"
E2E_SETTINGS = {
    "name": "e2e",
    "data_dir": "/var/lib/hotstack-e2e",
    "network": {"container_cidr": "172.31.8.0/25", "provider_cidr": "172.31.8.128/25", "brex_ip": "172.31.8.129",
                "int_bridge": "e2e-int", "ex_bridge": "e2e-ex", "podman_network": "hotstack-e2e",
                "domain": "hotstack-e2e.local", "tenant_cidr": "192.168.108.0/24", "tun_bridge": "e2e-tun"},
    # the pods' underlay for tests/e2e/test_nodes.py
    "nodes": {"underlay_cidr": "172.31.9.0/26", "ssh_port": 28022},
    # Every port 20000 up, but for the port-less name http://dashboard.hotstack-e2e.local/: port
    # 80 on its own brex_ip does not collide with another deployment's.
    "ports": {name: port + 20000 for name, port in PortSettings().model_dump().items()} | {"http": 80},
    # Two tenants for tests/e2e/test_tenants.py: red small (one instance, one volume) for the quota
    # errors, with a member and a reader; blue holds what red must neither see nor touch.
    "tenants": [
        {"name": "red", "users": [{"name": "alice", "role": "member"}, {"name": "rita", "role": "reader"}],
         "quotas": {"instances": 1, "volumes": 1}, "network": {"cidr": "10.108.1.0/24"}},
        {"name": "blue", "users": [{"name": "bob", "role": "member"}], "network": {"cidr": "10.108.2.0/24"}},
    ],
    # Off by default (docs/monitoring.md); the e2e cloud runs it (tests/e2e/test_cloud_monitoring.py).
    "monitoring": {"enabled": True},
}


@dataclass(frozen=True)
class Deployment:
    settings: Settings
    paths: Paths
    config: Path

    def hotstack(self, *args: str, timeout: float = 1800, artifact: str = "") -> subprocess.CompletedProcess[str]:
        """The CLI against this deployment; stdout and stderr kept as an artifact."""
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "hotstack", "--config", str(self.config), *args],
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        ARTIFACTS.mkdir(exist_ok=True)
        name = artifact or "-".join(a.lstrip("-") for a in args)
        (ARTIFACTS / f"{name}.log").write_text(f"$ hotstack {' '.join(args)}  (exit {proc.returncode}, "
                                               f"{time.monotonic() - started:.1f} s)\n{proc.stdout}\n{proc.stderr}")
        return proc


