"""Reads of the memory database: state, recent and top-ranked records, collaborators, messages, search."""

from __future__ import annotations

import time

from perfpack import fastjson
from perfpack.errors import PerfpackError
from perfpack.memory.database import MESSAGE_RETENTION_DAYS, Database, sqlite3
from perfpack.memory.hygiene import check_agent
from perfpack.memory.records import MESSAGE_COLUMNS, TASK_COLUMNS, insight_dict, iso, message_dict, task_dict
from perfpack.memory.schema import SEARCH_BODIES

# Messages `m` for one agent: live, not its own, to all or to it, not read by it (params: since, agent x3).
_UNREAD_WHERE = (
    "m.created >= ? AND m.sender != ? "
    "AND (m.broadcast = 1 OR EXISTS "
    "(SELECT 1 FROM message_targets t WHERE t.agent = ? AND t.message_id = m.id)) "
    "AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.agent = ? AND r.message_id = m.id)"
)


class Reads(Database):
    """The reads of MemoryStore (unread_messages also marks what it returns as read)."""

    def state(self, agent: str) -> tuple[int, dict]:
        row = self.c.execute("SELECT version, data FROM agent_state WHERE agent = ?", (agent,)).fetchone()
        return (row[0], fastjson.loads(row[1])) if row else (0, {})

    def recent_tasks(self, agent: str | None, limit: int) -> list[dict]:
        where, params = ("WHERE agent = ?", (agent,)) if agent else ("", ())
        rows = self.c.execute(
            f"SELECT {TASK_COLUMNS} FROM tasks {where} ORDER BY created DESC, id DESC LIMIT ?",
            (*params, int(limit)),
        ).fetchall()
        return [task_dict(r) for r in rows]

    def top_insights(self, agent: str | None, limit: int) -> list[dict]:
        """The most valuable insights: impact x confidence, then the most recently seen."""
        where, params = ("WHERE agent = ?", (agent,)) if agent else ("", ())
        rows = self.c.execute(
            f"SELECT {self._insight_columns()} FROM insights {where} "
            f"ORDER BY {self._insight_order()} LIMIT ?",
            (*params, int(limit)),
        ).fetchall()
        return [insight_dict(r) for r in rows]

    def recent_insights(self, limit: int) -> list[dict]:
        rows = self.c.execute(
            f"SELECT {self._insight_columns()} FROM insights ORDER BY created DESC, id DESC LIMIT ?",
            (int(limit),),
        ).fetchall()
        return [insight_dict(r) for r in rows]

    def collaborators(self, agent: str | None, limit: int) -> list[dict]:
        where, params = ("WHERE agent = ?", (agent,)) if agent else ("", ())
        rows = self.c.execute(
            f"SELECT agent, other, sum(successes), sum(failures), max(last_at), "
            f"json_group_object(task_type, json_array(successes, failures)) FROM collaborations {where} "
            f"GROUP BY agent, other ORDER BY sum(successes) + sum(failures) DESC, max(last_at) DESC LIMIT ?",
            (*params, int(limit)),
        ).fetchall()
        out = []
        for agent_name, other, ok, bad, last, types in rows:
            total = ok + bad
            out.append(
                {
                    "agent": agent_name,
                    "collaborator": other,
                    "successes": ok,
                    "failures": bad,
                    "success_rate": round(ok / total, 3) if total else None,
                    "last_at": iso(last),
                    "task_types": {
                        k or "(any)": {"successes": v[0], "failures": v[1]}
                        for k, v in fastjson.loads(types).items()
                    },
                }
            )
        return out

    def recent_messages(self, limit: int, retention_days: float = MESSAGE_RETENTION_DAYS) -> list[dict]:
        rows = self.c.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages "
            "WHERE broadcast = 1 AND created >= ? ORDER BY created DESC, id DESC LIMIT ?",
            (time.time() - retention_days * 86400, int(limit)),
        ).fetchall()
        return [message_dict(r) for r in rows]

    def agents(self) -> list[str]:
        """Names of the agents with tasks or insights, without scanning the tables (index skip-scan)."""
        names: set[str] = set()
        for table in ("tasks", "insights"):
            names.update(
                row[0]
                for row in self.c.execute(
                    f"WITH RECURSIVE a(agent) AS (SELECT min(agent) FROM {table} UNION ALL "
                    f"SELECT (SELECT min(agent) FROM {table} WHERE agent > a.agent) FROM a "
                    "WHERE a.agent IS NOT NULL) SELECT agent FROM a WHERE agent IS NOT NULL"
                )
            )
        return sorted(names)

    def unread_count(self, agent: str, retention_days: float = MESSAGE_RETENTION_DAYS) -> int:
        return int(self.c.execute(
            f"SELECT count(*) FROM messages m WHERE {_UNREAD_WHERE}",
            (time.time() - retention_days * 86400, agent, agent, agent),
        ).fetchone()[0])

    def unread_messages(
        self,
        agent: str,
        *,
        mark_read: bool = True,
        limit: int = 50,
        retention_days: float = MESSAGE_RETENTION_DAYS,
    ) -> list[dict]:
        check_agent(agent)
        sql = (f"SELECT {MESSAGE_COLUMNS} FROM messages m WHERE {_UNREAD_WHERE} "
               "ORDER BY m.created, m.id LIMIT ?")
        params = (time.time() - retention_days * 86400, agent, agent, agent, int(limit))
        if not mark_read:
            rows = self.c.execute(sql, params).fetchall()
        else:

            def body(c: sqlite3.Connection) -> list:
                found = c.execute(sql, params).fetchall()
                now = time.time()
                c.executemany(
                    "INSERT OR IGNORE INTO message_reads (message_id, agent, read_at) VALUES (?, ?, ?)",
                    [(r[0], agent, now) for r in found],
                )
                return found

            rows = self.transaction(body)
        return [message_dict(r) for r in rows]

    def search(
        self,
        query: str,
        *,
        agent: str | None = None,
        kind: str | None = None,
        limit: int = 20,
        use_fts: bool | None = None,
    ) -> list[dict]:
        """Tasks, insights and messages matching every word of `query` (FTS5 ranking, or LIKE without FTS5
        or while the search index is stale or failing: searching degrades, it never fails)."""
        words = [w for w in query.split() if w.strip('"')]
        if not words:
            raise PerfpackError("search query is empty", hint='e.g. perfpack memory search "n+1 query"')
        if kind not in (None, "task", "insight", "message"):
            raise PerfpackError(f"unknown kind {kind!r}: use task, insight or message")
        if use_fts is None:
            use_fts = self.search_index_usable()
        refs = None
        if use_fts:
            match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
            sql, params = "SELECT kind, ref FROM search_index WHERE search_index MATCH ?", [match]
            if agent:
                sql, params = sql + " AND agent = ?", params + [agent]
            if kind:
                sql, params = sql + " AND kind = ?", params + [kind]
            try:
                refs = self.c.execute(sql + " ORDER BY rank LIMIT ?", (*params, int(limit))).fetchall()
            except sqlite3.DatabaseError:
                refs = None  # a damaged or busy search index: the plain scan answers instead
        if refs is None:
            refs = self.like_search(words, agent, kind, int(limit))
        return [item for item in (self._hydrate(k, r) for k, r in refs) if item is not None]

    def like_search(self, words: list[str], agent: str | None, kind: str | None, limit: int) -> list:
        parts, params = [], []
        for name, (table, who, body) in SEARCH_BODIES.items():
            if kind and kind != name:
                continue
            conds = [f"({body}) LIKE ? ESCAPE '\\'" for _ in words]
            params += [
                "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for w in words
            ]
            if agent:
                conds.append(f"{who} = ?")
                params.append(agent)
            parts.append(f"SELECT '{name}', id, created FROM {table} WHERE " + " AND ".join(conds))
        sql = " UNION ALL ".join(parts) + " ORDER BY 3 DESC LIMIT ?"
        return [(k, r) for k, r, _ in self.c.execute(sql, (*params, limit)).fetchall()]

    def _hydrate(self, kind: str, ref: int) -> dict | None:
        if kind == "task":
            row = self.c.execute(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?", (ref,)).fetchone()
            return row and {"kind": "task", **task_dict(row)}
        if kind == "insight":
            row = self.c.execute(
                f"SELECT {self._insight_columns()} FROM insights WHERE id = ?", (ref,)
            ).fetchone()
            return row and {"kind": "insight", **insight_dict(row)}
        row = self.c.execute(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (ref,)).fetchone()
        return row and {"kind": "message", **message_dict(row)}

    def counts(self) -> dict:
        return {
            table: self.c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("tasks", "insights", "collaborations", "messages", "agent_state")
        }
