"""PostgreSQL: plans (EXPLAIN, JSON), row counts, hypothetical indexes (hypopg), measured indexes.

Every session perfpack opens is read-only (default_transaction_read_only) except the one that measures
indexes, which only ever works inside a transaction it rolls back. hypopg's indexes exist in one
backend's memory; when the extension is not installed in the database and the user may create it, it
is created inside a transaction that is rolled back too, so the catalog is left as it was.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any

from perfpack.errors import PerfpackError
from perfpack.explain.model import Plan, Scan, quote_ident
from perfpack.explain.sqlinfo import Candidate
from perfpack.terminal import one_line

if TYPE_CHECKING:
    from perfpack.explain.core import Timing

STATEMENT_TIMEOUT_MS = 60_000
LOCK_TIMEOUT_MS = 2_000
_SCAN_NODES = ("Seq Scan", "Parallel Seq Scan")
_HYPO_NAME = re.compile(r"<(\d+)>")
_PREPARED = itertools.count(1)
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


def redact(url: str) -> str:
    """The URL without its password (user:password@, ?password=..., sslpassword=...): perfpack.redact."""
    from perfpack.redact import redact_text

    return redact_text(url)


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise PerfpackError(
            "PostgreSQL targets need the psycopg package", hint="pip install 'psycopg[binary]'"
        ) from None
    return psycopg


def _one_line_error(err: BaseException) -> str:
    text = str(err).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return one_line(lines[0] if lines else type(err).__name__, limit=300)


class PostgresTarget:
    engine = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.display = redact(url)
        psycopg = _psycopg()
        self.psycopg = psycopg
        try:
            self.conn = psycopg.connect(
                url,
                autocommit=True,
                connect_timeout=10,
                application_name="perfpack explain",
                options=f"-c default_transaction_read_only=on -c statement_timeout={STATEMENT_TIMEOUT_MS}",
            )
        except psycopg.Error as err:
            raise PerfpackError(f"cannot connect to {self.display}: {_conn_error(err)}") from None
        except (ValueError, UnicodeError) as err:
            raise PerfpackError(f"bad PostgreSQL URL {self.display}: {one_line(err, limit=200)}") from None
        self._counts: dict[str, int | None] = {}
        self._columns: dict[str, set[str]] = {}
        self._hypopg: str | None = None  # "installed", "creatable", "" (not available)

    def close(self) -> None:
        self.conn.close()

    # -- reading ----------------------------------------------------------------------------------
    def plan(self, sql: str, conn: Any = None) -> Plan:
        conn = conn or self.conn
        try:
            rows = explain_rows(conn, sql)
        except self.psycopg.errors.QueryCanceled:
            raise PerfpackError("EXPLAIN took too long (statement_timeout)") from None
        except self.psycopg.Error as err:
            if conn.info.transaction_status == self.psycopg.pq.TransactionStatus.INERROR:
                conn.rollback()
            raise PerfpackError(f"PostgreSQL rejected the statement: {_one_line_error(err)}") from None
        return parse_plan(rows[0][0])

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except self.psycopg.Error:
            return []

    def columns(self, table: str) -> set[str]:
        key = table.lower()
        if key not in self._columns:
            rows = self._query(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                "AND attnum > 0 AND NOT attisdropped",
                (_regclass(table),),
            )
            self._columns[key] = {r[0] for r in rows}
        return self._columns[key]

    def is_table(self, name: str) -> bool:
        rows = self._query("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", (_regclass(name),))
        return bool(rows) and rows[0][0] in ("r", "p", "m")

    def rowid_column(self, table: str) -> str | None:
        return None

    def row_count(self, table: str) -> int | None:
        key = table.lower()
        if key not in self._counts:
            rows = self._query(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", (_regclass(table),)
            )
            count = int(rows[0][0]) if rows and rows[0][0] is not None else None
            if count is None or count < 0:  # never analysed: count, within the statement timeout
                exact = self._query(f"SELECT count(*) FROM {_qualified(table)}")
                count = int(exact[0][0]) if exact else None
            self._counts[key] = count
        return self._counts[key]

    def share(self, table: str, alias: str, conditions: list[str]) -> float | None:
        """The planner's estimate of the share of rows `conditions` keep (from the table's statistics:
        nothing is read). A covering index-only read of half a table can look cheaper to it."""
        rows = self.row_count(table)
        if not conditions or not rows:
            return None
        sql = (f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {_qualified(table)} AS {quote_ident(alias)} WHERE "
               + " AND ".join(f"({c})" for c in conditions))
        psycopg = self.psycopg
        try:
            self.conn.execute("BEGIN")
            self.conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")  # one node counts all rows
            document = self.conn.execute(sql).fetchall()[0][0]
        except psycopg.Error:
            return None
        finally:
            if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self.conn.execute("ROLLBACK")
        estimate = (document[0] if isinstance(document, list) else document)["Plan"].get("Plan Rows")
        return float(estimate) / rows if estimate is not None else None

    def existing_indexes(self, table: str) -> list[tuple[str, ...]]:
        """Column lists (lower case) of the table's plain (non-partial, non-expression) indexes."""
        rows = self._query(
            "SELECT array_agg(a.attname ORDER BY k.n) FROM pg_index i "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = to_regclass(%s) AND i.indpred IS NULL AND i.indexprs IS NULL "
            "GROUP BY i.indexrelid",
            (_regclass(table),),
        )
        return [tuple(c.lower() for c in r[0]) for r in rows]

    def index_names(self) -> set[str]:
        return {r[0].lower() for r in self._query("SELECT indexname FROM pg_indexes")}

    # -- what-if ----------------------------------------------------------------------------------
    def hypopg(self) -> str:
        if self._hypopg is None:
            if self._query("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'"):
                self._hypopg = "installed"
            elif self._query("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'") and self._query(
                "SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper"
            ):
                self._hypopg = "creatable"
            else:
                self._hypopg = ""
        return self._hypopg

    def whatif(self, sql: str, candidates: list[Candidate]) -> tuple[Plan, dict[str, Candidate]] | None:
        """The plan with hypothetical indexes for every candidate, and the ones it uses, by name.
        None when hypopg is not available (then suggestions rest on the statement alone)."""
        mode = self.hypopg()
        if not mode:
            return None
        conn = self.conn
        names: dict[str, Candidate] = {}
        psycopg = self.psycopg
        try:
            conn.execute("BEGIN READ WRITE" if mode == "creatable" else "BEGIN")
            if mode == "creatable":
                conn.execute("CREATE EXTENSION hypopg")
            # hypothetical indexes live in the backend's memory, outside transactions: start and end empty
            conn.execute("SELECT hypopg_reset()")
            for cand in candidates:
                conn.execute("SAVEPOINT perfpack_cand")
                try:
                    ((oid, _name),) = conn.execute(
                        "SELECT * FROM hypopg_create_index(%s)", (ddl(cand, None),)
                    ).fetchall()
                    conn.execute("RELEASE SAVEPOINT perfpack_cand")
                    names[str(oid)] = cand
                except psycopg.Error:
                    conn.execute("ROLLBACK TO SAVEPOINT perfpack_cand")
            conn.execute("SAVEPOINT perfpack_explain")
            try:
                rows = explain_rows(conn, sql)
            except psycopg.Error:
                conn.execute("ROLLBACK TO SAVEPOINT perfpack_explain")
                return None
            plan = parse_plan(rows[0][0])
            used = {}
            for name in plan.indexes:
                match = _HYPO_NAME.match(name)
                if match and match.group(1) in names:
                    used[name] = names[match.group(1)]
            return plan, used
        except psycopg.Error:
            return None
        finally:
            if conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
                try:
                    conn.execute("SELECT hypopg_reset()")
                except psycopg.Error:
                    pass
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")

    def sandbox(self) -> PostgresSandbox:
        return PostgresSandbox(self)


