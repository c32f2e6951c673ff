"""The file of a cloud image on this host: a local source as it is, a URL downloaded once into
<data_dir>/cache/cloud-images/<name>/.

A download is written to `<file>.partial` and renamed into place only when it is complete and
has the size and SHA-256 the settings give, so a file in the cache is always whole; a partial
file is never resumed (the next try starts again). The file's name is a digest of the URL and
the expected SHA-256: a changed source is a new download, and the old one is removed after it.
Without a URL nothing here touches the network (offline hosts use local files).
"""

from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from hotstack import __version__
from hotstack.core.errors import BadInput, HotstackError
from hotstack.core.settings_cloud import CloudImage

Progress = Callable[[str], None]

CHUNK = 1 << 20
STALL_TIMEOUT_S = 60.0  # connecting, or any one read, that stalls this long fails the download
PARTIAL = ".partial"


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def cache_file(cache: Path, image: CloudImage) -> Path:
    key = hashlib.sha256(f"{image.source}\n{image.sha256 or ''}".encode()).hexdigest()[:16]
    return cache / image.name / f"{key}.{image.disk_format}"


def image_file(image: CloudImage, cache: Path, progress: Progress, timeout: float = STALL_TIMEOUT_S) -> Path:
    """The local file holding the image: its source, or the cached download (fetched when absent)."""
    if not is_url(image.source):
        path = Path(image.source)
        if not path.is_file():
            raise BadInput(f"cloud image {image.name}: source {image.source}: no such file",
                           hint="put the file there, or fix the entry's source in cloud_images")
        check(image, path, path.stat().st_size, None)
        return path
    target = cache_file(cache, image)
    if not target.is_file():
        download(image, target, progress, timeout)
    return target


def download(image: CloudImage, target: Path, progress: Progress, timeout: float) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + PARTIAL)
    progress(f"downloading {image.name} from {image.source}")
    started = time.monotonic()
    try:
        with partial.open("wb") as out:  # "wb": whatever an earlier try left is discarded
            size, digest = _fetch(image, out, timeout)
        check(image, partial, size, digest)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    for other in target.parent.iterdir():  # an earlier source's download
        if other != target:
            other.unlink(missing_ok=True)
    progress(f"{image.name}: {size / 1e6:.1f} MB in {time.monotonic() - started:.1f} s")


def _fetch(image: CloudImage, out: BinaryIO, timeout: float) -> tuple[int, str]:
    """Stream the URL into out: (bytes, sha256 hex); one HotstackError naming image and URL."""
    request = urllib.request.Request(image.source, headers={"User-Agent": f"hotstack/{__version__}"})
    digest, size = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            while block := response.read(CHUNK):
                out.write(block)
                digest.update(block)
                size += len(block)
    except urllib.error.HTTPError as exc:
        raise _failed(image, f"HTTP {exc.code} {exc.reason}") from None
    except TimeoutError:
        raise _failed(image, f"no answer for {timeout:.0f} s") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise _failed(image, str(reason)) from None
    if expected is not None and expected.isdigit() and int(expected) != size:
        raise _failed(image, f"the transfer stopped after {size} of {expected} bytes")
    return size, digest.hexdigest()


def check(image: CloudImage, path: Path, size: int, digest: str | None) -> None:
    """The file has the size and SHA-256 the settings give (when they give them)."""
    if image.size is not None and size != image.size:
        raise HotstackError(f"cloud image {image.name}: {image.source} has {size} bytes, not {image.size}",
                            hint="fix the entry's size (or source) in cloud_images")
    if image.sha256 is None:
        return
    if digest is None:
        with path.open("rb") as data:
            digest = hashlib.file_digest(data, "sha256").hexdigest()
    if digest != image.sha256:
        raise HotstackError(f"cloud image {image.name}: {image.source} has SHA-256 {digest}, not {image.sha256}",
                            hint="the file differs from the one named: fix the entry's sha256 (or source)")


def _failed(image: CloudImage, why: str) -> HotstackError:
    return HotstackError(f"cloud image {image.name}: cannot download {image.source}: {why}",
                         hint="check the URL and this host's network (or proxy), or give a local file as source")
