"""Small helpers shared by explain's modules."""

from __future__ import annotations

try:
    from perfpack.terminal import one_line
except ImportError:  # until the shared terminal module lands on main
    def one_line(text: object, *, limit: int | None = None) -> str:
        s = str(text)
        s = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in s)
        return s if limit is None or len(s) <= limit else s[: limit - 1] + "…"

__all__ = ["one_line"]
