"""`perfpack explain`: for each statement shape, its plan, its full reads, and the index that fixes them.

A suggestion is never a guess from the text alone where the engine can answer: the candidates built
from the statement (sqlinfo) are handed to the engine's planner as what-if indexes (an empty copy of
the schema on SQLite, hypopg on PostgreSQL), and only the ones it uses AND that remove a full read of a
large table are suggested. With `try_indexes` each is then built where it harms nothing (a copy of the
SQLite file, a rolled-back transaction on PostgreSQL), the plan re-read, the statement timed before and
after, and only suggestions that search instead of scan and are `min_speedup` times faster are kept.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from perfpack.errors import PerfpackError
from perfpack.explain.model import NPlusOne, Plan, Scan, Statement, Suggestion
from perfpack.explain.shape import first_word
from perfpack.explain.sqlinfo import Candidate, SqlError, StatementInfo, TableUse, analyse, candidates
from perfpack.terminal import one_line

EXPLAINABLE = frozenset({"SELECT", "WITH", "UPDATE", "DELETE", "INSERT", "REPLACE", "VALUES", "TABLE"})
# statements with no plan to read: listed and counted, never run
OTHER_KINDS = frozenset(
    {
        "BEGIN",
        "COMMIT",
        "END",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "CREATE",
        "DROP",
        "ALTER",
        "PRAGMA",
        "ANALYZE",
        "VACUUM",
        "REINDEX",
        "ATTACH",
        "DETACH",
        "SET",
        "RESET",
        "SHOW",
        "GRANT",
        "REVOKE",
        "TRUNCATE",
        "COPY",
        "CALL",
        "DO",
        "LOCK",
        "PREPARE",
        "EXECUTE",
        "DEALLOCATE",
        "DISCARD",
        "LISTEN",
        "NOTIFY",
        "UNLISTEN",
        "COMMENT",
        "CLUSTER",
        "REFRESH",
        "START",
        "ABORT",
        "CHECKPOINT",
        "DECLARE",
        "FETCH",
        "CLOSE",
        "MOVE",
        "MERGE",
        "SECURITY",
        "IMPORT",
        "LOAD",
        "EXPLAIN",
    }
)
_BAD_HOW = ("scan", "seq scan", "automatic index", "covering index")
_PLACEHOLDER = re.compile(r"(?<![\w':])(\?\d*|\$\d+|%s|%\(\w+\)s|:[A-Za-z_]\w*)")


class Target(Protocol):
    engine: str
    display: str

    def plan(self, sql: str, conn: Any = None) -> Plan: ...
    def columns(self, table: str) -> set[str]: ...
    def is_table(self, name: str) -> bool: ...
    def rowid_column(self, table: str) -> str | None: ...
    def row_count(self, table: str) -> int | None: ...
    def share(self, table: str, alias: str, conditions: list[str]) -> float | None: ...
    def index_names(self) -> set[str]: ...
    def existing_indexes(self, table: str) -> list[tuple[str, ...]]: ...
    def whatif(self, sql: str, candidates: list[Candidate]) -> tuple[Plan, dict[str, Candidate]] | None: ...
    def sandbox(self) -> Any: ...
    def close(self) -> None: ...


@dataclass
class Options:
    min_rows: int = 1000  # tables smaller than this are never worth an index
    try_indexes: bool = False
    min_speedup: float = 2.0  # a measured suggestion is kept only this much faster
    max_share: float = 0.25  # unmeasured: no suggestion when the predicate keeps more of the table
    nplus1_min: int = 5  # executions in one loop that make an N+1 candidate
    time_budget: float = 0.08  # seconds of timing per statement and side (at least 3 runs)
    run_cap: float = 1.0  # seconds: a slower run is interrupted and counted as "at least this"
    strict_sql: bool = True  # --sql: a statement the engine rejects is an error (capture: a note)


@dataclass
class Result:
    target: str
    engine: str
    statements: list[Statement]
    n_plus_one: list[NPlusOne] = field(default_factory=list)
    capture: dict[str, Any] | None = None
    elapsed_s: float = 0.0
    measured: bool = False
    min_speedup: float = 2.0

    def suggestions(self) -> list[Statement]:
        return [s for s in self.statements if s.suggestion is not None]

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "engine": self.engine,
            "measured": self.measured,
            "min_speedup": self.min_speedup if self.measured else None,
            "statements": [s.to_json() for s in self.statements],
            "n_plus_one": [n.to_json() for n in self.n_plus_one],
            "capture": self.capture,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def open_target(spec: str) -> Target:
    if re.match(r"(?i)^postgres(ql)?://", spec):
        from perfpack.explain.postgres import PostgresTarget

        return PostgresTarget(spec)
    from perfpack.explain.sqlite import SQLiteTarget

    return SQLiteTarget(spec)


def progress(message: str) -> None:
    """Progress on stderr for a person at a terminal; agents and CI get only the result (and an error
    stays the one line it should be)."""
    if sys.stderr.isatty() or os.environ.get("PERFPACK_PROGRESS") == "1":
        sys.stderr.write(f"perfpack explain: {message}\n")
        sys.stderr.flush()


def explain(
    target: Target, statements: list[Statement], opts: Options, report: Callable[[str], None] | None = None
) -> Result:
    """Fill in plan, full scans and suggestion for every statement (in place) and return the result."""
    started = time.perf_counter()
    taken = _Names({n.lower() for n in target.index_names()})
    infos: dict[int, tuple[StatementInfo, Plan]] = {}
    for st in statements:
        done = _explain_one(target, st, opts, taken)
        if done is not None:
            infos[id(st)] = done
    result = Result(
        target=target.display, engine=target.engine, statements=statements, min_speedup=opts.min_speedup
    )
    if opts.try_indexes:
        todo = [s for s in statements if s.suggestion is not None]
        if todo:
            if report:
                report(f"measuring {len(todo)} suggested index(es) where they harm nothing")
            _measure(target, todo, infos, opts)
        result.measured = True
    result.elapsed_s = time.perf_counter() - started
    return result


class _Names:
    """Index names for suggestions: one name per distinct index, none clashing with existing ones."""

    def __init__(self, existing: set[str]) -> None:
        self.taken = set(existing)
        self.given: dict[tuple[str, Any], str] = {}

    def name(self, cand: Candidate) -> str:
        if cand.key() not in self.given:
            name = index_name(cand, self.taken)
            self.taken.add(name.lower())
            self.given[cand.key()] = name
        return self.given[cand.key()]


def _explain_one(
    target: Target, st: Statement, opts: Options, taken: _Names
) -> tuple[StatementInfo, Plan] | None:
    word = first_word(st.example)
    if word not in EXPLAINABLE:
        if opts.strict_sql and word not in OTHER_KINDS:
            target.plan(st.example)  # not a statement we know: the engine says what is wrong with it
        st.kind = word.lower() or "other"
        return None
    try:
        plan = target.plan(st.example)
    except PerfpackError as err:
        if opts.strict_sql:
            raise
        st.kind = word.lower()
        st.notes.append(f"not explained: {err.message}")
        return None
    st.plan = plan.lines
    try:
        info = analyse(st.example, target.engine, target.columns)
    except SqlError as err:
        st.kind = word.lower()
        st.notes.append(f"not analysed (perfpack's parser: {err})")
        info = None
    st.kind = info.kind if info else word.lower()
    # a walk of an index in the order asked for stops at a LIMIT: not a full read (corpus27: "ORDER BY
    # created DESC LIMIT 20 reads notes (80,000 rows)" after the index was added)
    limited = bool(info and any(u.limit for u in info.uses))
    scans = _resolve_scans(target, plan, info)
    st.full_scans = [s for s in scans if not (s.how == "index order" and limited)]
    large = [
        s
        for s in st.full_scans
        if s.rows is not None and s.rows >= opts.min_rows and (s.how in _BAD_HOW or s.how == "index order")
    ]
    if info is None:
        return None
    if not large:
        small = [s for s in st.full_scans if s.rows is not None and s.rows < opts.min_rows]
        if small:
            st.notes.append(
                f"full read of small table(s) {', '.join(sorted({s.table or s.alias for s in small}))}"
                f" (< {opts.min_rows} rows): an index would not pay"
            )
        return info, plan
    st.suggestion = _suggest(target, st, plan, info, opts, taken)
    return info, plan


def _resolve_scans(target: Target, plan: Plan, info: StatementInfo | None) -> list[Scan]:
    aliases: dict[str, str] = {}
    if info is not None:
        for use in info.uses:
            aliases.setdefault(use.alias.lower(), use.qualified)
    out = []
    for scan in plan.scans:
        table = (
            scan.table if target.engine == "postgresql" and scan.table else aliases.get(scan.alias.lower())
        )
        if table is None and target.is_table(scan.alias):
            table = scan.alias
        if table is None:
            continue  # a CTE, a view's inner name or a subquery: not a stored table
        scan.table = table
        scan.rows = target.row_count(table)
        out.append(scan)
    return out


def _badness(target: Target, plan: Plan, info: StatementInfo, opts: Options) -> int:
    limit = any(u.limit for u in info.uses)
    bad = 0
    for scan in _resolve_scans(target, plan, info):
        if scan.rows is None or scan.rows < opts.min_rows:
            continue
        if scan.how in _BAD_HOW or (scan.how == "index order" and not limit):
            bad += 1
    return bad


def _suggest(
    target: Target, st: Statement, plan: Plan, info: StatementInfo, opts: Options, taken: _Names
) -> Suggestion | None:
    cands: list[Candidate] = []
    uses_by_table: dict[str, list[TableUse]] = {}
    for use in info.uses:
        rows = target.row_count(use.qualified)
        if rows is None or rows < opts.min_rows:
            continue
        uses_by_table.setdefault(use.qualified.lower(), []).append(use)
        rowid = target.rowid_column(use.qualified)

        def skip(c: str, r: str | None = rowid) -> bool:
            return bool(r) and c.lower() == (r or "").lower()

        existing = target.existing_indexes(use.qualified)
        for cand in candidates(use, target.engine, skip):
            cols = tuple(c.name.lower() for c in cand.columns)
            if any(have[: len(cols)] == cols for have in existing) and not any(
                c.modifier for c in cand.columns
            ):
                continue  # an index that starts with these columns is there already
            if cand.key() not in {c.key() for c in cands}:
                cands.append(cand)
    opaque = sorted({o for u in info.uses for o in u.opaque})
    # "date_trunc('month', created_at) = ?": the condition that would search is the one no index serves
    unservable = (
        "no index can serve " + "; ".join(opaque[:3]) + " as written (a column inside an expression, a "
        "leading wildcard or a negation): compare the column itself (a range) so an index can search"
        if opaque else ""
    )
    if not cands:
        if opaque:
            st.notes.append(unservable)
        else:
            st.notes.append("reads the table in full because it asks for (nearly) every row: no index helps")
        return None
    whatif = target.whatif(st.example, cands)
    if whatif is None:
        return _heuristic(target, st, plan, info, cands, opts, taken)
    plan_after, used = whatif
    before_bad = _badness(target, plan, info, opts)
    after_bad = _badness(target, plan_after, info, opts)
    if not used or after_bad >= before_bad:
        st.notes.append(
            (unservable + "; " if unservable else "")
            + "the planner would keep the full read even with the candidate indexes "
            + ", ".join(c.label() for c in cands[:3])
        )
        return None
    chosen = _simplify(
        target, st.example, list(dict.fromkeys(used.values())), info, after_bad, plan_after.sorts, opts
    )
    # where the engine cannot weigh selectivity itself (SQLite), count it: an index for a predicate that
    # keeps a large share of the table only wins as a narrower copy of it (a covering read), not a search
    chosen = _selective(target, st, chosen, uses_by_table, opts)
    if not chosen:
        return None
    return _make(target, chosen, taken, "planner")


def _simplify(
    target: Target,
    sql: str,
    chosen: list[Candidate],
    info: StatementInfo,
    bad: int,
    sorts: int,
    opts: Options,
) -> list[Candidate]:
    """Drop trailing join columns the planner only liked for an index-only read: (email, id) -> (email)
    when the plan stays as good. Equality, range and sort columns are kept: they are the point."""
    joins = {(u.qualified.lower(), j.lower()) for u in info.uses for j in u.join}
    eqs = {(u.qualified.lower(), c.lower()) for u in info.uses for c in [*u.eq, *u.range]}
    eqs |= {(u.qualified.lower(), c.lower()) for u in info.uses for c, _ in [*u.order, *u.prefix]}
    out = list(chosen)
    for i, cand in enumerate(out):
        cols = list(cand.columns)
        while len(cols) > 1:
            last = (cand.table.lower(), cols[-1].name.lower())
            if last not in joins or last in eqs:
                break
            shorter = Candidate(cand.table, tuple(cols[:-1]))
            trial = out[:i] + [shorter] + out[i + 1 :]
            res = target.whatif(sql, trial)
            if res is None:
                break
            plan, used = res
            if (
                shorter.key() not in {c.key() for c in used.values()}
                or plan.sorts > sorts
                or _badness(target, plan, info, opts) > bad
            ):
                break
            cols = cols[:-1]
            out[i] = shorter
    return out


def _heuristic(
    target: Target,
    st: Statement,
    plan: Plan,
    info: StatementInfo,
    cands: list[Candidate],
    opts: Options,
    taken: _Names,
) -> Suggestion | None:
    """No what-if available (PostgreSQL without hypopg): the first candidate of each scanned table."""
    scanned = {s.table.lower() for s in st.full_scans if s.table and s.rows and s.rows >= opts.min_rows}
    chosen: list[Candidate] = []
    for table in scanned:
        first = next(
            (c for c in cands if c.table.lower() == table or c.table.lower().endswith("." + table)), None
        )
        if first is not None:
            chosen.append(first)
    if not chosen:
        return None
    st.notes.append(
        "not checked by the planner (hypopg is not available): run with --try-indexes to prove it"
    )
    return _make(target, chosen, taken, "statement")


def _selective(
    target: Target, st: Statement, chosen: list[Candidate], uses: dict[str, list[TableUse]], opts: Options
) -> list[Candidate]:
    """Drop indexes whose predicate keeps a large share of the table (a scan is as fast): counted on the
    real data where the engine cannot weigh it itself."""
    kept = []
    for cand in chosen:
        share = None
        for use in uses.get(cand.table.lower(), []):
            local = [c for c in use.local if not _PLACEHOLDER.search(c)]
            if local and not (use.order and use.limit):
                share = target.share(use.qualified, use.alias, local)
                break
        if share is not None and share > opts.max_share:
            st.notes.append(
                f"{cand.label()} not suggested: the predicate keeps {share:.0%} of the rows, "
                "a full read is as fast"
            )
            continue
        kept.append(cand)
    return kept


def _make(target: Target, chosen: list[Candidate], taken: _Names, checked: str) -> Suggestion:
    ddls = [_ddl(target, cand, taken.name(cand)) for cand in chosen]
    return Suggestion(ddl=ddls, tables=[c.table for c in chosen], checked=checked)


def _ddl(target: Target, cand: Candidate, name: str) -> str:
    from perfpack.explain import postgres, sqlite

    return postgres.ddl(cand, name) if target.engine == "postgresql" else sqlite.ddl(cand, name)


def index_name(cand: Candidate, taken: set[str]) -> str:
    table = cand.table.rpartition(".")[2]
    base = "idx_" + "_".join([table] + [c.name for c in cand.columns])
    base = re.sub(r"[^A-Za-z0-9_]+", "_", base).lower()[:58].rstrip("_")
    name, n = base, 2
    while name.lower() in taken:
        name = f"{base}_{n}"
        n += 1
    return name


# -- measuring ------------------------------------------------------------------------------------
class RunTimeout(Exception):
    """One run of a statement took longer than the cap and was interrupted."""


@dataclass
class Timing:
    samples: list[float]  # milliseconds
    capped: bool = False  # the statement was interrupted at the cap: the true time is larger

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def measure(run: Callable[[], None], budget: float, cap: float, *, max_runs: int = 200) -> Timing:
    """Time `run` in milliseconds: at least 3 runs or `budget` seconds. A run slower than `budget` is
    the only sample; one over `cap` seconds is interrupted (run raises RunTimeout) and gives a lower
    bound. The first run warms caches and is dropped, unless it took over 5 ms (then there is little
    to warm: the data was just read or copied, and a slow statement's runs are the costly part)."""
    t0 = time.perf_counter()
    try:
        run()
    except RunTimeout:
        return Timing([cap * 1000], capped=True)
    first = time.perf_counter() - t0
    if first > budget:
        return Timing([first * 1000])
    out = [first * 1000] if first > 0.005 else []
    runs = min(max_runs, max(3 - len(out), int(budget / max(first, 1e-6)) - len(out)))
    for _ in range(runs):
        t = time.perf_counter()
        run()
        out.append((time.perf_counter() - t) * 1000)
    return Timing(out)


def _measure(
    target: Target, todo: list[Statement], infos: dict[int, tuple[StatementInfo, Plan]], opts: Options
) -> None:
    """Time each suggestion where it harms nothing. The target's own (read-only) session is not used
    meanwhile: on PostgreSQL even EXPLAIN UPDATE would wait for the lock a CREATE INDEX holds."""
    sandbox = target.sandbox()
    twin = None
    builder: threading.Thread | None = None
    try:
        wanted: dict[int, str] = {}
        for st in todo:
            info = infos[id(st)][0] if id(st) in infos else None
            sql = st.example if (info and info.kind == "select") else (info.timing_sql if info else None)
            if sql is None or _PLACEHOLDER.search(_strip_strings(sql)):
                st.notes.append(
                    f"suggested {'; '.join(st.suggestion.ddl)} not measured: "  # type: ignore[union-attr]
                    + (
                        "the statement has parameters (give literal values)"
                        if sql
                        else "this kind of statement is not timed"
                    )
                )
                st.suggestion = None
                continue
            wanted[id(st)] = sql
        # each distinct index is built once (in the order first suggested) and all stay while the
        # statements are timed: one build per index, however many statements share it
        ddls = list(dict.fromkeys(d for st in todo if id(st) in wanted for d in st.suggestion.ddl))  # type: ignore[union-attr]
        names: dict[str, str] = {}
        failed: dict[str, str] = {}

        def build() -> None:
            for ddl in ddls:
                try:
                    sandbox.create([ddl])
                    names[ddl] = _index_of(ddl)
                except Exception as err:
                    failed[ddl] = _first_line(err)

        # Where the copy is in memory, a second copy is timed without the indexes while they are built
        # on the first, on another core (the builds are most of --try-indexes' time). A build can slow
        # the timing down a little: a suggestion whose gain is then within 2x of the bar is timed again
        # once the builds are done, on its own.
        twin = getattr(sandbox, "twin", lambda: None)()
        if twin is not None:
            builder = threading.Thread(target=build, name="perfpack-explain-build", daemon=True)
            builder.start()
        timing: dict[int, str] = {}
        before: dict[int, Timing] = {}
        for st in todo:
            if id(st) not in wanted:
                continue
            try:
                before[id(st)] = (twin or sandbox).measure(wanted[id(st)], opts.time_budget, opts.run_cap)
                timing[id(st)] = wanted[id(st)]
            except Exception as err:
                st.notes.append(f"not measured: {_first_line(err)}")
                st.suggestion = None
        if builder is not None:
            builder.join()
            builder = None
        else:
            build()
        for st in todo:
            if st.suggestion is None or id(st) not in timing:
                continue
            broken = [d for d in st.suggestion.ddl if d in failed]
            if broken:
                st.notes.append(f"{broken[0]} could not be built on the copy: {failed[broken[0]]}")
                st.suggestion = None
                continue
            info, plan = infos[id(st)]
            again = None
            if twin is not None:
                sql, quiet = timing[id(st)], twin

                def again(sql: str = sql, quiet: Any = quiet) -> Timing:
                    return quiet.measure(sql, opts.time_budget, opts.run_cap)

            _judge(target, sandbox, st, info, plan, timing[id(st)], before[id(st)], names, opts, again)
    finally:
        if builder is not None:  # interrupted while building: stop the build before closing its copy
            sandbox.interrupt()
            builder.join()
        if twin is not None:
            twin.close()
        sandbox.close()


def _judge(
    target: Target,
    sandbox: Any,
    st: Statement,
    info: StatementInfo,
    original: Plan,
    sql: str,
    before: Timing,
    names: dict[str, str],
    opts: Options,
    again: Callable[[], Timing] | None = None,
) -> None:
    """Keep the suggestion if, with the built indexes, the plan searches and the statement is faster.
    The indexes it names become the ones the plan really used (another statement's may serve it better).
    `again` times the statement without the indexes once more: `before` was taken while they were being
    built, so a gain near the bar is decided on a quiet timing."""
    sug = st.suggestion
    assert sug is not None
    plan = sandbox.plan(st.example)
    used = [ddl for ddl, name in names.items() if name.lower() in plan.indexes]
    original_bad = _badness(target, original, info, opts)
    if not used or _badness(target, plan, info, opts) >= original_bad:
        st.notes.append(
            f"{'; '.join(sug.ddl)} built on the real data, but the planner still reads in full: not kept"
        )
        st.suggestion = None
        return
    if set(used) != set(sug.ddl):
        sug.ddl = used
        sug.tables = [_table_of_ddl(d) for d in used]
    after = sandbox.measure(sql, opts.time_budget, opts.run_cap)
    if again is not None and not before.capped and before.median < 2 * opts.min_speedup * after.median:
        before = again()
    b, a = before.median, after.median
    speedup = b / a if a > 0 else float("inf")
    sug.before_ms, sug.after_ms, sug.speedup = b, a, speedup
    sug.before_capped = before.capped
    sug.checked = "measured"
    sug.plan_after = plan.lines
    st.tried = sug
    # every run before slower than the typical run after: one hiccup on a busy machine does not decide
    separated = after.median < min(before.samples)
    if after.capped or speedup < opts.min_speedup or not separated:
        st.notes.append(
            f"{'; '.join(sug.ddl)} searches instead of scanning but measured {b:.3g} ms -> "
            f"{a:.3g} ms ({speedup:.1f}x; needs {opts.min_speedup:g}x, every run faster): not kept"
        )
        st.suggestion = None


def _table_of_ddl(ddl: str) -> str:
    match = re.search(r" ON ((?:\"[^\"]+\"|[^\s(]+)(?:\.(?:\"[^\"]+\"|[^\s(]+))?) \(", ddl)
    return match.group(1).replace('"', "") if match else ""


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _index_of(ddl: str) -> str:
    match = re.match(r'CREATE INDEX (?:"?[^".\s]+"?\.)?("?)([^"\s]+)\1 ON', ddl)
    return match.group(2) if match else ""


def _strip_strings(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def _first_line(err: BaseException) -> str:

    text = str(err).strip().splitlines()
    return one_line(text[0] if text else type(err).__name__, limit=200)
