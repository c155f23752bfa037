"""The ledger's index: every figure the ledger holds or implies, sorted, in one small binary file.

The stop hook runs at every pack agent's stop; parsing a ledger of hundreds of JSON records and deriving
their ratios and changes would cost more than the interpreter's start. `perfpack.ledger.record` rebuilds
this index after each append (a measuring command can afford it), and the hook reads it with one read and
four memoryview casts. The index names the ledger's size, modification time and inode: when they differ
(another record appended meanwhile, an edited ledger) the hook rebuilds it from the ledger itself.

Format (ROOT/.claude/perfpack/ledger.index, git-ignored beside the ledger): one JSON header line
`{"version": 1, "ledger": [size, mtime_ns, inode], "ids": [...], "metrics": [...], "columns": {dimension:
[offset, count]}}`, then for each dimension at its offset: `count` doubles (the sorted keys), `count`
32-bit orders, `count` 16-bit metric indices, `count` bytes of delta flags, all native byte order. Any
doubt (a short file, a bad header, a link, a FIFO) means: not used. Standard library only, no `os`/`json`.
"""

from perfpack.evidence.match import Figures

VERSION = 1
INDEX_NAME = "ledger.index"
MAX_INDEX_BYTES = 64 * 1024 * 1024

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _paths(root: str) -> tuple[str, str]:
    from perfpack.lightos import join

    folder = join(root, ".claude", "perfpack")
    return join(folder, "ledger.jsonl"), join(folder, INDEX_NAME)


def ledger_key(ledger: str) -> list[int] | None:
    """[size, mtime_ns, inode] of the ledger when it is a regular file (not a link), else None."""
    from perfpack.lightos import _native

    try:
        info = _native.lstat(ledger)
    except (OSError, ValueError):
        return None
    if info.st_mode & 0o170000 != 0o100000:
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ino]


def load(root: str, read_regular: "Any") -> Figures | None:
    """The index when it describes the ledger as it is now; None otherwise."""
    from perfpack.fastjson import loads

    ledger, path = _paths(root)
    key = ledger_key(ledger)
    if key is None:
        return None
    data = read_regular(path, MAX_INDEX_BYTES)
    if not data:
        return None
    newline = data.find(b"\n")
    try:
        header = loads(data[:newline].decode("utf-8")) if newline > 0 else None
        if not isinstance(header, dict) or header.get("version") != VERSION or header.get("ledger") != key:
            return None
        ids, metrics, layout = header["ids"], header["metrics"], header["columns"]
        if not (isinstance(ids, list) and isinstance(metrics, list) and isinstance(layout, dict)):
            return None
        body = memoryview(data)[newline + 1:]
        columns = {}
        for dimension, (offset, count) in layout.items():
            if not (isinstance(offset, int) and isinstance(count, int) and offset >= 0 and count >= 0):
                return None
            ends = [offset + count * 8, offset + count * 12, offset + count * 14, offset + count * 15]
            if ends[3] > len(body):
                return None
            columns[str(dimension)] = (body[offset:ends[0]].cast("d"), body[ends[0]:ends[1]].cast("i"),
                                       body[ends[1]:ends[2]].cast("H"), body[ends[2]:ends[3]].cast("B"))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError, UnicodeDecodeError):
        return None
    return Figures(columns, [str(i) for i in ids], [str(m) for m in metrics])


def save(root: str, figures: Figures, key: list[int]) -> None:
    """Write the index for the ledger state `key` (atomically: a temporary file renamed over it)."""
    from perfpack.fastjson import dumps
    from perfpack.lightos import _native

    _, path = _paths(root)
    layout, blobs, offset = {}, [], 0
    for dimension, (keys, orders, codes, deltas) in figures.columns.items():
        chunk = _pack(keys, "d", 8) + _pack(orders, "i", 4) + _pack(codes, "H", 2) + _pack(deltas, "B", 1)
        layout[dimension] = [offset, len(keys)]
        blobs.append(chunk)
        offset += len(chunk)
    header = dumps({"version": VERSION, "ledger": key, "ids": figures.ids, "metrics": figures.metrics,
                    "columns": layout})
    data = header.encode("utf-8") + b"\n" + b"".join(blobs)
    temporary = f"{path}.{_native.getpid()}.tmp"
    flags = _native.O_WRONLY | _native.O_CREAT | _native.O_EXCL | getattr(_native, "O_NOFOLLOW", 0) \
        | getattr(_native, "O_CLOEXEC", 0)
    fd = _native.open(temporary, flags, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = _native.write(fd, view)
            view = view[written:]
    finally:
        _native.close(fd)
    try:
        _native.rename(temporary, path)
    except OSError:
        _native.unlink(temporary)
        raise


def _pack(values: "Any", code: str, size: int) -> bytes:
    """The values as native machine numbers (what `array(code, values).tobytes()` gives, without importing
    `array`, which imports `collections`: the hook may write the index itself)."""
    buffer = bytearray(size * len(values))
    view: Any = memoryview(buffer).cast(code)  # type: ignore[call-overload]
    for position, value in enumerate(values):
        view[position] = value
    return bytes(buffer)


def rebuild(root: str) -> None:
    """After a record is appended (perfpack.ledger.record): the index for the ledger as it is now."""
    from perfpack.evidence.hook import read_ledger
    from perfpack.evidence.match import figures_of

    ledger, _ = _paths(root)
    key = ledger_key(ledger)
    records = read_ledger(root) if key is not None else None
    if key is None or records is None or ledger_key(ledger) != key:
        return
    save(root, figures_of(records), key)
