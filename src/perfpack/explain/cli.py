"""Click command `perfpack explain`: arguments in, command.run(), the report out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from perfpack.errors import PerfpackError
from perfpack.report import format_choices

_CTX = {"help_option_names": ["-h", "--help"], "max_content_width": 100, "allow_interspersed_args": False}


@click.command("explain", context_settings=_CTX)
@click.option(
    "--db",
    "db",
    required=True,
    metavar="TARGET",
    help="A SQLite file (opened read-only) or a postgresql:// URL.",
)
@click.option("--sql", default=None, help="The statement(s) to explain, separated by ';'.")
@click.option("--sql-file", default=None, metavar="FILE", help="Read the statements from FILE.")
@click.option(
    "--capture",
    is_flag=True,
    help="Run the program after `--` and explain every statement it sends to TARGET.",
)
@click.option(
    "--try-indexes",
    is_flag=True,
    help="Build each suggested index where it harms nothing (a copy of the SQLite file; a "
    "transaction rolled back on PostgreSQL), time the statement before and after, keep "
    "only those that search instead of scan and are --min-speedup times faster.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(format_choices("text", "json", "github", "sarif")),
    default="text",
    show_default=True,
    help="text: a summary of at most 2 KB; json: everything.",
)
@click.option(
    "--min-rows",
    type=click.IntRange(0),
    default=1000,
    show_default=True,
    help="Tables with fewer rows are never given an index.",
)
@click.option(
    "--min-speedup",
    type=click.FloatRange(1.0),
    default=2.0,
    show_default=True,
    help="--try-indexes keeps a suggestion only this many times faster.",
)
@click.option(
    "--n-plus-one",
    "nplus1_min",
    type=click.IntRange(2),
    default=5,
    show_default=True,
    help="Runs of one single-row SELECT in one loop that make an N+1 candidate.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0, min_open=True),
    default=600.0,
    show_default=True,
    help="Seconds the captured program may run; then it is stopped (exit 2).",
)
@click.option(
    "--show-output",
    is_flag=True,
    help="Let the captured program write to stderr (default: .claude/perfpack/explain/program.log).",
)
@click.option(
    "--project",
    type=click.Path(file_okay=False),
    default=None,
    help="Project folder for the details file and the ledger [default: found from the cwd].",
)
@click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="[-- CMD [ARG...]]")
def explain(
    db: str,
    sql: str | None,
    sql_file: str | None,
    capture: bool,
    try_indexes: bool,
    fmt: str,
    min_rows: int,
    min_speedup: float,
    nplus1_min: int,
    timeout: float,
    show_output: bool,
    project: str | None,
    command: tuple[str, ...],
) -> int:
    """Each statement's plan, the tables it reads in full, and the index that would fix it.

    \b
      perfpack explain --db app.db --sql "SELECT * FROM orders WHERE customer_id = 42"
      perfpack explain --db app.db --try-indexes --capture -- python manage.py report
      perfpack explain --db postgresql://me@localhost/shop --sql-file slow.sql --format json

    With --capture the program runs (no shell) and every statement it sends is counted per shape
    (literals as ?), timed, and explained; single-row SELECTs repeated inside one loop are reported
    as N+1 candidates. Python programs are recorded from the inside (sqlite3, psycopg, psycopg2);
    other programs on PostgreSQL through pg_stat_statements, or the server's log when it already logs
    every statement.

    Nothing in the database is changed: SQLite files are opened read-only, PostgreSQL sessions are
    read-only, and --try-indexes works on a copy or inside a transaction that is rolled back.

    Exit codes: 0 nothing to fix, 1 an index to add or an N+1 loop, 2 bad input (malformed SQL,
    missing database, refused connection, a program that fails).
    """
    from perfpack.explain.command import Request, run, write_details
    from perfpack.explain.core import Options
    from perfpack.project import project_from_option

    if command and not capture:
        raise PerfpackError("a program after `--` needs --capture")
    if capture and not command:
        raise PerfpackError(
            "--capture needs the program after `--`", hint="perfpack explain --db D --capture -- CMD"
        )
    root = project_from_option(project)
    opts = Options(min_rows=min_rows, try_indexes=try_indexes, min_speedup=min_speedup, nplus1_min=nplus1_min)
    req = Request(
        db=db,
        sql=sql,
        sql_file=sql_file,
        capture=list(command),
        options=opts,
        timeout=timeout,
        show_output=show_output,
        root=root,
    )
    result = run(req)
    import json

    from perfpack.explain.render import report
    from perfpack.report import render

    details = write_details(root, json.dumps(result.to_json(), indent=1, ensure_ascii=False))
    if try_indexes or capture:
        _ledger(root, result, db, sys.argv[1:] if sys.argv else [])
    rep = report(result, fmt, _show(details, root))
    sys.stdout.write(render(rep, fmt) + "\n")
    return rep.exit_code(strict=True)


def _show(path: Path | None, root: Path) -> str | None:
    """The details file as a path that opens from where the user is: relative to the current folder when
    it is below it, else absolute (a path relative to the project misleads in a sub-folder or with
    --project)."""
    import os

    if path is None:
        return None
    here = Path(os.getcwd())
    try:
        return str(path.resolve().relative_to(here.resolve()))
    except (ValueError, OSError):
        return str(path)


def _ledger(root: Path, result: Any, db: str, argv: list[str]) -> None:
    """What explain printed goes to the project's ledger (what `perfpack evidence` checks): every measured
    suggestion (--try-indexes), one record per statement; and with --capture the times the program's
    statements took ("x60, 1,925 ms" per statement, "1,926 ms in the database" in all) in one record."""
    from perfpack import ledger

    # the URL may carry a password: the ledger gets the redacted form
    argv = [result.target if a == db else (f"--db={result.target}" if a == f"--db={db}" else a) for a in argv]
    if result.capture is not None:
        timed = [st for st in result.statements if st.total_ms is not None]
        in_db = round(sum(st.total_ms or 0 for st in timed), 4)
        totals = [ledger.figure("total", in_db, "ms", of="time in the database, every statement",
                                runs=sum(st.count for st in timed))]
        totals += [ledger.figure("total", round(st.total_ms or 0, 4), "ms", of="time in the database",
                                 runs=st.count, sql=st.sql[:300]) for st in timed]
        ledger.record(root, kind="explain", name="captured statements", command=["perfpack", *argv],
                      figures=totals, extra={"target": result.target})
    for st in result.statements:
        s = st.tried
        if s is None or s.speedup is None or s.before_ms is None or s.after_ms is None:
            continue
        # one record per statement: its before and after are a pair `evidence` turns into the change
        figures = [
            ledger.figure("median", round(s.before_ms, 4), "ms", side="before", lower_bound=s.before_capped),
            ledger.figure("median", round(s.after_ms, 4), "ms", side="after"),
            ledger.figure("speedup", round(s.speedup, 2), "x", lower_bound=s.before_capped),
        ]
        ledger.record(root, kind="explain", name=st.sql[:300], command=["perfpack", *argv], figures=figures,
                      extra={"target": result.target, "ddl": "; ".join(s.ddl), "kept": st.suggestion is s})
