"""The one place that opens user-controlled files and paths.

Every file a user, a repository or another program hands perfpack (settings.json, install.json,
baselines, SQL files, scenario files, commit messages, transcripts) is read through here:
- regular files only: a FIFO, device or folder is refused at once instead of blocking forever;
- a size limit, so a huge file is one clear line, not an exhausted machine;
- text must be UTF-8; JSON is read strictly (no NaN/Infinity, no number that overflows, bounded
  nesting and digits) so nothing perfpack writes back can become invalid JSON;
- paths perfpack writes or deletes are resolved and kept inside the folder they belong to.
Standard library only; `json` is imported only by the JSON readers.
"""

from __future__ import annotations

import os
import stat

from perfpack.errors import PerfpackError
from perfpack.lightos import read_fd

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 100  # settings.json, baselines and manifests are a handful of levels deep
MAX_NUMBER_DIGITS = 100  # a 5,000-digit number is an attack, not a setting

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def check_regular(path: str | os.PathLike[str], *, what: str, follow_symlinks: bool = True) -> os.stat_result:
    """stat `path` and refuse anything but a regular file (missing files raise FileNotFoundError).

    Not for a file about to be read: a FIFO can be swapped in between this check and an open, which then
    blocks. Use open_regular or read_user_bytes, which judge what they opened."""
    info = os.stat(path, follow_symlinks=follow_symlinks)
    if not stat.S_ISREG(info.st_mode):
        if stat.S_ISLNK(info.st_mode):
            raise PerfpackError(f"{what} {os.fspath(path)}: is a symbolic link; "
                                "perfpack does not follow it here")
        raise PerfpackError(f"{what} {os.fspath(path)}: is {_kind(info.st_mode)}, not a regular file")
    return info


def open_regular(path: str | os.PathLike[str], *, what: str = "file",
                 follow_symlinks: bool = True) -> tuple[int, os.stat_result]:
    """An open descriptor of a regular file and its fstat, or a PerfpackError naming `what` and the path.

    Opened with O_NONBLOCK (and O_NOFOLLOW unless `follow_symlinks`), then judged by fstat of what was
    opened: a FIFO never blocks the open, and nothing can be swapped in between a check and the open.
    Missing files raise FileNotFoundError. The caller closes the descriptor.
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(name, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        _explain_unopenable(name, what)
        raise PerfpackError(f"{what} {name}: cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PerfpackError(f"{what} {name}: is {_kind(info.st_mode)}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_user_bytes(path: str | os.PathLike[str], *, what: str = "file",
                    max_bytes: int = DEFAULT_MAX_BYTES, follow_symlinks: bool = True) -> bytes:
    """The bytes of a regular file (see open_regular), or a PerfpackError naming `what` and the path.

    Missing files raise FileNotFoundError so callers can treat "absent" as a normal state.
    """
    name = os.fspath(path)
    fd, info = open_regular(name, what=what, follow_symlinks=follow_symlinks)
    try:
        if info.st_size > max_bytes:
            raise PerfpackError(f"{what} {name}: too large ({info.st_size:,} bytes, "
                                f"larger than the limit of {max_bytes:,})")
        data = read_fd(fd, max_bytes + 1)
        if len(data) > max_bytes:  # grew while we read it
            raise PerfpackError(f"{what} {name}: too large (larger than the limit of {max_bytes:,} bytes)")
        return data
    except OSError as exc:
        raise PerfpackError(f"{what} {name}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _explain_unopenable(name: str, what: str = "") -> None:
    """Raise a clearer PerfpackError when a failed open is due to a symlink or a special file there."""
    try:
        info = os.lstat(name)
    except OSError:
        return
    where = f"{what} {name}".strip()
    if stat.S_ISLNK(info.st_mode):
        raise PerfpackError(f"{where}: is a symbolic link; perfpack does not follow it here") from None
    if not stat.S_ISREG(info.st_mode):
        raise PerfpackError(f"{where}: is {_kind(info.st_mode)}, not a regular file") from None


def decode_utf8(data: bytes, *, what: str, name: str = "") -> str:
    """UTF-8 text (a leading BOM dropped), or one line saying where the first bad byte is."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = f"{what} {name}".strip()
        raise PerfpackError(f"{where}: not UTF-8 text "
                            f"(byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def read_user_text(path: str | os.PathLike[str], *, what: str = "file",
                   max_bytes: int = DEFAULT_MAX_BYTES, follow_symlinks: bool = True) -> str:
    """read_user_bytes decoded as UTF-8."""
    data = read_user_bytes(path, what=what, max_bytes=max_bytes, follow_symlinks=follow_symlinks)
    return decode_utf8(data, what=what, name=os.fspath(path))


