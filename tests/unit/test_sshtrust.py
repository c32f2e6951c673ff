"""The SSH trust for cold migration: two keys per deployment, made once, and a node's folder
whose authorized_keys and known_hosts hold exactly their public halves (checked with OpenSSH's
own ssh-keygen)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hotstack.core import sshtrust


def test_the_keys_are_made_once_0600_and_the_folder_trusts_their_public_halves(tmp_path: Path) -> None:
    keys = sshtrust.ensure(tmp_path / "ssh")
    assert sshtrust.ensure(tmp_path / "ssh") == keys, "made once, then read back"
    assert keys.host != keys.client
    assert all((tmp_path / "ssh" / name).stat().st_mode & 0o777 == 0o600
               for name in (sshtrust.HOST_KEY, sshtrust.CLIENT_KEY))
    folder = tmp_path / "node" / "ssh"
    sshtrust.write_folder(folder, keys)
    if shutil.which("ssh-keygen") is None:
        pytest.skip("OpenSSH's ssh-keygen is not installed here")
    pairs = ((sshtrust.CLIENT_KEY, sshtrust.AUTHORIZED_KEYS), (sshtrust.HOST_KEY, sshtrust.KNOWN_HOSTS))
    for private, trusted in pairs:
        public = subprocess.run(["ssh-keygen", "-y", "-f", str(folder / private)], capture_output=True, text=True,
                                check=True).stdout.split()[:2]
        line = (folder / trusted).read_text().split()
        assert public == (line[:2] if trusted == sshtrust.AUTHORIZED_KEYS else line[1:3])
    assert (folder / sshtrust.KNOWN_HOSTS).read_text().startswith(f"{sshtrust.HOST_ALIAS} ssh-ed25519 ")
