"""The one error type that becomes a clear one-line message instead of a traceback."""

from __future__ import annotations

from perfpack.exitcodes import ExitCode


class PerfpackError(Exception):
    """An expected failure: bad input or environment. Shown as one line, exit code 2 by default."""

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message
