"""Exit codes and the one error type that becomes a clear message instead of a traceback."""

from __future__ import annotations

# Documented exit codes, shared by every command (see README "Exit codes").
EXIT_OK = 0
EXIT_FINDINGS = 1  # findings, violations, a breached budget or a significant regression
EXIT_USAGE = 2  # bad arguments, unreadable input, a broken environment


class PerfpackError(Exception):
    """An expected failure: bad input or environment. Shown as one line, exit code 2 by default."""

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message
