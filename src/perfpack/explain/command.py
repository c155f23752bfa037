"""`perfpack explain` as a plain function: statements in (given or captured), a Result out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.explain.core import Options, Result, explain, open_target, progress
from perfpack.explain.model import Statement
from perfpack.explain.shape import shape, split_with_lines
from perfpack.terminal import one_line

MAX_SQL_BYTES = 8 * 1024 * 1024
MAX_STATEMENTS = 1000  # shapes explained in one run; a capture keeps the busiest
DETAIL_DIR = ("explain",)


@dataclass
class Request:
    db: str
    sql: str | None = None
    sql_file: str | None = None
    capture: list[str] = field(default_factory=list)
    options: Options = field(default_factory=Options)
    timeout: float = 600.0
    show_output: bool = False
    root: Path | None = None
    quiet: bool = False


def run(req: Request) -> Result:
    given = [req.sql is not None, req.sql_file is not None, bool(req.capture)]
    if sum(given) != 1:
        raise PerfpackError("give exactly one of --sql, --sql-file or --capture -- CMD")
    statements: list[Statement] = []
    if req.sql is not None or req.sql_file is not None:
        text = req.sql if req.sql is not None else read_sql_file(req.sql_file or "")
        statements = statements_from_text(text, "--sql" if req.sql is not None else (req.sql_file or ""))
    say = (lambda _m: None) if req.quiet else progress
    target = open_target(req.db)
    try:
        capture_info: dict[str, Any] | None = None
        n_plus_one: list[Any] = []
        if req.capture:
            statements, n_plus_one, capture_info = _capture(target, req, say)
            req.options.strict_sql = False
        if len(statements) > MAX_STATEMENTS:
            if not req.capture:
                raise PerfpackError(
                    f"too many statements ({len(statements)} > {MAX_STATEMENTS})",
                    hint="explain fewer at a time",
                )
            capture_info = {**(capture_info or {}), "shapes_not_explained": len(statements) - MAX_STATEMENTS}
            statements = statements[:MAX_STATEMENTS]
        if statements:
            say(f"explaining {len(statements)} statement shape(s) on {target.display}")
        result = explain(target, statements, req.options, say)
        result.n_plus_one = n_plus_one
        result.capture = capture_info
        return result
    finally:
        target.close()


def statements_from_text(text: str, source: str = "--sql") -> list[Statement]:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SQL_BYTES:
        raise PerfpackError(f"the SQL is larger than {MAX_SQL_BYTES // 2**20} MiB")
    parts = split_with_lines(text)
    if not parts:
        raise PerfpackError("no SQL statement given")
    # each given statement on its own (two of one shape may differ in what they select); repeats count
    merged: dict[str, Statement] = {}
    for line, part in parts:
        if part in merged:
            merged[part].count += 1
        else:
            merged[part] = Statement(sql=shape(part), example=part, count=1, source=source, line=line)
    return list(merged.values())


def read_sql_file(path: str) -> str:
    from perfpack.safeio import read_user_text

    try:
        return read_user_text(path, what="SQL file", max_bytes=MAX_SQL_BYTES)
    except FileNotFoundError:
        raise PerfpackError(f"SQL file {one_line(path)}: not found") from None


def _capture(target: Any, req: Request, say: Any) -> tuple[list[Statement], list[Any], dict[str, Any]]:
    from perfpack.explain import capture

    log_path = detail_dir(req.root) / "program.log" if req.root else None
    pgss = None
    log_position = None
    if target.engine == "postgresql":
        if capture.has_pg_stat_statements(target):
            pgss = capture._pgss(target)
        else:
            log_position = capture.pg_log_position(target)
    say(f"running {one_line(' '.join(req.capture), limit=120)} and recording its statements")
    _warm_up()
    events, code, last = capture.python_capture(
        req.capture, timeout=req.timeout, log_path=log_path, show_output=req.show_output
    )
    if code != 0:
        raise PerfpackError(
            capture.describe_exit(code, last)
            + (f" (its output: {log_path})" if log_path and not req.show_output else "")
        )
    target_spec = target.path if target.engine == "sqlite" else target.url
    mine, elsewhere = capture.for_target(events, target.engine, target_spec)
    info: dict[str, Any] = {
        "method": "python",
        "events": len(mine),
        "elsewhere": elsewhere,
        "program_log": str(log_path) if log_path else None,
    }
    if mine:
        statements = capture.aggregate(mine)
        loops = capture.n_plus_one(mine, req.options.nplus1_min)
    elif pgss is not None:
        after = capture._pgss(target)
        statements = capture.pgss_delta(pgss, after)
        loops = capture.pgss_n_plus_one(statements, req.options.nplus1_min)
        info = {
            "method": "pg_stat_statements",
            "events": sum(s.count for s in statements),
            "program_log": info["program_log"],
        }
    elif log_position is not None:
        from urllib.parse import unquote, urlsplit

        dbname = unquote(urlsplit(target.url).path.lstrip("/")) or None
        events = capture.parse_pg_log(capture.pg_log_read(target, log_position), dbname)
        statements = capture.aggregate(events)
        loops = capture.n_plus_one(events, req.options.nplus1_min)
        info = {"method": "server log", "events": len(events), "program_log": info["program_log"],
                "log": log_position[0]}
    else:
        statements, loops = [], []
        info["note"] = (
            "no statement to this database was recorded: perfpack records Python programs "
            "(sqlite3, psycopg, psycopg2) from the inside, and PostgreSQL servers with "
            "pg_stat_statements or log_min_duration_statement = 0; see docs/explain.md"
        )
    for loop in loops:
        loop.table = _table_of(loop.sql)
    info["statements"] = sum(s.count for s in statements)
    return statements, loops, info


def _warm_up() -> None:
    """Import the SQL parser (a fifth of a second) while the captured program runs, on a core it does not
    use, instead of after it."""
    import threading

    def load() -> None:
        try:
            import sqlglot.optimizer.scope  # noqa: F401
        except Exception:  # the analysis imports it again and reports what is wrong
            pass

    threading.Thread(target=load, name="perfpack-explain-warm-up", daemon=True).start()


def _table_of(sql: str) -> str | None:
    import re

    match = re.search(r"(?i)\bFROM\s+([A-Za-z_\"][\w.\"]*)", sql)
    return match.group(1).strip('"') if match else None


def detail_dir(root: Path | None) -> Path:
    from perfpack.project import find_project_root, state_dir

    return state_dir(root or find_project_root(), *DETAIL_DIR)


def write_details(root: Path | None, payload: str) -> Path | None:
    """The full result as JSON under .claude/perfpack/explain/ (git-ignored); None if it cannot be written."""
    from perfpack.fsutil import atomic_write_text

    folder = detail_dir(root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            atomic_write_text(
                ignore, "# perfpack explain's details and program logs: local, not for review\n*\n"
            )
        path = folder / "last.json"
        atomic_write_text(path, payload)
        return path
    except OSError:
        return None
