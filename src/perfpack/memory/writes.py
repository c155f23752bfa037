"""Writes to the memory database: tasks, insights, collaborations, messages, agent state, forgetting.

Each public write is one short transaction (Database.transaction); an `*_in` method runs inside the caller's.
"""

from __future__ import annotations

import os
import time

from perfpack.errors import PerfpackError
from perfpack.memory.database import MESSAGE_RETENTION_DAYS, Database, sqlite3
from perfpack.memory.hygiene import MAX_RECORD_BYTES, MAX_STATE_BYTES, check_agent, check_size
from perfpack.memory.records import (
    INSIGHT_INSERT,
    MESSAGE_COLUMNS,
    TASK_COLUMNS,
    dumps,
    insight_dict,
    insight_row,
    message_dict,
    task_dict,
    task_row,
)
from perfpack.memory.schema import SEARCH_BODIES
from perfpack.redact import redact


class Writes(Database):
    """The writes of MemoryStore."""

    def insert_task_in(self, c: sqlite3.Connection, row: tuple, *, skip_known: bool = False) -> int | None:
        """Insert one task_row() in the caller's transaction; its id (None if skip_known and uid known)."""
        sql = "INSERT INTO tasks (uid, agent, created, description, outcome, data) VALUES (?, ?, ?, ?, ?, ?)"
        if skip_known:
            sql += " ON CONFLICT (uid) DO NOTHING"
        found = c.execute(sql + " RETURNING id", row).fetchone()
        if found is None:
            return None
        self._index(c, "task", found[0])
        return int(found[0])

    def insert_insight_in(
        self, c: sqlite3.Connection, row: tuple, *, skip_known: bool = False
    ) -> tuple[int, int, str] | None:
        """Insert one insight_row() in the caller's transaction, merged into an identical one (same agent,
        area and whitespace-normalised text): (id, count, uid). None if skip_known and its uid is stored."""
        if skip_known and c.execute("SELECT 1 FROM insights WHERE uid = ?", (row[0],)).fetchone():
            return None
        found = c.execute(
            INSIGHT_INSERT + " ON CONFLICT (agent, area, norm) DO UPDATE SET count = count + 1, "
            "last_seen = max(last_seen, excluded.last_seen) RETURNING id, count, uid",
            row,
        ).fetchone()
        if found[1] == 1:
            self._index(c, "insight", found[0])
        return int(found[0]), int(found[1]), str(found[2])

    def add_task(self, agent: str, task: dict) -> dict:
        row = task_row(agent, task)
        rid = self.transaction(lambda c: self.insert_task_in(c, row))
        return {"id": rid, "uid": row[0], "agent": agent, "kind": "task"}

    def add_insight(self, agent: str, insight: dict) -> dict:
        row = insight_row(agent, insight)
        found = self.transaction(lambda c: self.insert_insight_in(c, row))
        assert found is not None  # only skip_known inserts can be skipped
        rid, count, uid = found
        out = {"id": rid, "uid": uid, "agent": agent, "kind": "insight"}
        if count > 1:
            out.update(merged=True, count=count)
        return out

    def update_collaboration(self, agent: str, other: str, success: bool, task_type: str = "") -> dict:
        check_agent(agent)
        check_agent(other, what="collaborator name")
        if not isinstance(task_type, str) or len(task_type) > 200:
            raise PerfpackError("task_type must be a string of at most 200 characters")
        task_type = str(redact(task_type))
        ok, bad = (1, 0) if success else (0, 1)
        row = self.transaction(
            lambda c: c.execute(
                "INSERT INTO collaborations (agent, other, task_type, successes, failures, last_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (agent, other, task_type) DO UPDATE SET "
                "successes = successes + excluded.successes, failures = failures + excluded.failures, "
                "last_at = excluded.last_at RETURNING successes, failures",
                (agent, other, task_type, ok, bad, time.time()),
            ).fetchone()
        )
        return {
            "agent": agent,
            "collaborator": other,
            "task_type": task_type,
            "successes": row[0],
            "failures": row[1],
        }

    def send_message(
        self,
        sender: str,
        message_type: str,
        content: str,
        target_agents: list | None = None,
        metadata: dict | None = None,
        *,
        retention_days: float = MESSAGE_RETENTION_DAYS,
    ) -> dict:
        check_agent(sender, what="sender name")
        if not isinstance(message_type, str) or not message_type or len(message_type) > 64:
            raise PerfpackError("message type must be a non-empty string of at most 64 characters")
        if not isinstance(content, str) or not content.strip():
            raise PerfpackError("message content must be a non-empty string")
        targets = [] if target_agents is None else target_agents
        if not isinstance(targets, list):
            raise PerfpackError("target_agents must be a list of agent names ([] = broadcast to all agents)")
        targets = sorted({check_agent(t, what="target agent name") for t in targets})
        metadata = {} if metadata is None else metadata
        if not isinstance(metadata, dict):
            raise PerfpackError("message metadata must be a JSON object")
        message_type = str(redact(message_type))
        content = str(redact(content))
        meta = dumps(redact(metadata))
        check_size(content + meta, MAX_RECORD_BYTES, "message")
        uid, now = os.urandom(16).hex(), time.time()

        def body(c: sqlite3.Connection) -> int:
            # Retention: expired messages go on the way in (indexed range delete; cheap).
            expired = [
                r[0] for r in c.execute(
                    "DELETE FROM messages WHERE created < ? RETURNING id", (now - retention_days * 86400,)
                ).fetchall()
            ]
            self._unindex(c, "message", expired)
            mid = c.execute(
                "INSERT INTO messages (uid, sender, created, type, content, metadata, broadcast) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (uid, sender, now, message_type, content, meta, 0 if targets else 1),
            ).fetchone()[0]
            c.executemany(
                "INSERT INTO message_targets (message_id, agent) VALUES (?, ?)", [(mid, t) for t in targets]
            )
            self._index(c, "message", mid)
            return int(mid)

        mid = self.transaction(body)
        return {"id": mid, "uid": uid, "sender": sender, "broadcast": not targets, "target_agents": targets}

    def save_state_in(
        self, c: sqlite3.Connection, agent: str, state: object, expected_version: object
    ) -> int:
        """Store `state` as version expected_version + 1 inside the caller's transaction; refuses if
        someone saved a newer version meanwhile (optimistic check)."""
        check_agent(agent)
        if not isinstance(state, dict):
            raise PerfpackError("memory state must be a JSON object")
        if (
            not isinstance(expected_version, int)
            or isinstance(expected_version, bool)
            or expected_version < 0
        ):
            raise PerfpackError(
                "memory version must be a non-negative integer (the one load_my_memory returned)"
            )
        data = dumps(redact(state))
        check_size(data, MAX_STATE_BYTES, "memory state")
        now = time.time()
        if expected_version == 0:
            cur = c.execute(
                "INSERT INTO agent_state (agent, version, data, updated) VALUES (?, 1, ?, ?) "
                "ON CONFLICT (agent) DO NOTHING",
                (agent, data, now),
            )
        else:
            cur = c.execute(
                "UPDATE agent_state SET version = version + 1, data = ?, updated = ? "
                "WHERE agent = ? AND version = ?",
                (data, now, agent, expected_version),
            )
        if cur.rowcount != 1:
            row = c.execute("SELECT version FROM agent_state WHERE agent = ?", (agent,)).fetchone()
            current = row[0] if row else 0
            raise PerfpackError(
                f"memory of {agent} was saved by someone else since it was loaded "
                f"(loaded version {expected_version}, stored version {current}); nothing was overwritten",
                hint="load_my_memory again, reapply your change, then save",
            )
        return expected_version + 1

    def forget(self, kind: str, ids: list[int], *, apply: bool) -> list[dict]:
        """The records of `kind` with these ids (what would go); deleted, with their search entries, if
        `apply`. Deleting is one transaction."""
        table, _who, _body = SEARCH_BODIES[kind]
        columns = {"task": TASK_COLUMNS, "insight": self._insight_columns(), "message": MESSAGE_COLUMNS}[kind]
        to_dict = {"task": task_dict, "insight": insight_dict, "message": message_dict}[kind]
        unique = sorted(set(ids))
        marks = ",".join("?" * len(unique))
        rows = (
            self.c.execute(f"SELECT {columns} FROM {table} WHERE id IN ({marks}) ORDER BY id",
                           unique).fetchall()
            if unique else []
        )
        found = [to_dict(r) for r in rows]
        if apply and found:
            gone = [item["id"] for item in found]

            def body(c: sqlite3.Connection) -> None:
                c.executemany(f"DELETE FROM {table} WHERE id = ?", [(i,) for i in gone])
                self._unindex(c, kind, gone)

            self.transaction(body)
        return found
