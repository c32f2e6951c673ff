"""One changing command at a time per data dir — up, down, prepare, clean, setup-cloud: two runs
deciding from the same podman or host state would undo each other's work."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from hotstack.core.errors import HotstackError
from hotstack.core.paths import Paths


@contextmanager
def exclusive(paths: Paths, command: str) -> Iterator[None]:
    path = paths.state / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HotstackError(f"another hotstack command (up, down, prepare, clean or setup-cloud) is running on "
                                f"{paths.data_dir}",
                                hint=f"wait for it to finish, then run `hotstack {command}` again") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
