"""SQLite storage for agent memory: one WAL database shared safely by many agent processes.

Every write is one short `BEGIN IMMEDIATE` transaction; counters are updated in SQL, never read-modify-write.
A file that is not perfpack's memory database is reported and never written to.
"""

from __future__ import annotations

import os
import time

try:  # the C module itself: `import sqlite3` adds datetime and adapter set-up (~2 ms) this path never uses
    import _sqlite3 as sqlite3
except ImportError:  # pragma: no cover - other Python builds
    import sqlite3  # type: ignore[no-redef]

# pathlib costs ~5 ms (urllib.parse, ipaddress) per memory write: paths are os.path strings inside;
# the public functions still return Path, importing it only when called.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

from perfpack import fastjson
from perfpack.errors import PerfpackError
from perfpack.memory.hygiene import MAX_RECORD_BYTES, MAX_STATE_BYTES, check_agent, check_size, redact

APPLICATION_ID = 0x50504D4D  # "PPMM": marks the file as perfpack memory
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
WAL_LEFT_LIMIT = 512 * 1024  # bytes of WAL a `perfpack memory` process may leave for the next (see close)
OUTCOMES = ("success", "partial", "failure")
IMPACTS = ("low", "medium", "high")
MESSAGE_RETENTION_DAYS = 30
_IMPACT_RANK = "CASE impact WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END"
# Value of an insight: impact weighted by confidence; recency breaks ties.
INSIGHT_ORDER = f"({_IMPACT_RANK}) * confidence DESC, created DESC, id DESC"

_SCHEMA_V1 = """
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
CREATE INDEX insights_value ON insights (agent, (CASE impact WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END) * confidence DESC, created DESC, id DESC);
CREATE INDEX insights_value_all ON insights ((CASE impact WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END) * confidence DESC, created DESC, id DESC);
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
    agent TEXT PRIMARY KEY, version INTEGER NOT NULL CHECK (version >= 1), data TEXT NOT NULL, updated REAL NOT NULL
);
"""

_FTS_V1 = """
CREATE VIRTUAL TABLE search_index USING fts5 (body, kind UNINDEXED, ref UNINDEXED, agent UNINDEXED);
CREATE TRIGGER tasks_fts_ins AFTER INSERT ON tasks BEGIN
  INSERT INTO search_index (body, kind, ref, agent) VALUES (new.description || ' ' || new.data, 'task', new.id, new.agent);
END;
CREATE TRIGGER tasks_fts_del AFTER DELETE ON tasks BEGIN
  DELETE FROM search_index WHERE kind = 'task' AND ref = old.id;
END;
CREATE TRIGGER insights_fts_ins AFTER INSERT ON insights BEGIN
  INSERT INTO search_index (body, kind, ref, agent)
  VALUES (new.area || ' ' || new.insight || ' ' || new.data, 'insight', new.id, new.agent);
END;
CREATE TRIGGER insights_fts_del AFTER DELETE ON insights BEGIN
  DELETE FROM search_index WHERE kind = 'insight' AND ref = old.id;
END;
CREATE TRIGGER messages_fts_ins AFTER INSERT ON messages BEGIN
  INSERT INTO search_index (body, kind, ref, agent)
  VALUES (new.type || ' ' || new.content || ' ' || new.metadata, 'message', new.id, new.sender);
END;
CREATE TRIGGER messages_fts_del AFTER DELETE ON messages BEGIN
  DELETE FROM search_index WHERE kind = 'message' AND ref = old.id;
END;
"""

# Migrations: MIGRATIONS[n] brings a database from user_version n to n + 1, inside one transaction.
MIGRATIONS: dict[int, str] = {0: _SCHEMA_V1}


def fts5_available() -> bool:
    """Whether this SQLite build has FTS5 (PERFPACK_MEMORY_NO_FTS=1 forces the plain fallback)."""
    if os.environ.get("PERFPACK_MEMORY_NO_FTS") == "1":
        return False
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5 (body)")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


