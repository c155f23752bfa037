"""Strings from the outside world made safe for a terminal, a log line or a prompt.

Paths, process names, commit subjects and commands can hold ESC sequences (which a terminal obeys),
newlines (which forge lines: a GitHub `::error` command, a fake heading in a prompt) and other control
characters. Every such string perfpack prints goes through `printable` or `one_line`.
"""

from __future__ import annotations

# C0 controls, DEL and C1 controls, plus the Unicode line/paragraph separators and bidi overrides that
# reorder or break lines on screen. Tab is kept by `printable` (harmless), escaped by `one_line`.
_ALWAYS = {c: f"\\x{c:02x}" for c in (*range(0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))}
_ALWAYS.update({c: f"\\u{c:04x}" for c in (0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))})
_PRINTABLE = dict(_ALWAYS)
_PRINTABLE[0x0A] = "\n"
_PRINTABLE[0x09] = "\t"
_ONE_LINE = dict(_ALWAYS)
_ONE_LINE[0x0A] = "\\n"
_ONE_LINE[0x09] = "\\t"
_ONE_LINE[0x0D] = "\\r"


def printable(text: str) -> str:
    """`text` with control characters shown as escapes; newlines and tabs kept (multi-line output)."""
    return _surrogates(text).translate(_PRINTABLE)


def one_line(text: object, *, limit: int | None = None) -> str:
    """`text` as a single safe line: newlines and every control character escaped, optionally cut.

    `limit` cuts to that many characters with a trailing "…" so one long field cannot flood a summary.
    """
    line = str(text)
    if not line.isprintable():  # every character _ONE_LINE escapes is non-printable (and lone surrogates)
        line = _surrogates(line).translate(_ONE_LINE)
    if limit is not None and len(line) > limit:
        line = line[: max(limit - 1, 0)] + "…"
    return line


def _surrogates(text: str) -> str:
    """Lone surrogates (from undecodable file names) cannot be written as UTF-8: show them escaped."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
