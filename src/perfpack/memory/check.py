"""`perfpack memory check [--repair]`: SQLite's integrity check, the search index's own check, and a
repair that keeps a backup, rebuilds what can be rebuilt and says what, if anything, was lost.

What can be rebuilt: every index (they are derived from the tables: REINDEX) and the search index
(derived from the records). What cannot: a record whose table row is gone while an index still names it;
such records are listed as lost, with what the index still knows of them (agent and time).
"""

from __future__ import annotations

import os
import time

from perfpack.errors import PerfpackError
from perfpack.memory.database import SQLITE_VERSION, database_error, sqlite3
from perfpack.memory.records import iso
from perfpack.memory.schema import normalise
from perfpack.memory.store import MemoryStore

# table -> (kind, an index holding (agent, created) for each row): what a lost row is reported as
_TRACKED = {
    "tasks": ("task", "tasks_agent_created"),
    "insights": ("insight", "insights_agent_created"),
    "messages": ("message", "messages_created"),
}


def check_database(path: str, *, repair: bool = False) -> dict:
    from perfpack.memory.database import _check_file

    _check_file(path)  # a FIFO, device or folder is refused (exit 2), never opened
    result: dict = {"db": path, "sqlite_version": SQLITE_VERSION, "exists": os.path.exists(path)}
    if not result["exists"]:
        return {**result, "ok": True, "problems": [], "problems_left": False}
    try:
        store = MemoryStore.open(path, create=False)
    except PerfpackError as exc:
        return {**result, "ok": False, "problems": [exc.message], "problems_left": True,
                "hint": "the file cannot be opened as a memory database; `sqlite3 FILE .recover` may save "
                        "its rows"}
    assert store is not None
    with store:
        problems, lost = _inspect(store)
        result.update(ok=not problems, problems=problems)
        if lost:
            result["lost"] = lost
        if not repair or not problems:
            result["problems_left"] = bool(problems)
            if problems:
                result["hint"] = "run `perfpack memory check --repair` (it keeps a backup first)"
            return result
        result["backup"] = _backup(store)
        result["repaired"] = _repair(store)
        after, lost_after = _inspect(store)
        result["problems_left"] = bool(after)
        if after:
            result["remaining"] = after
            result["hint"] = (f"the table data itself is damaged; the backup is {result['backup']}; "
                              "`sqlite3 BACKUP .recover` may save more rows")
        if lost or lost_after:
            result["lost"] = lost or lost_after
    return result


def _inspect(store: MemoryStore) -> tuple[list[str], list[dict]]:
    """(problems found, records lost). Never raises for damage: damage is what it reports."""
    c = store.c
    problems: list[str] = []
    try:
        found = [row[0] for row in c.execute("PRAGMA integrity_check(200)")]
    except sqlite3.DatabaseError as exc:
        found = [f"integrity check could not finish: {exc}"]
    if found != ["ok"]:
        problems += found
    lost: list[dict] = []
    for table, (kind, index) in _TRACKED.items():
        try:
            in_table = {r[0] for r in c.execute(f"SELECT id FROM {table} NOT INDEXED")}
            agent = "NULL" if table == "messages" else "agent"  # messages_created holds no sender
            named = c.execute(f"SELECT id, {agent}, created FROM {table} INDEXED BY {index}").fetchall()
        except sqlite3.DatabaseError as exc:
            problems.append(f"{table}: cannot be read ({exc})")
            continue
        for rid, agent, created in named:
            if rid not in in_table:
                item = {"kind": kind, "id": rid, "created_at": iso(created)}
                if agent is not None:
                    item["agent"] = agent
                lost.append(item)
    problems += _search_index_problems(store)
    lost.sort(key=lambda item: (item["kind"], item["id"]))
    return problems, lost


def _search_index_problems(store: MemoryStore) -> list[str]:
    if not store.has_fts:
        return []
    c = store.c
    out = []
    try:
        if not store.search_index_usable():
            out.append("search index: marked stale (a write could not index its record); searches use the "
                       "plain scan")
        c.execute("BEGIN")
        try:
            c.execute("INSERT INTO search_index (search_index, rank) VALUES ('integrity-check', 0)")
        finally:
            c.execute("ROLLBACK")
        for kind, table in (("task", "tasks"), ("insight", "insights"), ("message", "messages")):
            indexed = c.execute("SELECT count(*) FROM search_index WHERE kind = ?", (kind,)).fetchone()[0]
            stored = c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if indexed != stored:
                out.append(f"search index: {indexed} {kind} entries for {stored} {table}")
    except sqlite3.DatabaseError as exc:
        out.append(f"search index: damaged ({exc})")
    return out


def _backup(store: MemoryStore) -> str:
    """A page-for-page copy (SQLite's backup API: it copies pages, damaged or not) beside the database."""
    target = f"{store.file}.backup-{time.strftime('%Y%m%dT%H%M%S')}"
    n = 0
    while os.path.exists(target if not n else f"{target}-{n}"):
        n += 1
    target = target if not n else f"{target}-{n}"
    copy = sqlite3.connect(target)
    try:
        store.c.backup(copy)
    except sqlite3.Error as exc:
        copy.close()
        raise database_error(target, exc) from None
    copy.close()
    return target


def _repair(store: MemoryStore) -> list[str]:
    done: list[str] = []

    def body(c: sqlite3.Connection) -> None:
        same = store.schema_version >= 2
        if same:  # rebuilt last: the damage may have let duplicates in, which REINDEX would refuse
            c.execute("DROP INDEX IF EXISTS insights_same")
        c.execute("REINDEX")
        done.append("rebuilt every index from the tables (REINDEX)")
        if same:
            merged = _merge_duplicate_insights(c)
            if merged:
                done.append(f"merged {merged} duplicate insight(s) the damaged unique index had let in")
            c.execute("CREATE UNIQUE INDEX insights_same ON insights (agent, area, norm)")
        if store.has_fts:
            entries = store.rebuild_search_index(c)
            done.append(f"rebuilt the search index ({entries} entries)")

    store.transaction(body)
    return done


def _merge_duplicate_insights(c: sqlite3.Connection) -> int:
    keep: dict[tuple[str, str, str], int] = {}
    gone = []
    for rid, agent, area, text, count, last_seen in c.execute(
        "SELECT id, agent, area, insight, count, last_seen FROM insights NOT INDEXED ORDER BY id"
    ).fetchall():
        first = keep.setdefault((agent, area, normalise(text)), rid)
        if first != rid:
            c.execute("UPDATE insights SET count = count + ?, last_seen = max(last_seen, ?) WHERE id = ?",
                      (count, last_seen, first))
            gone.append(rid)
    c.executemany("DELETE FROM insights WHERE id = ?", [(rid,) for rid in gone])
    return len(gone)
