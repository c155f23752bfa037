"""SQLite storage for agent memory: one WAL database shared safely by many agent processes.

Every write is one short `BEGIN IMMEDIATE` transaction; counters are updated in SQL, never read-modify-write.
A file that is not perfpack's memory database is reported and never written to.

Safety rules (issue 14; the evidence is in docs/memory.md):
- the database file is never opened or closed by Python itself (closing any descriptor of it drops the
  POSIX locks SQLite holds on it in this process: that lost acknowledged writes and corrupted indexes);
- every perfpack write holds the gate (`memory.db-lock`, flock) exclusively from BEGIN to the end of COMMIT,
  and checkpoints run only under it: SQLite's own automatic checkpoint (PASSIVE, once the WAL holds
  AUTOCHECKPOINT_PAGES frames) runs inside the COMMIT that crosses the mark, so by a writer holding the gate,
  and an explicit one takes the gate. No checkpoint ever races a writer that resets the WAL (SQLite's
  WAL-reset bug, fixed only in 3.51.3);
- writers queue on the gate in the kernel, which hands it to the next one the moment it is released;
  SQLite's busy handler would poll its write lock with sleeps of 1, 2, 5, 10 ... 100 ms instead, and
  checkpoints no longer truncate the WAL on every pass (docs/memory.md, "Write throughput");
- the search index is written beside the record in a savepoint: if it fails, the record is kept, the
  index is marked stale and searches use the plain scan until `memory check --repair` rebuilds it.
"""

from __future__ import annotations

import os
import time

try:  # the C module itself: `import sqlite3` adds datetime and adapter set-up (~2 ms) this path never uses
    import _sqlite3 as sqlite3
except ImportError:  # pragma: no cover - other Python builds
    import sqlite3  # type: ignore[no-redef]

from perfpack.errors import PerfpackError
from perfpack.memory.records import (
    INSIGHT_COLUMNS,
)
from perfpack.memory.schema import (
    APPLICATION_ID,
    FTS_TABLE,
    INSIGHT_ORDER,
    MIGRATIONS,
    SCHEMA_VERSION,
    SEARCH_BODIES,
)

# pathlib costs ~5 ms (urllib.parse, ipaddress) per memory write: paths are os.path strings inside;
# the public functions still return Path, importing it only when called.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Self, TypeVar

    T = TypeVar("T")

# How long a write waits for another process's transaction before saying the database is locked.
_BUSY_ENV = os.environ.get("PERFPACK_MEMORY_BUSY_TIMEOUT_MS", "")
BUSY_TIMEOUT_MS = int(_BUSY_ENV) if _BUSY_ENV.isdigit() and 0 < len(_BUSY_ENV) < 8 else 30_000
CHECKPOINT_BUSY_MS = 1_000  # a checkpoint waits at most this long for readers; a later write retries
WAL_LIMIT = 4 * 1024 * 1024  # WAL bytes after which a commit checkpoints it (SQLite's automatic checkpoint)
AUTOCHECKPOINT_PAGES = WAL_LIMIT // 4096
# After a checkpoint the next writer reuses the WAL from its start (no truncation, no new blocks); a WAL
# grown by one huge transaction is cut back to this size when it is reused.
WAL_SIZE_LIMIT = 2 * WAL_LIMIT
# A `perfpack memory` process leaves its WAL to the next one, which recovers (reads) all of it: kept smaller.
WAL_LEFT_LIMIT = 512 * 1024
MESSAGE_RETENTION_DAYS = 30
SQLITE_VERSION = sqlite3.sqlite_version

# SQLite's primary result codes (sqlite3.h) used to tell the failures apart.
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26


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


