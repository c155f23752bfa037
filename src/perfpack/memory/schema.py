"""The memory database's schema and its migrations (user_version n -> n + 1, each inside one transaction).

Version 1: tasks, insights, collaborations, messages (+ targets, reads), agent_state; FTS5 kept by triggers.
Version 2 (issue 14): insights carry `count`, `last_seen` and `norm` (the text with whitespace collapsed) and
are unique per (agent, area, norm), so a repeated insight is merged instead of stored again; the value
indexes order by last_seen; the search index is written by the store, outside SQL triggers, so a broken
search index can never fail a write (a `meta` row marks it stale and searches use the plain scan).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from perfpack.memory.database import sqlite3

APPLICATION_ID = 0x50504D4D  # "PPMM": marks the file as perfpack memory
SCHEMA_VERSION = 2

IMPACT_RANK = "CASE impact WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END"
# Value of an insight: impact weighted by confidence; the most recently seen breaks ties.
INSIGHT_ORDER = f"({IMPACT_RANK}) * confidence DESC, last_seen DESC, id DESC"

SCHEMA_V1 = """
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, agent TEXT NOT NULL, created REAL NOT NULL,
    description TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'partial', 'failure')),
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX tasks_agent_created ON tasks (agent, created DESC);
CREATE TABLE insights (
    id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, agent TEXT NOT NULL, created REAL NOT NULL,
    area TEXT NOT NULL, insight TEXT NOT NULL,
    impact TEXT NOT NULL CHECK (impact IN ('low', 'medium', 'high')),
    confidence REAL NOT NULL CHECK (typeof(confidence) IN ('real', 'integer') AND confidence BETWEEN 0 AND 1),
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX insights_agent_created ON insights (agent, created DESC);
CREATE INDEX insights_created ON insights (created DESC);
CREATE INDEX insights_value ON insights (agent,
    (CASE impact WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END) * confidence DESC,
    created DESC, id DESC);
CREATE INDEX insights_value_all ON insights (
    (CASE impact WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END) * confidence DESC,
    created DESC, id DESC);
CREATE TABLE collaborations (
    agent TEXT NOT NULL, other TEXT NOT NULL, task_type TEXT NOT NULL DEFAULT '',
    successes INTEGER NOT NULL DEFAULT 0 CHECK (successes >= 0),
    failures INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_at REAL NOT NULL,
    PRIMARY KEY (agent, other, task_type)
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, sender TEXT NOT NULL, created REAL NOT NULL,
    type TEXT NOT NULL, content TEXT NOT NULL, metadata TEXT NOT NULL DEFAULT '{}',
    broadcast INTEGER NOT NULL CHECK (broadcast IN (0, 1))
);
CREATE INDEX messages_created ON messages (created);
CREATE TABLE message_targets (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE, agent TEXT NOT NULL,
    PRIMARY KEY (agent, message_id)
) WITHOUT ROWID;
CREATE TABLE message_reads (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE, agent TEXT NOT NULL,
    read_at REAL NOT NULL,
    PRIMARY KEY (agent, message_id)
) WITHOUT ROWID;
CREATE TABLE agent_state (
    agent TEXT PRIMARY KEY, version INTEGER NOT NULL CHECK (version >= 1), data TEXT NOT NULL,
    updated REAL NOT NULL
);
"""

# The search index: one row per task, insight and message; `ref` is the record's id in its table.
FTS_TABLE = (
    "CREATE VIRTUAL TABLE search_index USING fts5 (body, kind UNINDEXED, ref UNINDEXED, agent UNINDEXED)"
)
# The text indexed for each kind: (table, agent column, body expression).
SEARCH_BODIES = {
    "task": ("tasks", "agent", "description || ' ' || data"),
    "insight": ("insights", "agent", "area || ' ' || insight || ' ' || data"),
    "message": ("messages", "sender", "type || ' ' || content || ' ' || metadata"),
}

_V1_TRIGGERS = ("tasks_fts_ins", "tasks_fts_del", "insights_fts_ins", "insights_fts_del",
                "messages_fts_ins", "messages_fts_del")

_V2_INDEXES = """
DROP INDEX insights_value;
DROP INDEX insights_value_all;
CREATE INDEX insights_value ON insights (agent,
    (CASE impact WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END) * confidence DESC,
    last_seen DESC, id DESC);
CREATE INDEX insights_value_all ON insights (
    (CASE impact WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END) * confidence DESC,
    last_seen DESC, id DESC);
CREATE UNIQUE INDEX insights_same ON insights (agent, area, norm);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def normalise(text: str) -> str:
    """The text two insights must share to be one: whitespace runs collapsed, ends stripped."""
    return " ".join(text.split())


def _v0_to_v1(conn: sqlite3.Connection, with_fts: bool) -> None:
    for statement in split(SCHEMA_V1):
        conn.execute(statement)
    if with_fts:
        conn.execute(FTS_TABLE)


def _v1_to_v2(conn: sqlite3.Connection, with_fts: bool) -> None:
    for name in _V1_TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    conn.execute("ALTER TABLE insights ADD COLUMN count INTEGER NOT NULL DEFAULT 1 CHECK (count >= 1)")
    conn.execute("ALTER TABLE insights ADD COLUMN last_seen REAL NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE insights ADD COLUMN norm TEXT NOT NULL DEFAULT ''")
    rows = conn.execute("SELECT id, agent, area, insight, created FROM insights ORDER BY id").fetchall()
    keep: dict[tuple[str, str, str], int] = {}
    merged: list[int] = []
    for rid, agent, area, text, created in rows:
        norm = normalise(text)
        first = keep.setdefault((agent, area, norm), rid)
        if first == rid:
            conn.execute("UPDATE insights SET norm = ?, last_seen = ? WHERE id = ?", (norm, created, rid))
        else:  # a repeat stored before merging existed: counted into the first, then removed
            conn.execute(
                "UPDATE insights SET count = count + 1, last_seen = max(last_seen, ?) WHERE id = ?",
                (created, first),
            )
            merged.append(rid)
    conn.executemany("DELETE FROM insights WHERE id = ?", [(rid,) for rid in merged])
    if with_fts and merged:
        conn.executemany(
            "DELETE FROM search_index WHERE kind = 'insight' AND ref = ?", [(rid,) for rid in merged]
        )
    for statement in split(_V2_INDEXES):
        conn.execute(statement)


# MIGRATIONS[n](conn, with_fts) brings a database from user_version n to n + 1 (inside the caller's
# transaction). with_fts: whether the database has (or, for a new one, gets) the search index.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection, bool], None]] = {0: _v0_to_v1, 1: _v1_to_v2}


def split(script: str) -> list[str]:
    """Statements of a schema script (triggers keep their inner semicolons)."""
    out, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and (not text.upper().startswith("CREATE TRIGGER") or text.endswith("END;")):
            out.append(text)
            current = []
    return out