class PostgresSandbox:
    """One read-write session whose every change is inside a transaction that is rolled back."""

    def __init__(self, target: PostgresTarget) -> None:
        self.target = target
        self.engine = "postgresql"
        psycopg = target.psycopg
        try:
            self.conn = psycopg.connect(
                target.url,
                autocommit=True,
                connect_timeout=10,
                application_name="perfpack explain --try-indexes",
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}",
            )
        except psycopg.Error as err:
            raise PerfpackError(f"cannot connect to {target.display}: {_conn_error(err)}") from None
        self.conn.execute("BEGIN READ WRITE")

    def close(self) -> None:
        try:
            self.conn.execute("ROLLBACK")
        finally:
            self.conn.close()

    def measure(self, sql: str, budget: float, cap: float) -> Timing:
        from perfpack.explain.core import RunTimeout, measure

        conn = self.conn
        canceled = self.target.psycopg.errors.QueryCanceled
        conn.execute("SAVEPOINT perfpack_timing")
        conn.execute(f"SET LOCAL statement_timeout = {max(1, int(cap * 1000))}")

        def run() -> None:
            try:
                conn.execute(sql).fetchall()
            except canceled:
                raise RunTimeout() from None

        try:
            return measure(run, budget, cap)
        finally:
            # undoes the timeout too (and a cancelled run's aborted state); indexes made before stay
            conn.execute("ROLLBACK TO SAVEPOINT perfpack_timing")
            conn.execute("RELEASE SAVEPOINT perfpack_timing")

    def create(self, statements: list[str]) -> None:
        """Build the indexes inside the transaction (a failure undoes only itself)."""
        for text in statements:
            self.conn.execute("SAVEPOINT perfpack_try")
            try:
                self.conn.execute(text)
            except self.target.psycopg.Error:
                self.conn.execute("ROLLBACK TO SAVEPOINT perfpack_try")
                raise
            self.conn.execute("RELEASE SAVEPOINT perfpack_try")

    def plan(self, sql: str) -> Plan:
        return self.target.plan(sql, self.conn)