def database_error(path: str, exc: BaseException, *, writing: bool = True) -> PerfpackError:
    """One honest line for a failure of the database at `path`: full disk, read-only, locked and damaged
    are told apart (only a damaged file is called damaged)."""
    import errno as errnos

    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    err = getattr(exc, "errno", None)
    folder = os.path.dirname(path) or "."
    done = "; nothing was written" if writing else ""
    full = err in (errnos.ENOSPC, errnos.EDQUOT) or (primary == _IOERR and _disk_full(folder))
    if primary == _FULL or full:
        return PerfpackError(
            f"{path}: the disk is full{done} (the memory database is intact)",
            hint="free some space, then run the command again",
        )
    if primary == _READONLY or err == errnos.EROFS or (primary in (_IOERR, _CANTOPEN) and _read_only(folder)):
        return PerfpackError(
            f"{path}: the memory database is on a read-only file system or not writable{done}",
            hint="check the mount and the permissions of the file and its folder; the database is unchanged",
        )
    if primary in (_BUSY, _LOCKED):
        return PerfpackError(
            f"{path}: the memory database is locked by another process (waited {BUSY_TIMEOUT_MS / 1000:g} s)"
            f"{done}",
            hint="a long transaction holds it (another perfpack or sqlite3 process); retry when it ends",
        )
    if err in (errnos.EACCES, errnos.EPERM) or primary == 3:  # SQLITE_PERM
        return PerfpackError(f"{path}: permission denied{done}",
                             hint="check the permissions of the file and its folder")
    if primary == _NOTADB:
        return PerfpackError(
            f"{path}: not a SQLite database (a foreign file, or its header is destroyed)",
            hint="perfpack never overwrites it; point --db / PERFPACK_MEMORY_DB elsewhere",
        )
    if primary == _CORRUPT or "malformed" in str(exc):
        return PerfpackError(
            f"{path}: the memory database is damaged ({exc}){done}",
            hint="run `perfpack memory check --repair` (it keeps a backup and says what was lost)",
        )
    if primary == _CANTOPEN:
        return PerfpackError(f"{path}: cannot open the memory database{done}",
                             hint="check that its folder exists and is writable")
    reason = getattr(exc, "strerror", None) or str(exc)
    return PerfpackError(f"{path}: the memory database cannot be used ({reason}){done}")


def _disk_full(folder: str) -> bool:
    try:
        info = os.statvfs(folder)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < 64 * 1024


def _read_only(folder: str) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY) or not os.access(folder, os.W_OK)
    except OSError:
        return False


