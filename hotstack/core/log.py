"""The debug log of every CLI run: <data_dir>/logs/hotstack.log (0600 in a 0700 directory,
rotated by size), every known secret masked.

Records are kept in memory until the settings say where data_dir is (:func:`use_dir`); a run
that never gets that far (bad input) or cannot write there logs to a private temp directory
instead. The log never breaks a run: when no file can be opened, records are dropped.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from hotstack.core.redact import redact

FILE_NAME = "hotstack.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3
FALLBACK_ROOT: Path | None = None  # None: the system temp dir (tests point it at their own)
LOGGER = logging.getLogger("hotstack")
_FORMAT = "%(asctime)s.%(msecs)03d %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"


class _Formatter(logging.Formatter):
    """Masks secrets in the finished text, so messages, arguments and tracebacks are all covered."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _PrivateFileHandler(logging.handlers.RotatingFileHandler):
    """Rotating, and created 0600 (the log quotes commands and errors)."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # an older file made with another mode is made private too
        return open(fd, "a", encoding="utf-8", errors=self.errors)


class _Session:
    def __init__(self) -> None:
        self.buffer = logging.handlers.MemoryHandler(capacity=100_000, flushLevel=logging.CRITICAL + 1)
        self.file: _PrivateFileHandler | None = None
        self.path: Path | None = None


_session: _Session | None = None


def start(argv: Sequence[str] | None = None) -> None:
    """Begin this run's log (records are held until :func:`use_dir` or :func:`path`)."""
    global _session
    stop()
    _session = _Session()
    LOGGER.setLevel(logging.DEBUG)
    LOGGER.addHandler(_session.buffer)
    args = ["hotstack", *sys.argv[1:]] if argv is None else list(argv)
    LOGGER.debug("hotstack run: %s (python %s, uid %d)", shlex.join(args), sys.version.split()[0], os.getuid())


def use_dir(directory: Path) -> Path | None:
    """Log to <directory>/hotstack.log from now on (with what was held); the temp-dir fallback
    when that cannot be written. Returns the log's path, None when no file could be opened."""
    if _session is not None and _session.file is None:
        _attach(_session, directory)
    return path()


def path() -> Path | None:
    """Where this run's log is, choosing the temp-dir fallback when no data_dir was given yet."""
    if _session is None:
        return None
    if _session.file is None:
        fallback = _fallback_dir()
        if fallback is not None:
            _attach(_session, fallback)
    return _session.path


def stop() -> None:
    """Flush and close this run's log (it can be started again, e.g. by the next test)."""
    global _session
    if _session is None:
        return
    for handler in (_session.buffer, _session.file):
        if handler is not None:
            LOGGER.removeHandler(handler)
            handler.close()
    _session = None


def _attach(session: _Session, directory: Path) -> bool:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)
        handler = _PrivateFileHandler(directory / FILE_NAME, maxBytes=MAX_BYTES, backupCount=BACKUPS)
    except OSError as exc:
        LOGGER.debug("cannot log to %s: %s", directory, exc)
        return False
    formatter = _Formatter(_FORMAT, "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.localtime
    handler.setFormatter(formatter)
    session.buffer.setTarget(handler)
    session.buffer.flush()
    LOGGER.removeHandler(session.buffer)
    LOGGER.addHandler(handler)
    session.file, session.path = handler, directory / FILE_NAME
    return True


def _fallback_dir() -> Path | None:
    """A temp directory only this user can enter (another user's same-named one is not used)."""
    base = FALLBACK_ROOT or Path(tempfile.gettempdir())
    mine = base / f"hotstack-{os.getuid()}"
    try:
        mine.mkdir(mode=0o700, exist_ok=True)
        info = mine.lstat()
        if mine.is_symlink() or info.st_uid != os.getuid():
            return Path(tempfile.mkdtemp(prefix="hotstack-log-", dir=base))
        return mine
    except OSError:
        return None