def parameters(sql: str) -> int:
    """The highest $n in the statement outside quotes (0: none)."""
    bare = _QUOTED.sub("", sql)
    found = [int(n) for n in re.findall(r"\$(\d+)", bare)]
    return max(found, default=0)


def explain_rows(conn: Any, sql: str) -> list[Any]:
    """EXPLAIN (FORMAT JSON); a statement with $1.. parameters (as pg_stat_statements shows them) gets
    its generic plan: prepared, then explained with unknown values (NULLs, which a generic plan
    does not look at)."""
    n = parameters(sql)
    if not n:
        return conn.execute("EXPLAIN (FORMAT JSON) " + sql).fetchall()
    name = f"perfpack_generic_{next(_PREPARED)}"  # a fresh name: a failed run may leave one behind
    conn.execute("SET plan_cache_mode = force_generic_plan")
    try:
        conn.execute(f"PREPARE {name} AS " + sql)
        rows = conn.execute(
            f"EXPLAIN (FORMAT JSON) EXECUTE {name}(" + ", ".join(["NULL"] * n) + ")"
        ).fetchall()
        conn.execute(f"DEALLOCATE {name}")
        return rows
    finally:
        if conn.info.transaction_status.name != "INERROR":
            conn.execute("RESET plan_cache_mode")


def parse_plan(document: Any) -> Plan:
    root = document[0]["Plan"] if isinstance(document, list) else document["Plan"]
    lines: list[str] = []
    scans: list[Scan] = []
    indexes: set[str] = set()
    sorts = 0

    def walk(node: dict[str, Any], level: int) -> None:
        nonlocal sorts
        kind = node.get("Node Type", "?")
        relation = node.get("Relation Name")
        alias = node.get("Alias")
        index = node.get("Index Name")
        head = kind
        if index:
            head += f" using {index}"
        if relation:
            head += f" on {relation}" + (f" {alias}" if alias and alias != relation else "")
        head += f"  (rows={node.get('Plan Rows')})"
        lines.append("  " * level + head)
        for key in ("Index Cond", "Recheck Cond", "Hash Cond", "Merge Cond", "Join Filter", "Filter"):
            if node.get(key):
                lines.append("  " * level + f"  {key}: {node[key]}")
        if kind in _SCAN_NODES and relation:
            scans.append(Scan(alias=alias or relation, how="seq scan", table=relation))
        if index:
            indexes.add(index.lower() if not index.startswith("<") else index)
        if kind in ("Sort", "Incremental Sort"):
            sorts += 1
        for child in node.get("Plans", []):
            walk(child, level + 1)

    walk(root, 0)
    return Plan(lines=lines, scans=scans, indexes=indexes, sorts=sorts)


def ddl(cand: Candidate, name: str | None) -> str:
    cols = ", ".join(c.sql(quote_ident) for c in cand.columns)
    named = f"{quote_ident(name)} " if name else ""
    return f"CREATE INDEX {named}ON {_qualified(cand.table)} ({cols})"


def _qualified(table: str) -> str:
    schema, dot, name = table.rpartition(".")
    return f"{quote_ident(schema)}.{quote_ident(name)}" if dot else quote_ident(table)


def _regclass(table: str) -> str:
    return _qualified(table)


def _conn_error(err: BaseException) -> str:
    """The server's reason, without libpq's "connection to server at ... failed:" preamble."""
    text = _one_line_error(err)
    for marker in ("FATAL:", "failed:"):
        if marker in text:
            text = text.rsplit(marker, 1)[1].strip() or text
    return text
