"""Hostile files, made in one place: what a reader of user files (perfpack.safeio's callers, the hooks) meets
in place of the file it expects. A test picks the kinds it needs and says what each must lead to."""

from __future__ import annotations

import os
from pathlib import Path

# Lines no reader can take as a record or an entry: not JSON, cut off, valid JSON of the wrong shape, and
# nested 100,000 (and 50,000) deep, which a recursive parser cannot descend.
DAMAGED_LINES = (b'garbage\n{"id": 1}\n[1, 2]\n{"id": "x", "figures": "nope"\nnot json\n'
                 b'{"type": "assistant", "message": [\n{"type": "assistant"}\n'
                 + b"[" * 100_000 + b"\n" + b"{" * 50_000 + b"\n")
HUGE_BYTES = 70 * 1024 * 1024  # over every reader's cap (the ledger's is 64 MB); sparse, so written at once
HUGE_LINE_BYTES = 20 * 1024 * 1024  # one real line, longer than a hook scans back

KINDS = ("symlink", "folder symlink", "dangling symlink", "device", "fifo", "folder", "missing", "huge",
         "huge line", "not utf-8", "binary", "malformed", "damaged then good", "deep")


def not_utf8(good: bytes) -> bytes:
    """`good` with byte 0xff at the start of each line's last JSON string value (after its last `: "`), or
    at the line's start when it has none: valid JSON but for its encoding."""
    lines = []
    for line in good.splitlines(keepends=True):
        at = line.rfind(b': "') + 3 if b': "' in line else 0
        lines.append(line[:at] + b"\xff" + line[at:])
    return b"".join(lines)


def make_hostile(path: Path, kind: str, good: bytes = b"", *, target: Path | None = None) -> Path:
    """Put a hostile file of `kind` (one of KINDS) at `path`, which must not exist yet; return `path`.

    `good` is what the file should have held: a symlink points to it outside `path`'s folder (for a
    reader that would follow the link), and "not utf-8" and "damaged then good" are made from it.
    `target`: where a symlink, a dangling symlink or a folder symlink leads (default: beside `path`'s
    folder); a test that must lead out of its project says where. `path.resolve()` finds it again.
    """
    path = Path(path)
    if kind == "symlink":
        target = target or path.parent.parent / f"outside-{path.name}"
        target.write_bytes(good)
        path.symlink_to(target)
    elif kind == "folder symlink":  # a committed link to a folder elsewhere (created, empty)
        target = target or path.parent.parent / f"outside-{path.name}"
        target.mkdir(parents=True)
        path.symlink_to(target, target_is_directory=True)
    elif kind == "dangling symlink":
        path.symlink_to(target or path.parent.parent / f"missing-{path.name}")
    elif kind == "device":  # endless bytes; a link to one, as making a device node needs root
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "missing":
        pass
    elif kind == "huge":
        with open(path, "wb") as handle:
            handle.truncate(HUGE_BYTES)
    elif kind == "huge line":
        filler = b"x" * HUGE_LINE_BYTES
        path.write_bytes(b'{"type": "assistant", "message": {"content": "' + filler + b'"}}\n')
    elif kind == "not utf-8":
        path.write_bytes(not_utf8(good))
    elif kind == "binary":  # NUL and control bytes: valid UTF-8, not text
        path.write_bytes(b"\x00\x01\x02" * 100)
    elif kind == "malformed":
        path.write_bytes(DAMAGED_LINES)
    elif kind == "damaged then good":
        path.write_bytes(DAMAGED_LINES + good)
    elif kind == "deep":
        path.write_bytes(b"[" * 100_000 + b"\n")
    else:
        raise ValueError(f"no hostile file of kind {kind!r}; known: {', '.join(KINDS)}")
    return path
