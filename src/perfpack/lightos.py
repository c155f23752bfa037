"""The few operating-system calls the prompt hook needs, without importing `os`.

The hook runs on every prompt, launched as `python -S hook.py`: `-S` skips `site` and, with it, the
import of `os` (and `_collections_abc`, `posixpath`, `stat`): ~0.9 ms of a ~8 ms start here. The built-in
`posix` (`nt` on Windows) module has everything the hook uses. In a process that already imported `os`
(the CLI, the tests), `os.environ` is read instead, so in-process changes to it are seen.
"""

import sys

try:
    import posix as _native
except ImportError:  # pragma: no cover - Windows
    import nt as _native  # type: ignore[no-redef]

SEP = "\\" if _native.__name__ == "nt" else "/"
_DIR, _FILE, _TYPE = 0o040000, 0o100000, 0o170000  # stat.S_IFDIR, S_IFREG, S_IFMT


def getenv(name: str, default: str | None = None) -> str | None:
    """The environment variable `name`, as os.environ.get(name, default) gives it."""
    os_module = sys.modules.get("os")
    if os_module is not None:
        return os_module.environ.get(name, default)
    environ = _native.environ
    if sys.platform == "win32":  # pragma: no cover - Windows: str keys, upper-cased as os.environ does
        return environ.get(name.upper(), default)
    value = environ.get(name.encode("utf-8", "surrogateescape"))
    return default if value is None else value.decode("utf-8", "surrogateescape")


def join(*parts: str) -> str:
    """os.path.join for the simple case the hook has: a folder, then relative names."""
    out = parts[0]
    for part in parts[1:]:
        out = out + part if out.endswith(("/", SEP)) else out + SEP + part
    return out


def dirname(path: str) -> str:
    cut = max(path.rfind("/"), path.rfind(SEP))
    return path[:cut] if cut > 0 else path[:cut + 1]


def basename(path: str) -> str:
    return path[max(path.rfind("/"), path.rfind(SEP)) + 1:]


def absolute(path: str) -> str:
    """`path` made absolute against the working directory (not normalised: '..' stays)."""
    if path.startswith("/") or (SEP == "\\" and (path[1:3] in (":\\", ":/") or path.startswith("\\\\"))):
        return path
    return join(_native.getcwd(), path)


def stat(path: str):
    return _native.stat(path)


def is_dir(path: str) -> bool:
    try:
        return _native.stat(path).st_mode & _TYPE == _DIR
    except (OSError, ValueError):
        return False


def is_file(path: str) -> bool:
    try:
        return _native.stat(path).st_mode & _TYPE == _FILE
    except (OSError, ValueError):
        return False


def append(path: str, data: bytes) -> None:
    """Append `data` to `path` (created 0644 if missing) in one write."""
    fd = _native.open(path, _native.O_WRONLY | _native.O_APPEND | _native.O_CREAT, 0o644)
    try:
        _native.write(fd, data)
    finally:
        _native.close(fd)


def user_id() -> str:
    return str(_native.getuid()) if hasattr(_native, "getuid") else "u"
