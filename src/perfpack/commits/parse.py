"""Parsing `git log --numstat -z` and `git diff --numstat -z` output.

Standard library only: the PreToolUse hook uses it.
"""

from __future__ import annotations

from perfpack.commits.rules import CommitInfo, FileChange

RECORD = b"\x1e"  # starts each commit's record (logpass.LOG_FORMAT)
SHORT = 12  # hash characters shown in findings (no per-commit `%h` lookup: it costs git time)


def _text(raw: bytes) -> str:
    # Messages and paths need not be UTF-8 (latin-1 messages, odd file names): never crash on them.
    return raw.decode("utf-8", "replace")


def _numstat_entry(tokens: list[bytes], index: int) -> tuple[FileChange | None, int]:
    """Parse the numstat entry at tokens[index]; return it and the index after it."""
    token = tokens[index].lstrip(b"\n")
    added, _, rest = token.partition(b"\t")
    deleted, _, path = rest.partition(b"\t")
    binary = added == b"-" or deleted == b"-"
    try:
        n_added = 0 if binary else int(added)
        n_deleted = 0 if binary else int(deleted)
    except ValueError:
        return None, index + 1
    if path:
        return FileChange(_text(path), n_added, n_deleted, binary), index + 1
    # A rename or copy with -z: "A\tD\t\0OLD\0NEW\0".
    if index + 2 >= len(tokens):  # truncated output: keep what is there
        old = _text(tokens[index + 1]) if index + 1 < len(tokens) else ""
        return FileChange(old, n_added, n_deleted, binary), len(tokens)
    change = FileChange(_text(tokens[index + 2]), n_added, n_deleted, binary, _text(tokens[index + 1]))
    return change, index + 3


def parse_numstat(raw: bytes) -> list[FileChange]:
    """`git diff --numstat -z [-M]` output -> file changes."""
    tokens = raw.split(b"\0")
    files: list[FileChange] = []
    index = 0
    while index < len(tokens):
        if not tokens[index].strip(b"\n"):
            index += 1
            continue
        change, index = _numstat_entry(tokens, index)
        if change is not None:
            files.append(change)
    return files


def parse_log(raw: bytes) -> list[CommitInfo]:
    """`git log` output (logpass.LOG_FORMAT, --numstat -z) -> commits in log order, each with its files."""
    tokens = raw.split(b"\0")
    commits: list[CommitInfo] = []
    current: CommitInfo | None = None
    index = 0
    count = len(tokens)
    while index < count:
        token = tokens[index]
        stripped = token.lstrip(b"\n")
        if stripped.startswith(RECORD):
            full = stripped[1:].decode("ascii", "replace")
            parents = tokens[index + 1].decode("ascii", "replace").split() if index + 1 < count else []
            message = _text(tokens[index + 2]) if index + 2 < count else ""
            current = CommitInfo(ref=full[:SHORT], message=message, parents=parents, files=[], full_hash=full)
            commits.append(current)
            index += 3
            continue
        if not stripped or current is None:
            index += 1
            continue
        change, index = _numstat_entry(tokens, index)
        if change is not None:
            current.files.append(change)  # type: ignore[union-attr]
    return commits