class Database:
    """An open memory database: opening and migrating, closing, the gate, transactions, the search index.

    Use it as MemoryStore (perfpack.memory.store), which adds the reads and writes.
    """

    # Connections kept, not closed, until the process ends (leave_open_at_exit); None = close normally.
    _left_open: list | None = None

    @classmethod
    def leave_open_at_exit(cls) -> None:
        """From now on close() leaves connections open for the process's end (which must be os._exit).

        For `perfpack memory`, run once per agent action. Closing the last connection to a WAL database
        checkpoints the WAL into it and deletes it: two fsyncs and an unlink, ~4 ms or 15% of a bare
        interpreter start. Left open, the WAL keeps the committed transactions and the next process
        recovers it exactly as after a crash (SQLite's design; tests/memory kill writers with SIGKILL and
        count every committed record). Recovery reads the whole WAL, so close() checkpoints and truncates it
        (under the gate) once it is over WAL_LEFT_LIMIT bytes.
        """
        if Database._left_open is None:  # on Database: close() reads it there, whatever the subclass
            Database._left_open = []

    def __init__(self, path: Path | str, conn: sqlite3.Connection) -> None:
        self.file = os.fspath(path)  # the database file as a string (no pathlib on the write path)
        self.conn: sqlite3.Connection | None = conn
        self._fts: bool | None = None
        self._gate: int | None = None  # descriptor of FILE-lock (see _gate_fd), -1 when unavailable

    @property
    def path(self) -> Path:
        from pathlib import Path

        return Path(self.file)

    @property
    def c(self) -> sqlite3.Connection:
        if self.conn is None:
            raise PerfpackError(f"{self.file}: the memory store is closed")
        return self.conn

    # -- opening and schema -------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str, *, create: bool = True) -> Self | None:
        """Open (creating or migrating if needed) the database at `path`; None if absent and not `create`."""
        path = os.fspath(path)
        if isinstance(path, bytes):
            raise TypeError(f"expected str or os.PathLike[str], not bytes: {path!r}")
        path = clean(path)
        _check_file(path)
        if not os.path.exists(path):
            if not create:
                return None
            folder = os.path.dirname(path) or "."
            try:
                os.makedirs(folder, exist_ok=True)
            except OSError as exc:
                raise database_error(path, exc) from None
        try:
            conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise database_error(path, exc) from None
        store = cls(path, conn)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # the automatic checkpoint runs in a COMMIT, and every perfpack COMMIT holds the gate
            conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
            conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
            store._prepare(create)
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across process crashes, fast commits
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            store._close_now()
            raise database_error(path, exc, writing=create) from None
        except BaseException:
            store._close_now()
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
            if version < SCHEMA_VERSION:
                return  # read as it is: reads work on every older schema (see _old_schema)
        if version == 0:
            # WAL is persistent in the file; it cannot be switched inside a transaction.
            self._switch_to_wal()
        with self._gated():
            self.c.execute("BEGIN IMMEDIATE")
            try:
                app_id, version, objects = self._ids()  # another process may have created or migrated it
                self._check_ours(app_id, version, objects)
                with_fts = fts5_available() if version == 0 else self.has_fts
                while version < SCHEMA_VERSION:
                    MIGRATIONS[version](self.c, with_fts)
                    version += 1
                self.c.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                self.c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self.c.execute("COMMIT")
            except BaseException:
                if self.c.in_transaction:
                    self.c.execute("ROLLBACK")
                raise
        self._fts = None

    def _switch_to_wal(self) -> None:
        # The switch needs the file to itself, and SQLite answers "locked" at once (no busy handler)
        # while other processes opening the new file hold it: retry within the busy timeout.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self.c.execute("PRAGMA journal_mode = WAL")
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
        row = self.c.execute(
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

    @property
    def schema_version(self) -> int:
        return int(self.c.execute("PRAGMA user_version").fetchone()[0])

    def _old_schema(self) -> bool:
        """A database still at schema 1, read without migrating (create=False on a read)."""
        return self.schema_version < 2

    def _insight_columns(self) -> str:
        return INSIGHT_COLUMNS if not self._old_schema() else INSIGHT_COLUMNS.replace(
            ", count, last_seen", ", 1, created"
        )

    def _insight_order(self) -> str:
        return INSIGHT_ORDER if not self._old_schema() else INSIGHT_ORDER.replace("last_seen", "created")

    # -- closing ------------------------------------------------------------------------------------------
    def close(self) -> None:
        if self.conn is None:
            return
        if Database._left_open is not None and not self.conn.in_transaction:
            self.checkpoint_if_large(WAL_LEFT_LIMIT)
            Database._left_open.append(self.conn)  # referenced, so never closed by garbage collection
            self.conn = None
            return
        self._close_now()

    def _close_now(self) -> None:
        # Explicitly: a sqlite3.Connection sits in a reference cycle with its statement cache, so a
        # dropped one would stay open until the cyclic garbage collector runs.
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.close()
        if self._gate is not None and self._gate >= 0:
            os.close(self._gate)  # the gate file, never the database file
        self._gate = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # a finaliser must not raise
            pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the gate: one perfpack writer or checkpoint at a time ------------------------------------------
    def _gate_fd(self) -> int:
        if self._gate is None:
            try:
                self._gate = os.open(
                    self.file + "-lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644
                )
            except OSError:
                self._gate = -1  # e.g. a read-only folder: nothing can be written there anyway
        return self._gate

    def _gated(self, wait: bool = True) -> _Gate:
        return _Gate(self._gate_fd(), wait)

    def checkpoint_if_large(self, limit: int = WAL_LIMIT) -> None:
        try:
            large = os.stat(self.file + "-wal").st_size > limit
        except OSError:
            large = False
        if large:
            self.checkpoint()

    def checkpoint(self, *, wait: bool = False) -> bool:
        """Copy the WAL into the database and truncate it, holding the gate, so no perfpack writer is
        inside a transaction meanwhile. False if a writer holds the gate (a later write checkpoints)."""
        gate = self._gated(wait=wait)
        if not gate.acquire() or not gate.held:  # not held: no gate file, the checkpoint is left to others
            return False
        try:
            self.c.execute(f"PRAGMA busy_timeout = {CHECKPOINT_BUSY_MS}")
            try:
                busy = self.c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                self.c.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            return not busy
        except sqlite3.Error:
            return False  # a reader held on; nothing is lost, a later checkpoint copies it
        finally:
            gate.release()

    @property
    def has_fts(self) -> bool:
        if self._fts is None:
            row = self.c.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_index'").fetchone()
            self._fts = row is not None
        return self._fts

    def transaction(self, body: Callable[[sqlite3.Connection], T]) -> T:
        """Run body(conn) in one BEGIN IMMEDIATE transaction, holding the gate: the only way this module
        writes. The COMMIT that takes the WAL past AUTOCHECKPOINT_PAGES also checkpoints it (PASSIVE), still
        under the gate."""
        conn = self.c
        try:
            with self._gated() as gate:
                waited_ms = gate.waited_ms
                if waited_ms > 1000:  # queued behind other writers: the busy timeout counts from the start
                    conn.execute(f"PRAGMA busy_timeout = {max(BUSY_TIMEOUT_MS - waited_ms, 1)}")
                try:
                    conn.execute("BEGIN IMMEDIATE")
                finally:
                    if waited_ms > 1000:
                        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                try:
                    result = body(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise database_error(self.file, exc) from None
        except OSError as exc:
            raise database_error(self.file, exc) from None
        return result

    # -- the search index ---------------------------------------------------------------------------------
    def _index(self, c: sqlite3.Connection, kind: str, ref: int) -> None:
        """Add record `ref` of `kind` to the search index; a failure marks the index stale, never fails
        the write."""
        if not self.has_fts:
            return
        table, who, body = SEARCH_BODIES[kind]
        c.execute("SAVEPOINT search_index")
        try:
            c.execute(
                f"INSERT INTO search_index (body, kind, ref, agent) SELECT {body}, ?, id, {who} "
                f"FROM {table} WHERE id = ?",
                (kind, ref),
            )
        except sqlite3.DatabaseError:
            c.execute("ROLLBACK TO search_index")
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('search_index', 'stale')")
        c.execute("RELEASE search_index")

    def _unindex(self, c: sqlite3.Connection, kind: str, refs: list[int]) -> None:
        if not self.has_fts or not refs:
            return
        c.execute("SAVEPOINT search_index")
        try:
            c.executemany("DELETE FROM search_index WHERE kind = ? AND ref = ?", [(kind, r) for r in refs])
        except sqlite3.DatabaseError:
            c.execute("ROLLBACK TO search_index")
            c.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('search_index', 'stale')")
        c.execute("RELEASE search_index")

    def search_index_usable(self) -> bool:
        if not self.has_fts or os.environ.get("PERFPACK_MEMORY_NO_FTS") == "1":
            return False
        try:
            row = self.c.execute("SELECT value FROM meta WHERE key = 'search_index'").fetchone()
        except sqlite3.OperationalError:  # an older schema without meta (read without migrating)
            return True
        return row is None

    def rebuild_search_index(self, c: sqlite3.Connection) -> int:
        """Drop and refill the search index from the records (inside the caller's transaction)."""
        c.execute("SAVEPOINT drop_search_index")
        try:
            c.execute("DROP TABLE IF EXISTS search_index")
        except sqlite3.DatabaseError:
            # A damaged FTS5 table cannot even be dropped (its constructor fails): take it out of the
            # schema by hand, then drop its shadow tables, which are plain tables.
            c.execute("ROLLBACK TO drop_search_index")
            version = c.execute("PRAGMA schema_version").fetchone()[0]
            c.execute("PRAGMA writable_schema = ON")
            c.execute("DELETE FROM sqlite_master WHERE type = 'table' AND name = 'search_index'")
            c.execute(f"PRAGMA schema_version = {int(version) + 1}")
            c.execute("PRAGMA writable_schema = OFF")
            for part in ("data", "idx", "content", "docsize", "config"):
                c.execute(f"DROP TABLE IF EXISTS search_index_{part}")
        c.execute("RELEASE drop_search_index")
        c.execute(FTS_TABLE)
        for kind, (table, who, body) in SEARCH_BODIES.items():
            c.execute(
                f"INSERT INTO search_index (body, kind, ref, agent) SELECT {body}, ?, id, {who} FROM {table}",
                (kind,),
            )
        c.execute("DELETE FROM meta WHERE key = 'search_index'")
        self._fts = True
        return int(c.execute("SELECT count(*) FROM search_index").fetchone()[0])


class _Gate:
    """flock(2) LOCK_EX on FILE-lock: held by every perfpack write transaction and every checkpoint.

    flock, not fcntl locks: an flock belongs to the open file description, so closing some other
    descriptor never releases it, and it never interferes with SQLite's own fcntl locks. Waiters sleep in
    the kernel and the next one runs as soon as the holder lets go (a killed holder's lock goes with it).
    """

    def __init__(self, fd: int, wait: bool) -> None:
        self.fd, self.wait, self.held = fd, wait, False
        self.waited_ms = 0

    def acquire(self) -> bool:
        if self.fd < 0:
            return True  # no gate file (a read-only folder): writes go on unheld; checkpoints check `held`
        import fcntl

        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not self.wait:
                return False
            start = time.monotonic()
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            self.waited_ms = int((time.monotonic() - start) * 1000)
        self.held = True
        return True

    def release(self) -> None:
        if self.held:
            import fcntl

            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.held = False

    def __enter__(self) -> _Gate:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def clean(path: str) -> str:
    """The path as str(Path(path)) spells it: no doubled or trailing slashes, no "." parts."""
    if not path:
        return "."
    lead = "/" if path.startswith("/") else ""
    if path.startswith("//") and not path.startswith("///"):
        lead = "//"
    parts = [part for part in path.split("/") if part and part != "."]
    return lead + "/".join(parts) if parts else (lead or ".")


def _check_file(path: str) -> None:
    """Refuse, before SQLite touches it, anything at `path` that is not a regular file.

    Only stat, never open(): closing any descriptor of the database file drops every POSIX lock this
    process holds on it, including those of SQLite connections already open here. That let another
    process delete the WAL under a live connection (acknowledged writes lost, indexes corrupted: the
    root cause of issue 14, docs/memory.md). A foreign file's content is recognised by SQLite itself.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise database_error(path, exc, writing=False) from None
    import stat

    if stat.S_ISDIR(info.st_mode):
        raise PerfpackError(f"{path}: is a folder, not a memory database")
    if not stat.S_ISREG(info.st_mode):
        raise PerfpackError(f"{path}: not a regular file (a FIFO, device or socket), not a memory database")
