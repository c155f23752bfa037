"""SQLite: plans (EXPLAIN QUERY PLAN), row counts, what-if indexes, and measured indexes on a copy.

The user's file is only ever opened read-only (`mode=ro`, or `immutable=1` for a WAL database with no
WAL file, which `mode=ro` would create). What-if indexes live in an in-memory database holding the
same schema (and statistics, when the file has them); measured indexes are built on a private copy.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
import time
from urllib.parse import quote

from perfpack.errors import PerfpackError
from perfpack.explain.core import RunTimeout, Timing, measure
from perfpack.explain.model import Plan, Scan, quote_ident
from perfpack.explain.sqlinfo import Candidate

_HEADER = b"SQLite format 3\x00"
_PLAN = re.compile(r"^(SCAN|SEARCH) (?:TABLE )?(\S+)(?: AS (\S+))?(?: USING (.*))?$")
_INDEX = re.compile(r"(?:COVERING )?INDEX (\S+)")
COUNT_TIME_LIMIT = 2.0  # seconds for one count(*); past it the count is estimated from max(rowid)
# --try-indexes copies a database up to this size into memory (when the machine has 4x that free): index
# builds there take about a quarter less time than in a file copy, and nothing is written to disk
MEMORY_COPY_MAX = 512 * 1024 * 1024


def _terminal(text: object) -> str:
    from perfpack.terminal import one_line

    return one_line(text, limit=300)


class SQLiteTarget:
    engine = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self.display = path
        st = _stat_database(path)
        self.size = st.st_size
        self.conn = _open_readonly(self.path)
        self._counts: dict[str, int | None] = {}
        self._columns: dict[str, list[tuple[str, str, int]]] = {}
        self._whatif: sqlite3.Connection | None = None
        self.has_stats = bool(
            self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
        )

    def close(self) -> None:
        if self._whatif is not None:
            self._whatif.close()
        self.conn.close()

    # -- reading ----------------------------------------------------------------------------------
    def plan(self, sql: str, conn: sqlite3.Connection | None = None) -> Plan:
        conn = conn or self.conn
        try:
            rows = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        except sqlite3.ProgrammingError as err:  # e.g. "You can only execute one statement at a time."
            raise PerfpackError(f"cannot explain this statement: {_terminal(err)}") from err
        except sqlite3.Error as err:
            raise PerfpackError(f"SQLite rejected the statement: {_terminal(err)}") from err
        return parse_plan(rows)

    def tables(self) -> set[str]:
        return {
            r[0].lower() for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }

    def _table_info(self, table: str) -> list[tuple[str, str, int]]:
        key = table.lower()
        if key not in self._columns:
            schema, name = _split(table)
            try:
                rows = self.conn.execute(
                    f"PRAGMA {quote_ident(schema)}.table_info({_literal(name)})"
                ).fetchall()
            except sqlite3.Error:
                rows = []
            self._columns[key] = [(r[1], (r[2] or "").upper(), r[5]) for r in rows]
        return self._columns[key]

    def columns(self, table: str) -> set[str]:
        return {c[0] for c in self._table_info(table)}

    def is_table(self, name: str) -> bool:
        return bool(self._table_info(name))

    def rowid_column(self, table: str) -> str | None:
        """The INTEGER PRIMARY KEY column (an alias of rowid, searchable already), if any."""
        keys = [c for c in self._table_info(table) if c[2]]
        if len(keys) == 1 and keys[0][1] == "INTEGER":
            return keys[0][0]
        return None

    def row_count(self, table: str) -> int | None:
        key = table.lower()
        if key not in self._counts:
            self._counts[key] = self._count(table)
        return self._counts[key]

    def _count(self, table: str) -> int | None:
        schema, name = _split(table)
        ref = f"{quote_ident(schema)}.{quote_ident(name)}"
        deadline = time.monotonic() + COUNT_TIME_LIMIT
        self.conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            return int(self.conn.execute(f"SELECT count(*) FROM {ref}").fetchone()[0])
        except sqlite3.Error:
            try:
                value = self.conn.execute(f"SELECT max(rowid) FROM {ref}").fetchone()[0]
                return int(value) if value is not None else None
            except sqlite3.Error:
                return None
        finally:
            self.conn.set_progress_handler(None, 0)

    def share(self, table: str, alias: str, conditions: list[str]) -> float | None:
        """The fraction of the table's rows that satisfy `conditions` (None when unknown or too slow)."""
        rows = self.row_count(table)
        if not conditions or not rows:
            return None
        schema, name = _split(table)
        sql = (
            f"SELECT count(*) FROM {quote_ident(schema)}.{quote_ident(name)} AS {quote_ident(alias)} WHERE "
            + " AND ".join(f"({c})" for c in conditions)
        )
        deadline = time.monotonic() + COUNT_TIME_LIMIT
        self.conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            return int(self.conn.execute(sql).fetchone()[0]) / rows
        except sqlite3.Error:
            return None
        finally:
            self.conn.set_progress_handler(None, 0)

    def existing_indexes(self, table: str) -> list[tuple[str, ...]]:
        """Column lists (lower case) of the table's indexes, primary key included."""
        schema, name = _split(table)
        out: list[tuple[str, ...]] = []
        rowid = self.rowid_column(table)
        if rowid:
            out.append((rowid.lower(),))
        try:
            for row in self.conn.execute(
                f"PRAGMA {quote_ident(schema)}.index_list({_literal(name)})"
            ).fetchall():
                cols = self.conn.execute(
                    f"PRAGMA {quote_ident(schema)}.index_info({_literal(row[1])})"
                ).fetchall()
                if all(c[2] for c in cols):
                    out.append(tuple(c[2].lower() for c in cols))
        except sqlite3.Error:
            pass
        return out

    def index_names(self) -> set[str]:
        return {
            r[0].lower() for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }

    # -- what-if ----------------------------------------------------------------------------------
    def whatif(self, sql: str, candidates: list[Candidate]) -> tuple[Plan, dict[str, Candidate]] | None:
        """The plan with every candidate index present (in an empty copy of the schema), and the
        candidates it uses, by index name. None when the schema cannot be rebuilt for this statement."""
        conn = self._whatif_db()
        names: dict[str, Candidate] = {}
        try:
            for n, cand in enumerate(candidates):
                name = f"perfpack_whatif_{n}"
                try:
                    conn.execute(ddl(cand, name))
                except sqlite3.Error:
                    continue
                names[name] = cand
            try:
                plan = self.plan(sql, conn)
            except PerfpackError:
                return None
            return plan, {n: c for n, c in names.items() if n in plan.indexes}
        finally:
            for name in names:
                conn.execute(f"DROP INDEX IF EXISTS {name}")

    def _whatif_db(self) -> sqlite3.Connection:
        if self._whatif is not None:
            return self._whatif
        mem = sqlite3.connect(":memory:", isolation_level=None)
        rows = self.conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END"
        ).fetchall()
        for kind, _name, text in rows:
            if kind == "trigger":
                continue
            try:
                mem.execute(text)
            except sqlite3.Error:
                pass  # a virtual table's module or its shadow tables: the rest still plans
        if self.has_stats:
            try:
                mem.execute("ANALYZE")
                mem.execute("DELETE FROM sqlite_stat1")
                for row in self.conn.execute("SELECT tbl, idx, stat FROM sqlite_stat1"):
                    mem.execute("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", row)
                mem.execute("ANALYZE sqlite_schema")
            except sqlite3.Error:
                pass
        self._whatif = mem
        return mem

    # -- measuring on a copy ----------------------------------------------------------------------
    def sandbox(self) -> SQLiteSandbox:
        return SQLiteSandbox(self)


