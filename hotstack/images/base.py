"""The Debian trixie root file system that hotstack's ``base`` image is built FROM.

Two ways to get it, chosen by ``--base``:

* ``pull``: ``podman pull docker.io/library/debian:trixie``;
* ``debootstrap``: ``debootstrap --variant=minbase trixie DIR MIRROR``, documentation,
  translations and apt lists removed, then ``tar -C DIR -c . | podman import``;
* ``auto`` (default): pull when a registry answers within ~2 s, else debootstrap.

Either way the result is tagged :data:`ROOTFS_REF`; when that tag exists nothing is
done (remove it with ``podman rmi`` to get a fresh one).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Literal

from hotstack.catalog import IMAGE_REPOSITORY
from hotstack.containers import podman
from hotstack.core import distro, runner
from hotstack.core.errors import BadInput

BaseMethod = Literal["auto", "pull", "debootstrap"]

SUITE = "trixie"
ROOTFS_REF = f"{IMAGE_REPOSITORY}/rootfs:{SUITE}"
PULL_REF = f"docker.io/library/debian:{SUITE}"
REGISTRY_PROBE_URL = "https://registry-1.docker.io/v2/"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# A cold debootstrap downloads ~100 packages: minutes on a slow mirror, never an hour.
DEBOOTSTRAP_TIMEOUT_S = 3600.0
# Left out of the imported root file system (the images' dpkg config excludes them too).
TRIM = ("usr/share/doc", "usr/share/man", "usr/share/info", "var/lib/apt/lists",
        "var/cache/apt/archives")


def registry_answers(url: str = REGISTRY_PROBE_URL, bound: float = 2.0) -> bool:
    """Does a container registry answer HTTP at ``url`` within ``bound`` seconds?

    Any HTTP status counts (the Docker Hub answers 401 without credentials); DNS
    failures, refused connections and timeouts do not. The probe runs in a daemon
    thread so a slow DNS lookup cannot hold the caller past ``bound``.
    """
    result: list[bool] = []

    def probe() -> None:
        try:
            with urllib.request.urlopen(url, timeout=bound):
                result.append(True)
        except urllib.error.HTTPError:
            result.append(True)
        except (OSError, ValueError):
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(bound)
    return bool(result and result[0])


def choose_method(method: BaseMethod, probe: bool | None = None) -> Literal["pull", "debootstrap"]:
    if method != "auto":
        return method
    answers = registry_answers() if probe is None else probe
    return "pull" if answers else "debootstrap"


def debootstrap_args(target: Path, mirror: str, cache_dir: Path | None) -> list[str]:
    argv = ["debootstrap", "--variant=minbase"]
    if cache_dir is not None:
        argv.append(f"--cache-dir={cache_dir}")
    return [*argv, SUITE, str(target), mirror]


def tar_args(root: Path) -> list[str]:
    return ["tar", "--numeric-owner", "-C", str(root), "-c", "."]


def trim(root: Path) -> None:
    """Remove documentation, translations and apt's lists and downloads from a root fs."""
    for rel in TRIM:
        target = root / rel
        if target.is_dir():
            for child in target.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                elif child.name not in ("lock", "partial"):
                    child.unlink()
    locale = root / "usr/share/locale"
    if locale.is_dir():
        for child in locale.iterdir():
            if child.is_dir():
                shutil.rmtree(child)


def debootstrap(mirror: str, work_dir: Path, cache_dir: Path | None, log: Path) -> None:
    """Make the root file system with debootstrap and import it as :data:`ROOTFS_REF`."""
    if shutil.which("debootstrap") is None:
        raise BadInput("debootstrap is not installed and no registry answers",
                       hint=f"{distro.hint('debootstrap')} (or --base pull where a registry works)")
    work_dir.mkdir(parents=True, exist_ok=True)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=work_dir) as tmp:
        target = Path(tmp) / "root"
        argv = debootstrap_args(target, mirror, cache_dir)
        runner.run(argv, log=log, timeout=DEBOOTSTRAP_TIMEOUT_S)
        trim(target)
        podman.import_tarball(tar_args(target), ROOTFS_REF)


def pull() -> None:
    podman.run(["pull", "--quiet", PULL_REF], timeout=900)
    podman.run(["tag", PULL_REF, ROOTFS_REF])


def ensure_rootfs(method: BaseMethod, *, mirror: str, work_dir: Path, cache_dir: Path | None,
                  log: Path) -> str:
    """Make sure :data:`ROOTFS_REF` exists; return what was done: ``kept``, ``pull`` or
    ``debootstrap``."""
    if podman.image_exists(ROOTFS_REF):
        return "kept"
    chosen = choose_method(method)
    log.parent.mkdir(parents=True, exist_ok=True)
    if chosen == "pull":
        pull()
    else:
        debootstrap(mirror, work_dir, cache_dir, log)
    return chosen
