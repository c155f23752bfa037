"""The short text summary of an explain Result (at most ~2 KB: details go to a file)."""

from __future__ import annotations

from perfpack.explain.core import Result
from perfpack.explain.util import one_line

TEXT_LIMIT = 2048
SQL_WIDTH = 110


def _sql(text: str) -> str:
    return one_line(" ".join(text.split()), limit=SQL_WIDTH)


def _ms(value: float | None) -> str:
    if value is None:
        return "?"
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 1:
        return f"{value:.1f} ms"
    return f"{value:.3f} ms"


def summary(result: Result, details: str | None, limit: int = TEXT_LIMIT) -> str:
    runs = sum(s.count for s in result.statements)
    total = sum(s.total_ms or 0 for s in result.statements)
    head = (f"perfpack explain: {one_line(result.target, limit=120)} ({result.engine}): "
            f"{len(result.statements)} statement shape(s)")
    if result.capture is not None:
        head += f", {runs:,} run(s), {_ms(total)} in the database"
    lines = [head]
    if result.capture and result.capture.get("note"):
        lines.append("  " + result.capture["note"])
    sugg = result.suggestions()
    tail = [f"details: {details}"] if details else []
    sections: list[tuple[str, list[str]]] = []
    if sugg:
        how = "built on a copy and timed, kept if >= 2x faster" if result.measured else \
            "the planner would use it; prove it with --try-indexes"
        items = []
        for st in sugg:
            s = st.suggestion
            assert s is not None
            first = "; ".join(s.ddl)
            if s.speedup is not None:
                first += f"   {_ms(s.before_ms)}{'+' if s.before_capped else ''} -> {_ms(s.after_ms)} " \
                         f"({s.speedup:,.0f}x)"
            runs_note = f" [x{st.count:,}]" if result.capture is not None else ""
            items.append(f"  {first}\n      for {_sql(st.sql)}{runs_note}")
        sections.append((f"Needs an index ({len(sugg)}; {how}):", items))
    if result.n_plus_one:
        items = [f"  x{n.count:,} {_sql(n.sql)}" + (f"  at {one_line(n.site, limit=80)}" if n.site else "")
                 + (f" ({n.loops} loops)" if n.loops > 1 else "")
                 for n in result.n_plus_one]
        sections.append((f"N+1 candidates ({len(result.n_plus_one)}; fetch them in one query: IN (...) or a JOIN):",
                         items))
    left = [st for st in result.statements if st.suggestion is None and st.full_scans]
    if left:
        items = []
        for st in left:
            reads = ", ".join(f"{s.table or s.alias} ({s.rows:,} rows)" if s.rows is not None else (s.table or s.alias)
                              for s in st.full_scans)
            why = st.notes[0] if st.notes else ""
            items.append(f"  {_sql(st.sql)}\n      reads {one_line(reads, limit=100)}"
                         + (f": {one_line(why, limit=140)}" if why else ""))
        sections.append((f"Full reads with no index to suggest ({len(left)}):", items))
    if not sugg and not result.n_plus_one and not left and result.statements:
        lines.append("No full read of a table and no N+1 loop.")
    used = len("\n".join(lines + tail)) + 1
    for title, items in sections:
        block = [title]
        cost = len(title) + 1
        shown = 0
        for item in items:
            need = len(item) + 1
            if used + cost + need + 60 > limit:
                break
            block.append(item)
            cost += need
            shown += 1
        if shown < len(items):
            block.append(f"  ... {len(items) - shown} more in the details file")
            cost += len(block[-1]) + 1
        if used + cost > limit:
            break
        lines += block
        used += cost
    return "\n".join(lines + tail) + "\n"