class SQLiteSandbox:
    """A private copy of the database (SQLite's backup API: consistent even with a WAL): in memory when
    it is small enough, otherwise a file in $TMPDIR."""

    def __init__(self, target: SQLiteTarget, *, room: int = 4) -> None:
        self.target = target
        self.folder: str | None = None
        if target.size <= MEMORY_COPY_MAX and target.size * room <= _available_memory():
            # usable from the thread that builds the indexes (one thread at a time)
            self.conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        else:
            folder = tempfile.mkdtemp(prefix="perfpack-explain-")
            self.folder = folder
            free = shutil.disk_usage(folder).free
            if free < target.size * 2 + 16 * 1024 * 1024:
                shutil.rmtree(folder, ignore_errors=True)
                raise PerfpackError(
                    f"--try-indexes needs a copy of the database ({target.size // 2**20} MiB) and "
                    f"{folder} has {free // 2**20} MiB free",
                    hint="set TMPDIR to a larger disk",
                )
            self.conn = sqlite3.connect(os.path.join(folder, "copy.db"), isolation_level=None)
        target.conn.backup(self.conn)
        # a throw-away copy: no journal, no syncs; the whole file in the page cache so timed runs read
        # memory, not the OS; the index builds sort in memory on both cores
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute(f"PRAGMA cache_size = -{min(max(target.size // 1024 * 2, 8192), 1024 * 1024)}")
        self.conn.execute("PRAGMA temp_store = MEMORY")
        self.conn.execute("PRAGMA threads = 2")
        self.engine = "sqlite"

    def twin(self) -> SQLiteSandbox | None:
        """A second copy in memory, to time the statements on (without the indexes) while the indexes are
        built on this one, on another core; None for a copy on disk (a large database: a second copy
        would cost more than it saves) or when memory is short."""
        if self.folder is not None:
            return None
        twin = SQLiteSandbox(self.target, room=8)
        if twin.folder is not None:
            twin.close()
            return None
        return twin

    def interrupt(self) -> None:
        """Stop what runs on this copy now (from another thread): an index build being abandoned."""
        self.conn.interrupt()

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)

    def measure(self, sql: str, budget: float, cap: float) -> Timing:
        conn = self.conn
        deadline = [0.0]
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline[0]), 20_000)

        def run() -> None:
            deadline[0] = time.monotonic() + cap
            try:
                conn.execute(sql).fetchall()
            except sqlite3.OperationalError as err:
                if "interrupted" in str(err):
                    raise RunTimeout() from None
                raise

        try:
            return measure(run, budget, cap)
        finally:
            conn.set_progress_handler(None, 0)

    def create(self, statements: list[str]) -> None:
        for text in statements:
            self.conn.execute(text)
        if self.target.has_stats:
            self.conn.execute("ANALYZE")

    def plan(self, sql: str) -> Plan:
        return self.target.plan(sql, self.conn)


