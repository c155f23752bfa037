"""The memory store: an open memory database (perfpack.memory.database, with its safety rules) and the
reads and writes agents make through it."""

from __future__ import annotations

from perfpack.memory.reads import Reads
from perfpack.memory.writes import Writes


class MemoryStore(Writes, Reads):
    """An open memory database. Use `MemoryStore.open(path)`; close() when done (or use `with`)."""
