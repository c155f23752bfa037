"""An explain Result as the shared Report: one finding per index to add and per N+1 loop, each at the
program line that sent the statement (or the statement's place in the SQL given), and a short summary.

Text stays within TEXT_LIMIT bytes (what an agent reads); the json, github and sarif formats carry every
finding, and the details file has everything.
"""

from __future__ import annotations

from typing import Any

from perfpack.explain import rules
from perfpack.explain.core import Result
from perfpack.explain.model import Statement
from perfpack.findings import Finding
from perfpack.report import Report, render
from perfpack.terminal import one_line

TEXT_LIMIT = 2048
SQL_WIDTH = 100


def _sql(text: str, width: int = SQL_WIDTH) -> str:
    return one_line(" ".join(text.split()), limit=width)


def _ms(value: float | None) -> str:
    if value is None:
        return "?"
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 1:
        return f"{value:.1f} ms"
    return f"{value:.3f} ms"


def _reads(st: Statement) -> str:
    return ", ".join(
        f"{s.table or s.alias} ({s.rows:,} rows)" if s.rows is not None else (s.table or s.alias)
        for s in st.full_scans
    )


def _times(speedup: float) -> str:
    """"2.7x", "26x", "5,455x": two significant digits at least ("3x" for 2.69 overstated it by 12 %)."""
    return f"{speedup:.2g}x" if speedup < 10 else f"{speedup:,.0f}x"


def findings(result: Result) -> list[Finding]:
    out = []
    for st in result.suggestions():
        sug = st.suggestion
        assert sug is not None
        path, line = st.location()
        runs = f" x{st.count:,}, {_ms(st.total_ms)}" if result.capture is not None else ""
        message = f"reads {_reads(st)} in full: `{_sql(st.sql)}`{runs}"
        if sug.speedup is not None:
            # stopped at the time cap, the statement without the index would have taken longer still
            least = "at least " if sug.before_capped else ""
            message += (
                f"; with the index {_ms(sug.before_ms)}{'+' if sug.before_capped else ''} -> "
                f"{_ms(sug.after_ms)} ({least}{_times(sug.speedup)}, measured)"
            )
        else:
            message += "; the planner would search with the index (not measured: --try-indexes)"
        out.append(rules.MISSING_INDEX.finding(path, line, 1, message, fix="; ".join(sug.ddl)))
    for loop in result.n_plus_one:
        where, _, number = (loop.site or "").rpartition(":")
        if not where or not number.isdigit():
            where, number = "sql", "1"
        loops = f" in {loop.loops} loops" if loop.loops > 1 else " in one loop"
        message = f"`{_sql(loop.sql)}` ran {loop.count:,} times{loops}, one row each"
        out.append(rules.N_PLUS_ONE.finding(where, int(number), 1, message))
    return out


def summary(result: Result, details: str | None, shown: int, total: int, *, brief: bool = False) -> str:
    runs = sum(s.count for s in result.statements)
    in_db = sum(s.total_ms or 0 for s in result.statements)
    head = (
        f"perfpack explain: {one_line(result.target, limit=120)} ({result.engine}): "
        f"{len(result.statements)} statement shape(s)"
    )
    if result.capture is not None:
        head += f" from {runs:,} run(s), {_ms(in_db)} in the database"
        if result.capture.get("method") == "python":  # timed around the driver's calls, not by the server
            head += " as the program waited for it (round trips and fetches included)"
    lines = [head]
    if result.capture and result.capture.get("note"):
        lines.append("  " + one_line(result.capture["note"]))
    suggested, loops = result.suggestions(), len(result.n_plus_one)
    if suggested:
        how = (
            "built where it harms nothing, timed, kept only if it searches and is "
            f"{result.min_speedup:g}x faster"
            if result.measured
            else "checked by the planner; prove them with --try-indexes"
        )
        # a statement's fix may need an index on each of two tables: count the indexes, not the statements
        indexes = len({ddl for st in suggested if st.suggestion for ddl in st.suggestion.ddl})
        shapes = f" for {len(suggested)} statement shape(s)" if len(suggested) != indexes else ""
        lines.append(f"{indexes} index(es) to add{shapes} ({how}).")
    if loops:
        lines.append(f"{loops} N+1 loop(s): fetch those rows in one query.")
    if shown < total:
        lines.append(f"({total - shown} more finding(s) in the details file)")
    unserved = [st for st in result.statements if st.suggestion is None and st.full_scans]
    # an index built, timed and not kept is not "no index to suggest" (corpus33): its own heading
    tried = [st for st in unserved if st.tried is not None]
    untried = [st for st in unserved if st.tried is None]
    for heading, left in (("Indexes tried and not kept", tried),
                          ("Full reads with no index to suggest", untried)):
        if left and brief:  # findings come first when they do not all fit
            lines.append(f"{heading}: {len(left)} (why: in the details file)")
        elif left:
            lines.append(f"{heading} ({len(left)}):")
            for st in left[:3]:
                notes = st.notes[::-1] if st.tried is not None else st.notes  # the timing's note is last
                why = notes[0] if notes else ""
                lines.append(
                    f"  {_sql(st.sql, 80)} reads {one_line(_reads(st), limit=60)}"
                    + (f": {one_line(why, limit=240)}" if why else "")
                )
            if len(left) > 3:
                lines.append(f"  ... {len(left) - 3} more in the details file")
    if not suggested and not loops and not unserved and result.statements:
        lines.append("No full read of a table and no N+1 loop.")
    if details:
        lines.append(f"details: {details}")
    return "\n".join(lines)


def report(result: Result, fmt: str, details: str | None, limit: int = TEXT_LIMIT) -> Report:
    """The Report to render: every finding for machine formats; for text, as many as fit in `limit`."""
    every = findings(result)
    data: dict[str, Any] = result.to_json()
    if fmt != "text":
        return Report("explain", every, data=data, text=summary(result, details, len(every), len(every)))
    # when not all fit, the busiest N+1 loop is kept next to the costliest missing index: one of each kind
    loops = [f for f in every if f.rule == rules.N_PLUS_ONE.id]
    if loops and len(loops) < len(every):
        rest = [f for f in every if f is not loops[0]]
        every = rest[:1] + loops[:1] + rest[1:]
    # every finding with the full summary; else the short summary and as many findings as fit
    for shown, brief in [(len(every), False)] + [(n, True) for n in range(len(every), -1, -1)]:
        candidate = Report(
            "explain", every[:shown], data=data, text=summary(result, details, shown, len(every), brief=brief)
        )
        if shown == 0 or len(render(candidate, "text").encode("utf-8")) + 1 <= limit:
            break
    return candidate
