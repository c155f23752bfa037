"""The snapshot command without click: shared by `perfpack snapshot` and `python -m perfpack.snapshot`.

The click-free form is what the plugin's libexec/perfpack falls back to when the Python on PATH has only
the standard library (no click, no psutil): /optimize still gets a snapshot, and exit 0.
"""

from __future__ import annotations

import sys
from typing import TextIO

USAGE = """Usage: python -m perfpack.snapshot [--format markdown|json] [--project DIR]

Baseline of the host and the project for /optimize (same as `perfpack snapshot`). Always exits 0.
"""


def run(fmt: str | None, project: str | None, notes: list[tuple[str, str]], out: TextIO) -> int:
    """Take and print the snapshot; exit code 0 whatever happens (a failed `!` line aborts /optimize)."""
    try:
        from perfpack.snapshot.collect import take_snapshot
        from perfpack.snapshot.render import to_json, to_markdown

        snap = take_snapshot(project)
        snap.skipped.extend(notes)
        wanted = (fmt or "markdown").strip().lower()
        if wanted not in ("markdown", "md", "json"):
            snap.skipped.append(("format", f"unknown format {fmt!r}; used markdown"))
        out.write(to_json(snap) if wanted == "json" else to_markdown(snap))
        out.flush()
    except BrokenPipeError:
        pass
    except Exception as exc:
        try:
            out.write(f"### Snapshot\n**Skipped**\n- snapshot: failed ({type(exc).__name__}: {exc})\n")
        except Exception:
            pass
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "-h" in args or "--help" in args:
        sys.stdout.write(USAGE)
        return 0
    values: dict[str, str | None] = {"--format": None, "--project": None}
    notes: list[tuple[str, str]] = []
    ignored: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        name, eq, value = arg.partition("=")
        if name in values:
            if eq:
                values[name] = value
            elif index + 1 < len(args):
                index += 1
                values[name] = args[index]
            else:
                notes.append(("arguments", f"Option '{name}' requires an argument; used the defaults"))
        else:
            ignored.append(arg)
        index += 1
    if ignored:
        notes.append(("arguments", "ignored unknown arguments: " + " ".join(ignored)))
    return run(values["--format"], values["--project"], notes, sys.stdout)
