"""The ledger's index: every figure the ledger holds or implies, sorted, in one small binary file.

The stop hook runs at every pack agent's stop; parsing a ledger of hundreds of JSON records and deriving
their ratios and changes would cost more than the interpreter's start. `perfpack.ledger.record` rebuilds
this index after each append (a measuring command can afford it), and the hook reads it with one read and
four memoryview casts. The index names the ledger's size, modification time and inode: when they differ
(another record appended meanwhile, an edited ledger) the hook rebuilds it from the ledger itself.

Format (ROOT/.claude/perfpack/ledger.index, git-ignored beside the ledger): one `marshal` blob (built in,
unlike `_json`, a shared library the hook would load for it), `(version, [size, mtime_ns, inode], ids,
metrics, {dimension: (keys, orders, metric indices, flags)})`, each column the bytes of native machine
numbers: doubles (the sorted keys), 32-bit orders, 16-bit metric indices, bytes of flags. Like the routing
rules' cache, it is derived data, rebuilt when lost; any doubt (a damaged blob, a link, a FIFO) means: not
used. Standard library only, no `os`/`json`.
"""

from perfpack.evidence.match import (  # noqa: F401 - the reading half lives beside the matcher (one import)
    INDEX_NAME,
    INDEX_VERSION,
    MAX_INDEX_BYTES,
    Figures,
    index_paths,
    ledger_key,
    load_index,
)

VERSION = INDEX_VERSION
load = load_index
_paths = index_paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def save(root: str, figures: Figures, key: list[int]) -> None:
    """Write the index for the ledger state `key` (atomically: a temporary file renamed over it)."""
    import marshal

    from perfpack.lightos import _native

    _, path = index_paths(root)
    layout = {dimension: (_pack(keys, "d", 8), _pack(orders, "i", 4), _pack(codes, "H", 2),
                          _pack(flags, "B", 1))
              for dimension, (keys, orders, codes, flags) in figures.columns.items()}
    data = marshal.dumps((INDEX_VERSION, key, list(figures.ids), list(figures.metrics), layout))
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

    ledger, _ = index_paths(root)
    key = ledger_key(ledger)
    records = read_ledger(root) if key is not None else None
    if key is None or records is None or ledger_key(ledger) != key:
        return
    save(root, figures_of(records), key)