class _Refused(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not JSON")


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _Refused(f"a number with {len(text)} characters")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Refused(f"{text} does not fit a double (it would be written back as Infinity)")
    return value


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _Refused(f"an integer with {len(text)} digits")
    return int(text)


def loads_json_strict(text: str | bytes, *, what: str = "JSON", max_depth: int = MAX_JSON_DEPTH,
                      allow_lone_surrogates: bool = False) -> Any:
    """Parse JSON as strictly as JavaScript would write it back, or raise a one-line PerfpackError.

    Refused: NaN/Infinity, numbers that overflow a double (1e400 would come back as `Infinity`),
    numbers over MAX_NUMBER_DIGITS, nesting deeper than `max_depth`, and (by default) strings with
    lone surrogates such as "\\ud800", which cannot be written back as UTF-8.
    """
    import json

    if isinstance(text, bytes):
        text = decode_utf8(text, what=what)
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_parse_float,
                           parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise PerfpackError(f"{what}: invalid JSON at line {exc.lineno} column {exc.colno}: "
                            f"{exc.msg}") from None
    except _Refused as exc:
        raise PerfpackError(f"{what}: refused: {exc}") from None
    except RecursionError:
        raise PerfpackError(f"{what}: refused: nested deeper than {max_depth} levels") from None
    _check_shape(value, what=what, max_depth=max_depth, allow_lone_surrogates=allow_lone_surrogates)
    return value


def _check_shape(value: Any, *, what: str, max_depth: int, allow_lone_surrogates: bool) -> None:
    """Depth and string checks without recursion (a deep document must not blow the stack here)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise PerfpackError(f"{what}: refused: nested deeper than {max_depth} levels")
            for key, child in item.items():
                if not allow_lone_surrogates:
                    _check_string(key, what)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > max_depth:
                raise PerfpackError(f"{what}: refused: nested deeper than {max_depth} levels")
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and not allow_lone_surrogates:
            _check_string(item, what)


def _check_string(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PerfpackError(f"{what}: refused: a string holds a lone surrogate "
                            f"(\\u{ord(text[exc.start]):04x}), which cannot be written back as UTF-8"
                            ) from None


def read_json_file(path: str | os.PathLike[str], *, what: str = "JSON file",
                   max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = MAX_JSON_DEPTH,
                   follow_symlinks: bool = True) -> Any:
    """read_user_text + loads_json_strict, errors naming the file."""
    name = os.fspath(path)
    text = read_user_text(path, what=what, max_bytes=max_bytes, follow_symlinks=follow_symlinks)
    return loads_json_strict(text, what=f"{what} {name}", max_depth=max_depth)


def contained(root: str | os.PathLike[str], relpath: str, *, what: str = "path") -> str:
    """The absolute path of `relpath` inside `root`, or a PerfpackError if it could land outside.

    Refused: absolute paths, `..` components, NUL bytes, and any path whose folder resolves (through
    symlinks) outside `root`. The last component is not resolved: a symlink there is the caller's
    to handle (unlink removes the link, never its target).
    """
    if not isinstance(relpath, str) or not relpath or "\0" in relpath:
        raise PerfpackError(f"{what} {relpath!r}: not a usable relative path")
    if os.path.isabs(relpath) or relpath.startswith("~"):
        raise PerfpackError(f"{what} {relpath!r}: absolute paths are refused; "
                            f"it must stay inside {os.fspath(root)}")
    parts = relpath.replace("\\", "/").split("/")
    if any(part == ".." for part in parts):
        raise PerfpackError(f"{what} {relpath!r}: `..` is refused; it must stay inside {os.fspath(root)}")
    real_root = os.path.realpath(root)
    folder, name = os.path.split(os.path.normpath(relpath))
    if not name or name in (".", ".."):
        raise PerfpackError(f"{what} {relpath!r}: not a file inside {os.fspath(root)}")
    real_folder = os.path.realpath(os.path.join(real_root, folder))
    if real_folder != real_root and not real_folder.startswith(real_root + os.sep):
        raise PerfpackError(f"{what} {relpath!r}: resolves outside {os.fspath(root)} "
                            "(through a symbolic link)")
    return os.path.join(real_folder, name)


def is_inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """True when `path` (resolved) is `root` (resolved) or lies under it."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def append_nofollow(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600) -> None:
    """Append `data` to a state file with one write, never through a symlink or into a FIFO.

    O_APPEND makes concurrent appends of one write each land whole; O_NOFOLLOW refuses a symlink
    planted at the name; O_NONBLOCK keeps a planted FIFO from blocking the open.
    """
    name = os.fspath(path)
    flags = (os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_CLOEXEC", 0))
    try:
        fd = os.open(name, flags, mode)
    except OSError as exc:
        _explain_unopenable(name)
        raise PerfpackError(f"{name}: cannot write: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PerfpackError(f"{name}: is {_kind(info.st_mode)}, not a regular file")
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except OSError as exc:
        raise PerfpackError(f"{name}: cannot write: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
