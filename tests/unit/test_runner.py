"""The one process runner, with real programs: timeouts, the error shape, stdin, pipes, log files,
the environment, and the refusal of a secret on a command line."""

from __future__ import annotations

import logging
import re
import secrets
import time
from pathlib import Path

import pytest

from hotstack.core import redact, runner
from hotstack.core.errors import CommandError

PACKAGE = Path(runner.__file__).resolve().parents[1]


def _gone(pid: int) -> bool:
    """No such process, or only its zombie (nothing reaps orphans in some containers)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def test_timeout_kills_the_program_and_what_it_started(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    began = time.monotonic()
    with pytest.raises(CommandError) as err:
        runner.run(["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"], timeout=3)
    assert time.monotonic() - began < 15
    assert err.value.returncode == -1 and "timed out after 3 s" in str(err.value)
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5  # SIGTERM is sent; on a busy machine dying takes a moment
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(pid)  # the grandchild sleep went with its group


def test_error_shows_the_command_its_exit_code_and_the_stderr_tail() -> None:
    script = "for i in $(seq 1 40); do echo line$i >&2; done; exit 3"
    with pytest.raises(CommandError) as err:
        runner.run(["sh", "-c", script])
    text = str(err.value)
    assert err.value.argv == ["sh", "-c", script] and err.value.returncode == 3
    assert text.startswith(f"command failed (exit 3): sh -c {script}")
    assert "line40" in text and "line26" in text and "line25\n" not in text


def test_unchecked_failure_returns_the_result() -> None:
    proc = runner.run(["sh", "-c", "echo out; echo err >&2; exit 5"], check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (5, "out\n", "err\n")


def test_missing_program_is_exit_127() -> None:
    with pytest.raises(CommandError) as err:
        runner.run(["hotstack-no-such-program"], hint="install it")
    assert err.value.returncode == 127 and "not installed" in str(err.value) and "install it" in str(err.value)


def test_stdin_and_environment() -> None:
    assert runner.run(["cat"], "hello\n").stdout == "hello\n"
    assert runner.run(["sh", "-c", 'echo "$HS_EXTRA:$HOME"'], env={"HS_EXTRA": "x"}).stdout.startswith("x:/")
    # Without input the child reads nothing (never the user's terminal).
    assert runner.run(["cat"]).stdout == ""


def test_producer_pipe() -> None:
    assert runner.run_piped(["printf", "abcdef"], ["wc", "-c"], timeout=30).stdout.strip() == "6"
    with pytest.raises(CommandError) as err:
        runner.run_piped(["sh", "-c", "printf x; echo tar broke >&2; exit 4"], ["cat"], timeout=30)
    assert err.value.argv[-1].endswith("exit 4") and err.value.returncode == 4
    assert "tar broke" in str(err.value)
    with pytest.raises(CommandError) as err:  # the consumer's failure is the one reported
        runner.run_piped(["yes"], ["sh", "-c", "head -c1 >/dev/null; echo bad >&2; exit 2"], timeout=30)
    assert err.value.returncode == 2 and "bad" in str(err.value)


def test_log_file_mode_appends_and_its_tail_is_the_error(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "build.log"
    assert runner.run(["sh", "-c", "echo one; echo two >&2"], log=log).stdout == ""
    with pytest.raises(CommandError) as err:
        runner.run(["sh", "-c", "echo three; exit 7"], log=log)
    text = log.read_text()
    assert text.startswith("$ sh -c 'echo one; echo two >&2'\none\ntwo\n")
    assert "three" in text and err.value.returncode == 7 and "three" in str(err.value)


def test_a_secret_is_refused_in_argv_and_masked_in_errors() -> None:
    value = secrets.token_hex(16)
    redact.register([value])
    with pytest.raises(runner.SecretInArgv) as err:
        runner.run(["mariadb", f"--password={value}"])
    assert value not in str(err.value) and "argument 1" in str(err.value)
    with pytest.raises(runner.SecretInArgv):
        runner.run_piped(["echo", value], ["cat"], timeout=30)
    # By environment or stdin it is fine; an error quoting it shows the mask instead.
    assert runner.run(["sh", "-c", 'printf %s "$PW"'], env={"PW": value}).stdout == value
    with pytest.raises(CommandError) as failed:
        runner.run(["sh", "-c", "cat >&2; exit 1"], value)
    assert value not in str(failed.value) and redact.MASK in str(failed.value)


def test_every_command_is_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="hotstack"):
        runner.run(["sh", "-c", "exit 0"], env={"HS_NAME": "value-not-logged"})
        runner.run(["sh", "-c", "echo why >&2; exit 9"], check=False)
    text = caplog.text
    assert "run: sh -c 'exit 0' (env +HS_NAME)" in text and "value-not-logged" not in text
    assert re.search(r"exit 0 after \d+\.\d\d s: sh", text)
    assert re.search(r"exit 9 after \d+\.\d\d s: sh -c 'echo why >&2; exit 9'\nwhy", text)


def test_nothing_else_starts_programs() -> None:
    """Every subprocess goes through core/runner.py: one timeout, error and logging path."""
    starts = re.compile(r"^\s*(import subprocess|from subprocess )|\bos\.(system|popen|exec\w*|spawn\w*)\(", re.M)
    runner_file = Path(runner.__file__).resolve()
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if p != runner_file and starts.search(p.read_text())]
    assert offenders == []
    assert starts.search(runner_file.read_text())  # the pattern does find a real one


def test_each_program_run_is_counted_by_name() -> None:
    assert runner.program(["podman", "--runtime", "runc", "ps", "--all"]) == "podman ps"
    assert runner.program(["/usr/bin/python3", "-m", "podman_compose", "-f", "x", "up"]) == "podman-compose"
    assert runner.program(["/usr/sbin/nft", "-j", "list", "ruleset"]) == "nft"
    before = runner.calls()
    runner.run(["true"])
    runner.run_piped(["echo", "x"], ["cat"], timeout=30)
    after = runner.calls()
    assert {name: after[name] - before.get(name, 0) for name in ("true", "echo", "cat")} == \
        {"true": 1, "echo": 1, "cat": 1}
