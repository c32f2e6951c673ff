"""The debug log: where it goes, its modes, secrets masked, rotation, and the fallbacks."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from hotstack.cli import handler
from hotstack.core import log, redact, runner
from hotstack.core.errors import BadInput
from hotstack.core.secrets import Secrets


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_run_logs_privately_under_data_dir_and_masks_secrets(tmp_path: Path) -> None:
    secret_file = tmp_path / "data" / "secrets.yaml"
    value = Secrets(secret_file).ensure(["db_nova"])["db_nova"]  # registered as it is made
    log.start(["hotstack", "up"])
    logging.getLogger("hotstack.test").debug("before the settings loaded")
    where = log.use_dir(tmp_path / "data" / "logs")
    assert where == tmp_path / "data" / "logs" / log.FILE_NAME
    runner.run(["sh", "-c", 'echo "denied for $PW" >&2; exit 1'], env={"PW": value}, check=False)
    try:
        raise RuntimeError(f"boom with {value}")
    except RuntimeError:
        log.LOGGER.exception("failed")
    log.stop()
    text = where.read_text()
    assert _mode(where) == 0o600 and _mode(where.parent) == 0o700
    assert "hotstack run: hotstack up" in text and "before the settings loaded" in text
    assert "exit 1 after" in text and f"denied for {redact.MASK}" in text
    assert "Traceback" in text and f"boom with {redact.MASK}" in text
    assert value not in text
    assert text[:4].isdigit() and "T" in text.split()[0]  # each record starts with a timestamp


def test_the_log_rotates_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log, "MAX_BYTES", 2000)
    log.start(["hotstack", "build"])
    where = log.use_dir(tmp_path / "logs")
    assert where is not None
    for index in range(200):
        log.LOGGER.debug("line %d %s", index, "x" * 50)
    log.stop()
    files = sorted(p.name for p in where.parent.iterdir())
    assert files == [log.FILE_NAME, *(f"{log.FILE_NAME}.{n}" for n in range(1, log.BACKUPS + 1))]
    assert all(_mode(where.parent / name) == 0o600 for name in files)
    assert "line 199" in where.read_text() and where.stat().st_size <= 2000


def test_an_unwritable_data_dir_falls_back_to_a_private_temp_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    log.start(["hotstack", "status"])
    where = log.use_dir(blocker / "logs")  # a directory cannot be made under a file
    assert where == tmp_path / f"hotstack-{os.getuid()}" / log.FILE_NAME
    log.stop()
    assert "cannot log to" in where.read_text() and _mode(where.parent) == 0o700


def test_no_log_at_all_does_not_break_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(log, "FALLBACK_ROOT", blocker)
    log.start(["hotstack", "status"])
    assert log.use_dir(blocker / "logs") is None and log.path() is None
    log.LOGGER.debug("dropped")
    log.stop()


def test_handler_exit_codes_and_messages(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    def bad() -> int:
        raise BadInput("no such thing")

    def interrupted() -> int:
        raise KeyboardInterrupt

    for fn, code in ((bad, 2), (interrupted, 130), (lambda: 0, 0)):
        with pytest.raises(SystemExit) as exited:
            handler.handle(fn)
        assert exited.value.code == code
    err = capsys.readouterr().err
    fallback = tmp_path / f"hotstack-{os.getuid()}" / log.FILE_NAME
    assert err.splitlines() == ["error: no such thing", f"  debug log: {fallback}", "interrupted"]
