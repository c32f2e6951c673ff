"""The top-level handler as the user sees it: one line per failure, the debug log's path, and no
Python traceback, ever (the traceback is in the log)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotstack.cli import handler
from hotstack.cli.main import cli
from hotstack.core import log, runner

ROOT = Path(__file__).resolve().parents[2]


def test_unexpected_error_is_one_line_and_its_traceback_is_in_the_log(tmp_path: Path, config_file: Path) -> None:
    out = tmp_path / "out"
    out.write_text("a file where render wants a directory\n")
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTSTACK_")}
    proc = subprocess.run([sys.executable, "-m", "hotstack", "--config", str(config_file), "--set",
                           f"data_dir={data}", "render", "--output", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    log_file = data / "logs" / log.FILE_NAME
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: unexpected NotADirectoryError: ")
    assert lines[0].endswith(f"(details in {log_file})")
    assert "Traceback" not in proc.stdout + proc.stderr
    text = log_file.read_text()
    assert "Traceback (most recent call last)" in text and "NotADirectoryError" in text
    assert f"hotstack run: hotstack --config {config_file}" in text


def test_a_user_error_names_the_log(tmp_path: Path, config_file: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config_file), "--set", f"data_dir={tmp_path}/data",
                                      "--set", "network.mtu=1", "render"], env={}, catch_exceptions=False)
    fallback = tmp_path / f"hotstack-{os.getuid()}" / log.FILE_NAME  # settings never loaded
    assert result.exit_code == 2
    assert result.output.rstrip().endswith(f"debug log: {fallback}")
    assert "network.mtu" in fallback.read_text() and not (tmp_path / "data").exists()


def test_ctrl_c_ends_the_programs_threads_wait_for(tmp_path: Path) -> None:
    """Children run in their own sessions (so a timeout can end their whole group); the handler
    forwards SIGINT to them, so a parallel build's threads end with the run (exit 130)."""
    results: list[int] = []

    def build() -> None:
        results.append(runner.run(["sleep", "60"], check=False).returncode)

    def command() -> int:
        worker = threading.Thread(target=build)
        worker.start()
        deadline = time.monotonic() + 10
        while not runner._live and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(10)  # interrupted long before this ends
        return 0

    began = time.monotonic()
    with pytest.raises(SystemExit) as exited:
        handler.handle(command)
    assert exited.value.code == 130 and time.monotonic() - began < 8
    deadline = time.monotonic() + 10
    while not results and time.monotonic() < deadline:
        time.sleep(0.05)
    assert results == [-signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
