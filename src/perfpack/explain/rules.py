"""explain's rules in the shared registry: what a finding of `perfpack explain` means and how to fix it."""

from __future__ import annotations

from perfpack import rules as registry
from perfpack.findings import WARNING

MISSING_INDEX = registry.Rule(
    "PX101",
    "missing-index",
    WARNING,
    "A statement reads a large table in full where an index would let it search.",
    why="A full read costs time in proportion to the table; the same rows found through an index cost "
    "a few page reads. It grows with the data, so it is often fast in tests and slow in production.",
    fix="Create the suggested index (after --try-indexes measured it), or rewrite the predicate.",
    family="explain",
)
N_PLUS_ONE = registry.Rule(
    "PX102",
    "n-plus-one",
    WARNING,
    "One single-row SELECT runs again and again inside one loop (an N+1 query pattern).",
    why="Each run pays a round trip and a statement's fixed cost; N of them take N times as long as one "
    "query that fetches all N rows.",
    fix="Fetch the rows in one query: WHERE key IN (...) over the keys the loop uses, or a JOIN with the "
    "query that produced them (an ORM's select_related/joinedload/prefetch).",
    family="explain",
)
registry.register(MISSING_INDEX, N_PLUS_ONE)