def _available_memory() -> int:
    """Bytes of memory the machine can give without swapping (MemAvailable); 0 when unknown."""
    try:
        with open("/proc/meminfo", "rb") as handle:
            for line in handle:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def parse_plan(rows: list[tuple[int, int, int, str]]) -> Plan:
    depth: dict[int, int] = {0: -1}
    lines: list[str] = []
    scans: list[Scan] = []
    indexes: set[str] = set()
    sorts = 0
    for node, parent, _unused, detail in rows:
        level = depth.get(parent, -1) + 1
        depth[node] = level
        lines.append("  " * level + detail)
        if detail.startswith("USE TEMP B-TREE FOR") and "ORDER BY" in detail:
            sorts += 1
        match = _PLAN.match(detail)
        if not match:
            continue
        op, name, alias, using = match.groups()
        name = alias or name
        index = _INDEX.search(using or "")
        automatic = "AUTOMATIC" in (using or "")
        if index and not automatic:
            indexes.add(index.group(1).lower())
        if op == "SCAN":
            if name.startswith("(") or name == "CONSTANT":
                continue
            if not using:
                scans.append(Scan(alias=name, how="scan"))
            elif "COVERING INDEX" in using:
                scans.append(Scan(alias=name, how="covering index"))
            elif "INDEX" in using:
                scans.append(Scan(alias=name, how="index order"))
        elif automatic:
            scans.append(Scan(alias=name, how="automatic index"))
        elif not using and not name.startswith("("):
            scans.append(Scan(alias=name, how="scan"))  # 3.40 prints a bare "SEARCH t" for min()/max() reads
    return Plan(lines=lines, scans=scans, indexes=indexes, sorts=sorts)


def ddl(cand: Candidate, name: str) -> str:
    schema, table = _split(cand.table)
    cols = ", ".join(c.sql(quote_ident) for c in cand.columns)
    prefix = f"{quote_ident(schema)}." if schema != "main" else ""
    return f"CREATE INDEX {prefix}{quote_ident(name)} ON {quote_ident(table)} ({cols})"


def _split(table: str) -> tuple[str, str]:
    schema, dot, name = table.rpartition(".")
    return (schema or "main", name) if dot else ("main", table)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _stat_database(path: str) -> os.stat_result:
    import stat

    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise PerfpackError(
            f"database not found: {_terminal(path)} (give a SQLite file or a postgresql:// URL)") from None
    except OSError as err:
        raise PerfpackError(f"cannot read the database {_terminal(path)}: {err.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise PerfpackError(f"the database {_terminal(path)} is a folder, not a SQLite file")
    if not stat.S_ISREG(st.st_mode):
        raise PerfpackError(f"the database {_terminal(path)} is not a regular file (a FIFO or device?)")
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as err:
        raise PerfpackError(f"cannot read the database {_terminal(path)}: {err.strerror}") from None
    if st.st_size and header[:16] != _HEADER:
        raise PerfpackError(f"{_terminal(path)} is not a SQLite database")
    return st


def _open_readonly(path: str) -> sqlite3.Connection:
    with open(path, "rb") as handle:
        header = handle.read(100)
    wal = len(header) >= 20 and header[18] == 2
    uri = "file:" + quote(path) + "?mode=ro"
    if wal and not os.path.exists(path + "-wal"):
        # mode=ro on a WAL database would leave new -wal and -shm files beside the user's file
        uri += "&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA query_only = 1")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as err:
        raise PerfpackError(f"cannot open the database {_terminal(path)}: {_terminal(err)}") from None
    return conn
