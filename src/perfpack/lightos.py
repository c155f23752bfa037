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


_O_SAFE = (getattr(_native, "O_NONBLOCK", 0) | getattr(_native, "O_NOFOLLOW", 0)
           | getattr(_native, "O_CLOEXEC", 0) | getattr(_native, "O_NOCTTY", 0))
_NOT_REGULAR = "not a regular file (a FIFO, device, socket or folder)"


def is_real_dir(path: str) -> bool:
    """A folder that is not a symbolic link (the hook writes its state only into such folders)."""
    try:
        return _native.lstat(path).st_mode & _TYPE == _DIR
    except (OSError, ValueError):
        return False


def private_dir(path: str) -> bool:
    """True when `path` is (or was just made, 0700) a folder of this user that is not a symbolic link."""
    try:
        info = _native.lstat(path)
    except FileNotFoundError:
        parent = dirname(path)
        if parent and parent != path and not is_dir(parent) and not private_dir(parent):
            return False
        try:
            _native.mkdir(path, 0o700)
            info = _native.lstat(path)
        except (OSError, ValueError):
            return False
    except (OSError, ValueError):
        return False
    owner = _native.getuid() if hasattr(_native, "getuid") else info.st_uid
    return info.st_mode & _TYPE == _DIR and info.st_uid == owner


def read_regular(path: str, max_bytes: int, *, follow_symlinks: bool = True, tail: bool = False) -> bytes:
    """At most `max_bytes` + 1 bytes of the regular file `path`; OSError for anything else.

    Opened non-blocking, so a FIFO (or a symlink to one) never blocks; a device is refused before a
    byte is read. Without `follow_symlinks` a symlink at `path` is refused (OSError ELOOP). With `tail`,
    the last `max_bytes` bytes (a log's newest lines).
    """
    flags = _native.O_RDONLY | _O_SAFE
    if follow_symlinks:
        flags &= ~getattr(_native, "O_NOFOLLOW", 0)
    fd = _native.open(path, flags)
    try:
        info = _native.fstat(fd)
        if info.st_mode & _TYPE != _FILE:
            raise OSError(22, _NOT_REGULAR, path)
        if tail and info.st_size > max_bytes:
            _native.lseek(fd, info.st_size - max_bytes, 0)
            return read_fd(fd, max_bytes)
        # one read of the size fstat gave: os.read(fd, n) allocates n bytes first, and a 1 MiB buffer for a
        # small file is fresh memory to fault in (a file that grew meanwhile is read on to the limit)
        size = min(max_bytes + 1, info.st_size + 1)
        data = _native.read(fd, size)
        return data if len(data) < size else data + read_fd(fd, max_bytes + 1 - size)
    finally:
        _native.close(fd)


def read_fd(fd: int, limit: int) -> bytes:
    """At most `limit` bytes from the open descriptor `fd` (to its end), read in chunks of at most 1 MiB."""
    chunks = []
    while limit > 0:
        chunk = _native.read(fd, min(limit, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        limit -= len(chunk)
    return b"".join(chunks)


def append(path: str, data: bytes) -> None:
    """Append `data` to the regular file `path` (created 0644 if missing) in one write.

    Never through a symlink planted at `path` (O_NOFOLLOW), never blocked by a FIFO there (O_NONBLOCK);
    OSError for either, and for a device or folder.
    """
    fd = _native.open(path, _native.O_WRONLY | _native.O_APPEND | _native.O_CREAT | _O_SAFE, 0o644)
    try:
        if _native.fstat(fd).st_mode & _TYPE != _FILE:
            raise OSError(22, _NOT_REGULAR, path)
        _native.write(fd, data)
    finally:
        _native.close(fd)


def replace_file(path: str, data: bytes) -> None:
    """Write `data` to a fresh file beside `path`, then rename it over `path`: readers see the old or the
    new content, never a torn one, and a symlink at `path` is replaced, not followed. No fsync (for files
    derived from others, which are rebuilt when lost). The temporary file is removed on failure."""
    temporary = f"{path}.{_native.getpid()}.tmp"
    fd = _native.open(temporary, _native.O_WRONLY | _native.O_CREAT | _native.O_EXCL | _O_SAFE, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[_native.write(fd, view):]
        finally:
            _native.close(fd)
        _native.rename(temporary, path)
    except BaseException:
        try:
            _native.unlink(temporary)
        except OSError:
            pass
        raise


def user_id() -> str:
    return str(_native.getuid()) if hasattr(_native, "getuid") else "u"
