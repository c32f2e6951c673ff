"""The one user-facing error class and the exit codes of the CLI."""

from __future__ import annotations

from hotstack.core.redact import redact

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class HotstackError(Exception):
    """An error the user can act on: the message says what went wrong and what to do."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  → {self.hint}"


class BadInput(HotstackError):
    """Bad configuration, flags or host state: nothing was changed."""

    exit_code = EXIT_BAD_INPUT


class CommandError(HotstackError):
    """An external command failed; carries what is needed to understand why."""

    TAIL_LINES = 15

    def __init__(self, argv: list[str], returncode: int, stderr: str, *, hint: str | None = None):
        tail = "\n".join(stderr.strip().splitlines()[-self.TAIL_LINES:])
        # Output may quote a secret (an SQL error quotes its statement): never show one.
        super().__init__(
            redact(f"command failed (exit {returncode}): {' '.join(argv)}\n{tail}".rstrip()), hint=hint
        )
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr
