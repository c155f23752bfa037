"""Input hygiene for agent memory: agent names and size limits (secrets: perfpack.redact, before anything is
stored)."""

from __future__ import annotations

from perfpack.errors import PerfpackError

MAX_NAME = 64
MAX_RECORD_BYTES = 16 * 1024  # one task, insight or message, as JSON
MAX_STATE_BYTES = 64 * 1024  # the free-form state document saved by save_my_memory
MAX_INPUT_BYTES = 1024 * 1024  # JSON read from the command line or stdin (import: see MAX_IMPORT_BYTES)
MAX_IMPORT_BYTES = 256 * 1024 * 1024

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def check_agent(name: object, *, what: str = "agent name") -> str:
    """A valid agent name (kebab-case, <= 64 chars) or a PerfpackError; names become folder names."""
    if not isinstance(name, str) or not name:
        raise PerfpackError(
            f"{what} must be a non-empty string", hint="use kebab-case, e.g. performance-engineer"
        )
    # kebab-case: [a-z0-9]+(-[a-z0-9]+)*, checked without a regex (compiling one costs ~1 ms per process)
    if (
        len(name) > MAX_NAME
        or not _NAME_CHARS.issuperset(name)
        or name[0] == "-"
        or name[-1] == "-"
        or "--" in name
    ):
        shown = name if len(name) <= MAX_NAME else name[:MAX_NAME] + "..."
        raise PerfpackError(
            f"invalid {what} {shown!r}: use lowercase kebab-case (a-z, 0-9, single hyphens), "
            f"at most {MAX_NAME} characters",
            hint="e.g. performance-engineer",
        )
    return name


def check_size(encoded: str, limit: int, what: str) -> None:
    size = len(encoded.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise PerfpackError(
            f"{what} is too large: {size} bytes (limit {limit})",
            hint="store a summary; put long output in a file and record its path",
        )
