"""Small file helpers: atomic writes that skip unchanged content."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def sha256(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def write_if_changed(path: Path, content: str, *, mode: int = 0o644) -> bool:
    """Write content atomically unless the file already holds it; True when written.

    The temp file lives beside the target so os.replace never crosses filesystems, and a
    crash leaves either the old file or the new one, never half of one.
    """
    try:
        if path.read_text() == content:
            if (path.stat().st_mode & 0o7777) != mode:
                path.chmod(mode)
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