def default_db_path(root: Path | str | None = None) -> Path:
    """$PERFPACK_MEMORY_DB, else ROOT/.claude/memory/memory.db (ROOT from find_project_root())."""
    from pathlib import Path

    return Path(default_db_str(root))


def default_db_str(root: Path | str | None = None) -> str:
    """default_db_path() as a string, without importing pathlib (the per-write path)."""
    if root is None:
        env = os.environ.get("PERFPACK_MEMORY_DB")
        if env:
            return env
        from perfpack.project import find_project_root_str

        root = find_project_root_str()
    return os.path.join(os.fspath(root), ".claude", "memory", "memory.db")


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _dumps(value: object) -> str:
    return fastjson.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class MemoryStore:
    """An open memory database. Use `MemoryStore.open(path)`; close() when done (or use `with`)."""

    # Connections kept, not closed, until the process ends (leave_open_at_exit); None = close normally.
    _left_open: list | None = None

    @classmethod
    def leave_open_at_exit(cls) -> None:
        """From now on close() leaves connections open for the process's end (which must be os._exit).

        For `perfpack memory`, run once per agent action. Closing the last connection to a WAL database
        checkpoints the WAL into it and deletes it: two fsyncs and an unlink, ~4 ms or 15% of a bare
        interpreter start. Left open, the WAL keeps the committed transactions and the next process
        recovers it exactly as after a crash (SQLite's design; tests/memory kill writers with SIGKILL and
        count every committed record). Recovery reads the whole WAL, and forgets what was checkpointed,
        so close() checkpoints and truncates it once it is over WAL_LEFT_LIMIT bytes.
        """
        if cls._left_open is None:
            cls._left_open = []

    def __init__(self, path: Path | str, conn: sqlite3.Connection) -> None:
        self.file = os.fspath(path)  # the database file as a string (no pathlib on the write path)
        self.conn = conn
        self._fts: bool | None = None

    @property
    def path(self) -> Path:
        from pathlib import Path

        return Path(self.file)

    # -- opening and schema -------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str, *, create: bool = True) -> MemoryStore | None:
        """Open (creating or migrating if needed) the database at `path`; None if absent and not `create`."""
        path = os.fspath(path)
        if isinstance(path, bytes):
            raise TypeError(f"expected str or os.PathLike[str], not bytes: {path!r}")
        path = _clean(path)
        _check_file(path, create)
        if not os.path.exists(path):
            if not create:
                return None
            folder = os.path.dirname(path) or "."
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as exc:
                raise PerfpackError(f"{folder}: cannot create the memory folder: {exc}") from None
        try:
            conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise PerfpackError(f"{path}: cannot open the memory database: {exc}") from None
        store = cls(path, conn)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            store._prepare(create)
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across process crashes, fast commits
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise PerfpackError(
                f"{path}: not a usable perfpack memory database ({exc})",
                hint="perfpack leaves the file untouched; move it away to start a new memory",
            )
        except BaseException:
            conn.close()
            raise
        return store

    def _prepare(self, create: bool) -> None:
        app_id, version, objects = self._ids()
        if app_id == APPLICATION_ID and version == SCHEMA_VERSION:
            return
        self._check_ours(app_id, version, objects)
        if not create:
            if version == 0:
                return  # an empty file: nothing stored yet
            raise PerfpackError(
                f"{self.file}: memory schema {version} needs migrating to {SCHEMA_VERSION}",
                hint="run any `perfpack memory` write command (it migrates the schema)",
            )
        if version == 0:
            # WAL is persistent in the file; it cannot be switched inside a transaction.
            self._switch_to_wal()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            app_id, version, objects = self._ids()  # another process may have created or migrated it meanwhile
            self._check_ours(app_id, version, objects)
            with_fts = fts5_available() if version == 0 else None
            while version < SCHEMA_VERSION:
                for statement in _split(MIGRATIONS[version]):
                    self.conn.execute(statement)
                if version == 0 and with_fts:
                    for statement in _split(_FTS_V1):
                        self.conn.execute(statement)
                version += 1
            self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _switch_to_wal(self) -> None:
        # The switch needs the file to itself, and SQLite answers "locked" at once (no busy handler)
        # while other processes opening the new file hold it: retry within the busy timeout.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.005)

    def _ids(self) -> tuple[int, int, int]:
        """(application_id, user_version, schema objects), read in one statement: one snapshot.

        Separate statements could straddle another process's schema creation and see a mix, e.g.
        application_id 0 with user_version 1, and call a perfpack database foreign.
        """
        row = self.conn.execute(
            "SELECT a.application_id, v.user_version, (SELECT count(*) FROM sqlite_master)"
            " FROM pragma_application_id() AS a, pragma_user_version() AS v"
        ).fetchone()
        return row[0], row[1], row[2]

    def _check_ours(self, app_id: int, version: int, objects: int) -> None:
        if app_id == APPLICATION_ID:
            if version > SCHEMA_VERSION:
                raise PerfpackError(
                    f"{self.file}: memory schema {version} is newer than this perfpack "
                    f"understands ({SCHEMA_VERSION})",
                    hint="upgrade perfpack; the file is untouched",
                )
            return
        if app_id != 0 or version != 0 or objects:
            raise PerfpackError(
                f"{self.file}: a SQLite database that is not perfpack memory "
                f"(application_id={app_id}, user_version={version}, {objects} schema objects)",
                hint="perfpack never writes to it; point --db / PERFPACK_MEMORY_DB elsewhere",
            )

    def close(self) -> None:
        if MemoryStore._left_open is not None and not self.conn.in_transaction:
            try:
                too_long = os.stat(self.file + "-wal").st_size > WAL_LEFT_LIMIT
            except OSError:
                too_long = False
            if too_long:  # waits at most 1 s for others in the WAL; if busy, a later process does it
                self.conn.execute("PRAGMA busy_timeout = 1000")
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            MemoryStore._left_open.append(self.conn)  # referenced, so never closed by garbage collection
            return
        self.conn.close()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def has_fts(self) -> bool:
        if self._fts is None:
            row = self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_index'").fetchone()
            self._fts = row is not None
        return self._fts

    def transaction(self, body):
        """Run body(conn) in one BEGIN IMMEDIATE transaction: the only way this module writes."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            result = body(self.conn)
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        return result

    # -- writes -------------------------------------------------------------------------------------------
    def add_task(self, agent: str, task: dict) -> dict:
        row = task_row(agent, task)
        cur = self.transaction(
            lambda c: c.execute(
                "INSERT INTO tasks (uid, agent, created, description, outcome, data) VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )
        )
        return {"id": cur.lastrowid, "uid": row[0], "agent": agent, "kind": "task"}

    def add_insight(self, agent: str, insight: dict) -> dict:
        row = insight_row(agent, insight)
        cur = self.transaction(
            lambda c: c.execute(
                "INSERT INTO insights (uid, agent, created, area, insight, impact, confidence, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        )
        return {"id": cur.lastrowid, "uid": row[0], "agent": agent, "kind": "insight"}

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
        content = str(redact(content))
        meta = _dumps(redact(metadata))
        check_size(content + meta, MAX_RECORD_BYTES, "message")
        uid, now = os.urandom(16).hex(), time.time()

        def body(c: sqlite3.Connection) -> int:
            # Retention: expired messages go on the way in (indexed range delete; cheap).
            c.execute("DELETE FROM messages WHERE created < ?", (now - retention_days * 86400,))
            mid = c.execute(
                "INSERT INTO messages (uid, sender, created, type, content, metadata, broadcast) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (uid, sender, now, message_type, content, meta, 0 if targets else 1),
            ).lastrowid
            c.executemany(
                "INSERT INTO message_targets (message_id, agent) VALUES (?, ?)", [(mid, t) for t in targets]
            )
            return mid

        mid = self.transaction(body)
        return {"id": mid, "uid": uid, "sender": sender, "broadcast": not targets, "target_agents": targets}

    def unread_messages(
        self,
        agent: str,
        *,
        mark_read: bool = True,
        limit: int = 50,
        retention_days: float = MESSAGE_RETENTION_DAYS,
    ) -> list[dict]:
        check_agent(agent)
        sql = f"SELECT {MESSAGE_COLUMNS} FROM messages m WHERE {_UNREAD_WHERE} ORDER BY m.created, m.id LIMIT ?"
        params = (time.time() - retention_days * 86400, agent, agent, agent, int(limit))
        if not mark_read:
            rows = self.conn.execute(sql, params).fetchall()
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
        data = _dumps(redact(state))
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

    # -- reads --------------------------------------------------------------------------------------------
    def state(self, agent: str) -> tuple[int, dict]:
        row = self.conn.execute("SELECT version, data FROM agent_state WHERE agent = ?", (agent,)).fetchone()
        return (row[0], fastjson.loads(row[1])) if row else (0, {})

    def recent_tasks(self, agent: str | None, limit: int) -> list[dict]:
        where, params = ("WHERE agent = ?", (agent,)) if agent else ("", ())
        rows = self.conn.execute(
            f"SELECT {TASK_COLUMNS} FROM tasks {where} ORDER BY created DESC, id DESC LIMIT ?",
            (*params, int(limit)),
        ).fetchall()
        return [task_dict(r) for r in rows]

    def top_insights(self, agent: str | None, limit: int) -> list[dict]:
        where, params = ("WHERE agent = ?", (agent,)) if agent else ("", ())
        rows = self.conn.execute(
            f"SELECT {INSIGHT_COLUMNS} FROM insights {where} ORDER BY {INSIGHT_ORDER} LIMIT ?",
            (*params, int(limit)),
        ).fetchall()
        return [insight_dict(r) for r in rows]

    def recent_insights(self, limit: int) -> list[dict]:
        rows = self.conn.execute(
            f"SELECT {INSIGHT_COLUMNS} FROM insights ORDER BY created DESC, id DESC LIMIT ?", (int(limit),)
        ).fetchall()
        return [insight_dict(r) for r in rows]

    def collaborators(self, agent: str | None, limit: int) -> list[dict]:
        where, params = ("WHERE agent = ?", (agent,)) if agent else ("", ())
        rows = self.conn.execute(
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
        rows = self.conn.execute(
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
                for row in self.conn.execute(
                    f"WITH RECURSIVE a(agent) AS (SELECT min(agent) FROM {table} UNION ALL "
                    f"SELECT (SELECT min(agent) FROM {table} WHERE agent > a.agent) FROM a "
                    "WHERE a.agent IS NOT NULL) SELECT agent FROM a WHERE agent IS NOT NULL"
                )
            )
        return sorted(names)

    def unread_count(self, agent: str, retention_days: float = MESSAGE_RETENTION_DAYS) -> int:
        return self.conn.execute(
            f"SELECT count(*) FROM messages m WHERE {_UNREAD_WHERE}",
            (time.time() - retention_days * 86400, agent, agent, agent),
        ).fetchone()[0]

    def search(
        self,
        query: str,
        *,
        agent: str | None = None,
        kind: str | None = None,
        limit: int = 20,
        use_fts: bool | None = None,
    ) -> list[dict]:
        """Tasks, insights and messages matching every word of `query` (FTS5 ranking, or LIKE without FTS5)."""
        words = [w for w in query.split() if w.strip('"')]
        if not words:
            raise PerfpackError("search query is empty", hint='e.g. perfpack memory search "n+1 query"')
        if kind not in (None, "task", "insight", "message"):
            raise PerfpackError(f"unknown kind {kind!r}: use task, insight or message")
        if use_fts is None:
            use_fts = self.has_fts and os.environ.get("PERFPACK_MEMORY_NO_FTS") != "1"
        if use_fts:
            match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
            sql, params = "SELECT kind, ref FROM search_index WHERE search_index MATCH ?", [match]
            if agent:
                sql, params = sql + " AND agent = ?", params + [agent]
            if kind:
                sql, params = sql + " AND kind = ?", params + [kind]
            try:
                refs = self.conn.execute(sql + " ORDER BY rank LIMIT ?", (*params, int(limit))).fetchall()
            except sqlite3.OperationalError as exc:
                raise PerfpackError(f"search query not understood: {exc}") from None
        else:
            refs = self._like_search(words, agent, kind, int(limit))
        return [item for item in (self._hydrate(k, r) for k, r in refs) if item is not None]

    def _like_search(self, words: list[str], agent: str | None, kind: str | None, limit: int) -> list:
        bodies = {
            "task": ("tasks", "agent", "description || ' ' || data"),
            "insight": ("insights", "agent", "area || ' ' || insight || ' ' || data"),
            "message": ("messages", "sender", "type || ' ' || content || ' ' || metadata"),
        }
        parts, params = [], []
        for name, (table, who, body) in bodies.items():
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
        return [(k, r) for k, r, _ in self.conn.execute(sql, (*params, limit)).fetchall()]

    def _hydrate(self, kind: str, ref: int) -> dict | None:
        if kind == "task":
            row = self.conn.execute(f"SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?", (ref,)).fetchone()
            return row and {"kind": "task", **task_dict(row)}
        if kind == "insight":
            row = self.conn.execute(f"SELECT {INSIGHT_COLUMNS} FROM insights WHERE id = ?", (ref,)).fetchone()
            return row and {"kind": "insight", **insight_dict(row)}
        row = self.conn.execute(f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (ref,)).fetchone()
        return row and {"kind": "message", **message_dict(row)}

    def counts(self) -> dict:
        return {
            table: self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("tasks", "insights", "collaborations", "messages", "agent_state")
        }


TASK_COLUMNS = "id, uid, agent, created, description, outcome, data"
INSIGHT_COLUMNS = "id, uid, agent, created, area, insight, impact, confidence, data"
MESSAGE_COLUMNS = "id, uid, sender, created, type, content, metadata, broadcast"
# Messages `m` for one agent: live, not its own, to all or to it, not read by it (params: since, agent x3).
_UNREAD_WHERE = (
    "m.created >= ? AND m.sender != ? "
    "AND (m.broadcast = 1 OR EXISTS (SELECT 1 FROM message_targets t WHERE t.agent = ? AND t.message_id = m.id)) "
    "AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.agent = ? AND r.message_id = m.id)"
)


def task_row(agent: str, task: object, *, uid: str | None = None, created: float | None = None) -> tuple:
    """Validated, redacted values for one tasks row (raises PerfpackError naming the problem)."""
    check_agent(agent)
    if not isinstance(task, dict):
        raise PerfpackError("a task must be a JSON object with task_description and outcome")
    task = dict(task)
    description = task.pop("task_description", None)
    if description is None:
        description = task.pop("description", None)
    if not isinstance(description, str) or not description.strip():
        raise PerfpackError("task_description must be a non-empty string")
    outcome = task.pop("outcome", None)
    if outcome not in OUTCOMES:
        raise PerfpackError(f"task outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    for key in ("id", "uid", "agent", "created_at", "kind"):
        task.pop(key, None)
    for key in ("key_insights", "delegations"):
        if key in task and not isinstance(task[key], list):
            raise PerfpackError(f"task {key} must be a list")
    for item in task.get("delegations", []):
        if not isinstance(item, dict):
            raise PerfpackError("each delegation must be an object like {to_agent, reason, outcome}")
        if "to_agent" in item:
            check_agent(item["to_agent"], what="delegation to_agent")
    description = str(redact(description))
    data = _dumps(redact(task))
    check_size(description + data, MAX_RECORD_BYTES, "task record")
    return (uid or os.urandom(16).hex(), agent, created or time.time(), description, outcome, data)


def insight_row(
    agent: str, insight: object, *, uid: str | None = None, created: float | None = None
) -> tuple:
    check_agent(agent)
    if not isinstance(insight, dict):
        raise PerfpackError("an insight must be a JSON object with insight, impact and confidence")
    insight = dict(insight)
    text = insight.pop("insight", None)
    if not isinstance(text, str) or not text.strip():
        raise PerfpackError("insight must be a non-empty string")
    area = insight.pop("area", "general")
    if not isinstance(area, str) or not area.strip() or len(area) > 100:
        raise PerfpackError("insight area must be a non-empty string of at most 100 characters")
    impact = insight.pop("impact", None)
    if impact not in IMPACTS:
        raise PerfpackError(f"insight impact must be one of {', '.join(IMPACTS)}, not {impact!r}")
    confidence = insight.pop("confidence", 0.5)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise PerfpackError(f"insight confidence must be a number from 0 to 1, not {confidence!r}")
    for key in ("id", "uid", "agent", "created_at", "kind"):
        insight.pop(key, None)
    text, area = str(redact(text)), str(redact(area))
    data = _dumps(redact(insight))
    check_size(text + area + data, MAX_RECORD_BYTES, "insight record")
    return (
        uid or os.urandom(16).hex(),
        agent,
        created or time.time(),
        area,
        text,
        impact,
        float(confidence),
        data,
    )


def task_dict(row: tuple) -> dict:
    rid, uid, agent, created, description, outcome, data = row
    return {
        "id": rid,
        "uid": uid,
        "agent": agent,
        "created_at": iso(created),
        "task_description": description,
        "outcome": outcome,
        **fastjson.loads(data),
    }


def insight_dict(row: tuple) -> dict:
    rid, uid, agent, created, area, text, impact, confidence, data = row
    return {
        "id": rid,
        "uid": uid,
        "agent": agent,
        "created_at": iso(created),
        "area": area,
        "insight": text,
        "impact": impact,
        "confidence": confidence,
        **fastjson.loads(data),
    }


def message_dict(row: tuple) -> dict:
    rid, uid, sender, created, mtype, content, metadata, broadcast = row
    return {
        "id": rid,
        "uid": uid,
        "from_agent": sender,
        "created_at": iso(created),
        "type": mtype,
        "content": content,
        "metadata": fastjson.loads(metadata),
        "broadcast": bool(broadcast),
    }


def _split(script: str) -> list[str]:
    """Statements of a schema script (triggers keep their inner semicolons)."""
    out, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and (not text.upper().startswith("CREATE TRIGGER") or text.endswith("END;")):
            out.append(text)
            current = []
    return out


def _clean(path: str) -> str:
    """The path as str(Path(path)) spells it: no doubled or trailing slashes, no "." parts."""
    if not path:
        return "."
    lead = "//" if path.startswith("//") and not path.startswith("///") else ("/" if path.startswith("/") else "")
    parts = [part for part in path.split("/") if part and part != "."]
    return lead + "/".join(parts) if parts else (lead or ".")


def _check_file(path: str, create: bool) -> None:
    """Refuse, before SQLite touches it, anything at `path` that is not a SQLite file."""
    if os.path.isdir(path):
        raise PerfpackError(f"{path}: is a folder, not a memory database")
    try:
        with open(path, "rb") as handle:
            header = handle.read(16)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise PerfpackError(f"{path}: cannot read the memory database: {exc}") from None
    if header and header != b"SQLite format 3\x00":
        raise PerfpackError(
            f"{path}: not a SQLite database (corrupt or a foreign file)",
            hint="perfpack never overwrites it; move it away to start a new memory",
        )
