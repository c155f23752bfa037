"""Atomic file writes and backups: a user's file is either the old one or the new one, never half."""

from __future__ import annotations

import os
import time

# shutil, tempfile and pathlib are not imported here: shutil+tempfile pull in bz2/lzma (~10 ms) and
# pathlib pulls in urllib.parse+ipaddress (~5 ms), and `perfpack memory` rewrites an agent's MEMORY.md
# on its per-action path. Writes work on os.path strings; only backup_file (not hot) returns a Path.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def atomic_write_bytes(path: Path | str, data: bytes, *, mode: int | None = None, fsync: bool = True) -> None:
    """Write `data` to `path` through a temp file in the same folder, fsync'd, then renamed over it.

    fsync=False keeps the all-or-nothing rename but skips the flush to disk: for derived files that are
    rewritten often and can be regenerated (e.g. MEMORY.md digests).
    """
    path = os.fspath(path)
    if isinstance(path, bytes):
        raise TypeError(f"expected str or os.PathLike[str], not bytes: {path!r}")
    folder, name = _split(path)
    path = os.path.join(folder, name)  # "a/b/" names "a/b", as Path("a/b/") does
    os.makedirs(folder, exist_ok=True)
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except (FileNotFoundError, NotADirectoryError):
            pass
    fd, tmp = _create_temp(folder, name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _split(path: str) -> tuple[str, str]:
    """(folder, name) of `path` as Path(path).parent and .name give them ("." for a bare name)."""
    folder, name = os.path.split(path.rstrip("/") or path)
    return folder or ".", name


def _create_temp(folder: str, name: str) -> tuple[int, str]:
    """Like tempfile.mkstemp(prefix=".NAME.", suffix=".tmp", dir=folder): a new 0600 file, O_EXCL."""
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {os.path.join(folder, name)}")


def atomic_write_text(path: Path | str, text: str, *, mode: int | None = None, fsync: bool = True) -> None:
    """Atomic write of UTF-8 text (newlines written as given)."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode, fsync=fsync)


def backup_file(path: Path | str, *, suffix: str | None = None) -> Path | None:
    """Copy `path` to `path.perfpack-backup-<timestamp>` before perfpack changes it; None if absent."""
    import shutil
    from pathlib import Path

    path = Path(path)
    if not path.exists():
        return None
    stamp = suffix or time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.perfpack-backup-{stamp}")
    counter = 1
    while target.exists():
        target = path.with_name(f"{path.name}.perfpack-backup-{stamp}-{counter}")
        counter += 1
    shutil.copy2(path, target)
    return target
