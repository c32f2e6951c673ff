"""The SSH trust between nodes, for cold migration and resize: nova copies a stopped guest's disks
to the destination over SSH (`scp`, `ssh mkdir/touch/rm` as root), to the destination's my_ip.

One deployment-wide pair of Ed25519 keys, generated per install under `<data_dir>/pki/ssh`: the
host key every node's sshd (the `nova-ssh` service) presents, and the client key every node's
nova-compute signs in with. Both go into each node's bundle, as the TLS key does: whoever holds a
bundle is a node. A node's folder holds what its two services read (read-only, root, 0600 for
the private keys): the host key, the client key, `authorized_keys` (the client key's public half,
nothing else may sign in) and `known_hosts` (the host key under one alias, so no node's address
is trusted by accident and no first-use prompt exists).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from hotstack.core.errors import HotstackError
from hotstack.core.fsutil import write_if_changed

HOST_KEY, CLIENT_KEY = "ssh_host_ed25519_key", "id_ed25519"
AUTHORIZED_KEYS, KNOWN_HOSTS = "authorized_keys", "known_hosts"
HOST_ALIAS = "hotstack-node"  # the name every node's host key is known by (ssh_config's HostKeyAlias)


def _public(private_pem: str) -> str:
    key = serialization.load_ssh_private_key(private_pem.encode(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise HotstackError("hotstack's SSH keys are Ed25519: this one is not")
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def _generate() -> str:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()).decode()


@dataclass(frozen=True)
class Keys:
    host: str  # OpenSSH private keys (PEM)
    client: str


def ensure(directory: Path) -> Keys:
    """The deployment's two keys in `directory`, made on first use (0600)."""
    found = []
    for name in (HOST_KEY, CLIENT_KEY):
        path = directory / name
        if not path.exists():
            write_if_changed(path, _generate(), mode=0o600)
        found.append(path.read_text())
    return Keys(*found)


def write_folder(folder: Path, keys: Keys) -> None:
    """What a node's sshd and nova-compute read, from the two private keys."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_if_changed(folder / HOST_KEY, keys.host, mode=0o600)
    write_if_changed(folder / CLIENT_KEY, keys.client, mode=0o600)
    write_if_changed(folder / AUTHORIZED_KEYS, _public(keys.client) + " hotstack-nova-compute\n", mode=0o644)
    write_if_changed(folder / KNOWN_HOSTS, f"{HOST_ALIAS} {_public(keys.host)}\n", mode=0o644)
