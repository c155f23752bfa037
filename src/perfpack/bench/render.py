"""How bench, compare, baseline and history results read: text for a terminal or an agent, Markdown for a
report, and the JSON data. Every string from outside (commands, names, paths, stderr) goes through
perfpack.terminal.one_line, every Markdown cell through `cell` / `code`; commands are shown redacted
(perfpack.redact), as the identity of a measurement holds them."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from perfpack.bench.units import format_bytes, format_percent, format_seconds
from perfpack.terminal import one_line

if TYPE_CHECKING:
    from perfpack.bench.baseline import Baseline
    from perfpack.bench.commands import BenchResult, CompareResult
    from perfpack.bench.comparison import Comparison
    from perfpack.bench.history import History

fs = format_seconds


def command_text(argv: list[str], limit: int = 100) -> str:
    """A command line as shown, its secrets redacted (perfpack.redact) as the baselines and ledger keep it."""
    from perfpack.redact import redact_argv

    return one_line(shlex.join(redact_argv(argv)), limit=limit)


def cell(value: object) -> str:
    """One Markdown table cell: one line, pipes escaped, no HTML entities (`'` stays `'`)."""
    from perfpack.report import markdown_cell

    return markdown_cell(value)


def code(text: str, limit: int = 100) -> str:
    """Inline code that survives a Markdown table: one line, pipes escaped, a fence longer than any run
    of backticks inside."""
    body = one_line(text, limit=limit).replace("|", "\\|")
    longest = run = 0
    for ch in body:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def interval(ci: list[float] | tuple[float, float] | None, conv: Any = fs) -> str:
    """ "[a – b]", or "" when there is no interval (never a zero-width [x – x] pretending to be one)."""
    if not ci:
        return ""
    return f"[{conv(ci[0])} – {conv(ci[1])}]"


def verdict_line(c: Comparison, *, ratio_name: str = "after/before") -> str:
    v = c.verdict
    line = (
        f"{ratio_name} {v['ratio']:.3f}x ({format_percent(v['ratio'])}), 95% CI [{v['ci'][0]:.3f}, "
        f"{v['ci'][1]:.3f}], p = {v['p_value']:.2g}: {c.shown_verdict()}"
    )
    if v["verdict"] in ("same", "inconclusive"):
        line += f" ({v['reason']})"
    return line


def budget_line(b: dict[str, Any]) -> str:
    """ "p95 923 ms > budget 300 ms: BREACHED" / "p95 212 ms <= budget 300 ms: ok"."""
    conv = format_bytes if b["metric"] == "rss" else fs
    if b["value"] is None:
        return f"{b['metric']} not observed (budget {conv(b['limit'])}): BREACHED (no value to check)"
    sign = "<=" if b["ok"] else ">"
    mark = "ok" if b["ok"] else "BREACHED"
    return f"{b['metric']} {conv(b['value'])} {sign} budget {conv(b['limit'])}: {mark}"


def _side_lines(summary: dict[str, Any], indent: str) -> list[str]:
    w, c, r = summary["wall_s"], summary.get("cpu_s"), summary.get("rss_bytes")
    out = [
        f"{indent}wall   median {fs(w['median'])} {interval(w.get('median_ci'))}   "
        f"mean {fs(w['mean'])} ± {fs(w['stdev'])}".rstrip(),
        f"{indent}       min {fs(w['min'])}   p95 {fs(w['p95'])} {interval(w.get('p95_ci'))}   "
        f"p99 {fs(w['p99'])}   max {fs(w['max'])}",
    ]
    if c:
        out.append(
            f"{indent}cpu    median {fs(c['median'])} {interval(c.get('median_ci'))}  "
            "(user+system of the tree)"
        )
    out.append(
        f"{indent}rss    "
        + (
            f"peak {format_bytes(r['max'])}   median {format_bytes(r['median'])} "
            f"{interval(r.get('median_ci'), format_bytes)}  (whole process tree)"
            if r
            else "not observed (each run ended before the first sample; see docs/bench.md)"
        )
    )
    return out


def _stderr_block(tail: str, indent: str = "    ") -> list[str]:
    return [f"{indent}| {line}" for line in tail.splitlines()]


def comparison_notes(c: Comparison) -> list[str]:
    return list(c.notes)


# ------------------------------------------------------------------ bench
def bench_data(r: BenchResult) -> dict[str, Any]:
    m = r.measurement
    data: dict[str, Any] = {
        "command": m.identity.command,  # redacted (perfpack.redact)
        "shell": r.request.options.shell,
        "name": m.name,
        "identity": m.identity.to_dict(),
        "settings": m.settings,
        "samples": m.samples,
        "summary": r.summary,
        "notes": r.notes,
        "budgets": r.budgets,
        "status": r.status(),
        "failed_runs": r.failed_runs,
    }
    if r.last_stderr:
        data["last_stderr"] = r.last_stderr
    if r.comparison is not None:
        data["comparison"] = {
            **r.comparison.to_dict(),
            "regression": r.regression,
            "stored": str(r.stored) if r.stored else None,
        }
    if r.saved is not None:
        data["saved"] = str(r.saved.path)
    if r.ledger_id:
        data["ledger"] = r.ledger_id
    return data


def bench_text(r: BenchResult) -> str:
    w = r.summary["wall_s"]
    out = [
        f"Benchmark: {command_text(r.request.command)}  ({w['n']} runs, {r.request.options.warmup} warm-up)"
    ]
    out += _side_lines(r.summary, "  ")
    if w["outliers"]:
        out.append(f"  outliers: {w['outliers']} of {w['n']} runs (median absolute deviation)")
    if r.failed_runs:
        out.append(
            f"  failed runs: {r.failed_runs} of {w['n']} (kept: --ignore-failure)"
            + ("; the last one's stderr ended with:" if r.last_stderr else "")
        )
        out += _stderr_block(r.last_stderr)
    if w.get("noisy") and r.comparison is None:
        out.append(f"  note: noisy: {w['noisy']}; close other programs or add runs")
    c = r.comparison
    if c is not None:
        before = c.before
        commit = f", commit {before.commit[:12]}" if before.commit else ""
        out.append(
            f"vs baseline {one_line(repr(c.name))} (saved {before.saved_at} when its run ended{commit}, "
            f"{before.n} runs, "
            f"median {fs(before.summary['wall_s']['median'])}):"
        )
        out.append("  " + verdict_line(c))
        also = _cpu_and_memory(before.summary, c.after.summary)
        if also:
            out.append(f"  {also} (shown, not judged: the verdict is the wall clock's)")
        out += [f"  note: {note}" for note in c.notes if not note.startswith("inconclusive: ")]
    out += [f"note: {note}" for note in r.notes]
    if r.budgets:
        out.append("budgets:")
        out += ["  " + budget_line(b) for b in r.budgets]
    if r.saved is not None:
        out.append(
            f"saved baseline {one_line(repr(r.saved.name))} to {one_line(str(r.saved.path))} "
            f"(every saved run: `perfpack history {r.saved.name}`)"
        )
    out.append(f"result: {r.status()}")
    return "\n".join(out) + "\n"


def _cpu_and_memory(before: dict[str, Any], after: dict[str, Any]) -> str:
    """ "cpu median 740 ms -> 480 ms (-35.2%); peak rss 144.7 MiB -> 14.2 MiB (-90.2%)": what else moved
    between a baseline and this run (a memory fix shows here even when the wall clock did not move)."""
    parts = []
    for key, stat, label, conv in (("cpu_s", "median", "cpu median", fs), ("rss_bytes", "max", "peak rss",
                                                                           format_bytes)):
        then, now = (before.get(key) or {}).get(stat), (after.get(key) or {}).get(stat)
        if then and now:
            parts.append(f"{label} {conv(then)} -> {conv(now)} ({format_percent(now / then)})")
    return "; ".join(parts)


def bench_markdown(r: BenchResult) -> str:
    w = r.summary["wall_s"]
    cpu = r.summary.get("cpu_s")
    rss = r.summary.get("rss_bytes")
    out = [
        f"### {code(shlex.join(r.measurement.identity.command))}",
        "",
        "| runs | min | median (95% CI) | mean | stdev | p95 | p99 | CPU median | peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {w['n']} | {fs(w['min'])} | {fs(w['median'])} {interval(w.get('median_ci'))} | {fs(w['mean'])} | "
        f"{fs(w['stdev'])} | {fs(w['p95'])} | {fs(w['p99'])} | {fs(cpu['median']) if cpu else '—'} | "
        f"{format_bytes(rss['max']) if rss else '—'} |",
    ]
    if w.get("noisy") and r.comparison is None:
        out += ["", f"> note: noisy: {cell(w['noisy'])}"]
    if r.failed_runs and r.last_stderr:
        out += [
            "",
            f"{r.failed_runs} failed run(s); the last one's stderr ended with:",
            "",
            "```",
            *r.last_stderr.splitlines(),
            "```",
        ]
    if r.comparison is not None:
        out += ["", f"vs baseline {code(r.comparison.name or '')}: {cell(verdict_line(r.comparison))}"]
        out += [f"- note: {cell(note)}" for note in r.comparison.notes]
    out += [f"- note: {cell(note)}" for note in r.notes]
    if r.budgets:
        out += ["", "| budget | value | limit | holds |", "|---|---:|---:|---|"]
        for b in r.budgets:
            conv = format_bytes if b["metric"] == "rss" else fs
            out.append(
                f"| {b['metric']} | {conv(b['value'])} | {conv(b['limit'])} | "
                f"{'yes' if b['ok'] else '**no**'} |"
            )
    out += ["", f"result: **{cell(r.status())}**"]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ compare
def compare_data(r: CompareResult) -> dict[str, Any]:
    data = {
        **r.comparison.to_dict(),
        "pairs": r.request.pairs,
        "regression": r.regression,
        "status": compare_status(r),
        "samples": r.samples,
    }
    if r.request.revs:
        data["revisions"] = {
            "a": {"rev": r.request.revs[0], "commit": r.comparison.before.commit, "subject": r.subjects[0]},
            "b": {"rev": r.request.revs[1], "commit": r.comparison.after.commit, "subject": r.subjects[1]},
        }
    if r.stored:
        data["stored"] = str(r.stored)
    if r.ledger_id:
        data["ledger"] = r.ledger_id
    return data


def compare_status(r: CompareResult) -> str:
    return "significant regression (B slower than A)" if r.regression else "ok"


def compare_text(r: CompareResult) -> str:
    c = r.comparison
    if c.mode == "revisions":
        out = [
            f"Revisions compared in temporary worktrees, {r.request.pairs} pairs (randomised AB/BA order): "
            f"{command_text(c.before.command)}"
        ]
    else:
        out = [
            f"Interleaved comparison, {r.request.pairs} pairs (randomised AB/BA order)"
            + (f": {one_line(c.name)}" if c.name else "")
        ]
    for tag, side, subject in (("A", c.before, r.subjects[0]), ("B", c.after, r.subjects[1])):
        if c.mode == "revisions":
            out.append(
                f"  {tag}: {one_line(side.label)}"
                + (f" {one_line(repr(subject), limit=70)}" if subject else "")
            )
        else:
            out.append(f"  {tag}: {command_text(side.command)}")
        out += _side_lines(side.summary, "     ")
    out.append("  " + verdict_line(c, ratio_name="B/A (median of pair ratios)"))
    out += [f"  note: {note}" for note in c.notes if not note.startswith("inconclusive: ")]
    if r.stored:
        out.append(f"stored for `perfpack report`: {one_line(str(r.stored))}")
    out.append(f"result: {compare_status(r)}")
    return "\n".join(out) + "\n"


def compare_markdown(r: CompareResult) -> str:
    c = r.comparison
    out = ["| | what | median (95% CI) | p95 | CPU median | peak RSS |", "|---|---|---:|---:|---:|---:|"]
    for tag, side in (("A", c.before), ("B", c.after)):
        w, cpu, rss = side.summary["wall_s"], side.summary.get("cpu_s"), side.summary.get("rss_bytes")
        what = cell(side.label) if c.mode == "revisions" else code(shlex.join(side.command))
        out.append(
            f"| {tag} | {what} | {fs(w['median'])} {interval(w.get('median_ci'))} | {fs(w['p95'])} | "
            f"{fs(cpu['median']) if cpu else '—'} | {format_bytes(rss['max']) if rss else '—'} |"
        )
    out += ["", "B / A: " + cell(verdict_line(c, ratio_name="median of pair ratios"))]
    out += [f"- note: {cell(note)}" for note in c.notes]
    out += ["", f"result: **{cell(compare_status(r))}**"]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ baselines
def baseline_list_text(items: list[dict[str, Any]]) -> str:
    if not items:
        return "no baselines saved yet (perfpack bench --name NAME --save -- CMD)\n"
    out = []
    for item in items:
        if item.get("error"):
            out.append(f"{item['name']:<24} ERROR {one_line(item['error'], limit=300)}")
            continue
        s = item["summary"] or {}
        out.append(
            f"{item['name']:<24} {item['kind']:<6} median {fs(s.get('median')):>9}  "
            f"p95 {fs(s.get('p95')):>9}  "
            f"n={s.get('n', 0):<5} {item['saved_at']}  {command_text(item['command'], 80)}"
        )
    return "\n".join(out) + "\n"


def baseline_text(b: Baseline) -> str:
    m = b.measurement
    main = b.summary.get(m.metric) or {}
    env = b.environment
    host, py, git = env.get("host", {}), env.get("python", {}), env.get("git", {})
    out = [
        f"Baseline {one_line(repr(b.name))} ({b.kind}, saved {b.saved_at}): "
        f"{command_text(m.identity.command)}",
        f"  {m.metric}: n={main.get('n')}  median {fs(main.get('median'))} "
        f"{interval(main.get('median_ci'))}   "
        f"p95 {fs(main.get('p95'))}   p99 {fs(main.get('p99'))}   min {fs(main.get('min'))}   "
        f"max {fs(main.get('max'))}",
    ]
    if "wall_s" in b.summary and m.metric == "wall_s":
        out = out[:1] + _side_lines(b.summary, "  ")
    ident = m.identity
    out.append(
        f"  identity: cwd {one_line(ident.cwd) if ident.cwd is not None else '(not recorded)'}, "
        f"{'--shell' if ident.shell else 'no shell'}"
        + (
            ", pinned "
            + ", ".join(
                f"{one_line(k)}={one_line(v) if v is not None else '(unset)'}"
                for k, v in sorted(ident.env.items())
            )
            if ident.env
            else ""
        )
    )
    out.append(
        f"  host {one_line(host.get('hostname'))} ({host.get('cpu_count')} CPUs"
        + (f", fingerprint {host['fingerprint']}" if host.get("fingerprint") else "")
        + f"), Python {py.get('version')}, git {git.get('commit') or 'n/a'}"
        + (" (uncommitted changes)" if git.get("dirty") else "")
    )
    for budget in m.budgets:
        out.append("  budget: " + budget_line(budget))
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ history
def history_text(h: History) -> str:
    if not h.records:
        return (
            f"no history for {one_line(repr(h.name))} yet: each "
            f"`perfpack bench --name {one_line(h.name)} --save` "
            "adds one run\n"
        )
    first, last = h.records[0], h.records[-1]
    metric = str(last.get("metric", "wall_s"))
    metric = {"wall_s": "wall time", "latency_s": "latency"}.get(metric, metric)
    medians = [r["median"] for r in h.records]
    out = [
        f"History of {one_line(repr(h.name))}: {len(h.records)} saved run(s), {first.get('saved_at')} to "
        f"{last.get('saved_at')}; {metric} median per run:",
        f"  {h.sparkline()}  {fs(min(medians))} .. {fs(max(medians))}",
    ]
    trend = h.trend_words()
    if trend is not None:
        out.append(
            f"  trend: {trend} "
            f"({len(h.change_points)} change point{'s' if len(h.change_points) != 1 else ''})"
        )
    for point in h.change_points:
        out.append(
            f"  change point at run {point.index + 1} ({point.saved_at}"
            + (f", commit {point.commit[:12]}" if point.commit else "")
            + f"): {fs(point.before)} -> "
            f"{fs(point.after)} ({format_percent(point.ratio)})"
        )
        out += [f"    note: {mark}" for mark in point.marks]
    out.append("  run  saved                 commit        median     p95        cpu        peak rss   host")
    shown = h.records[-20:]
    offset = len(h.records) - len(shown)
    marks = {p.index for p in h.change_points}
    for i, r in enumerate(shown, offset):
        flag = "*" if i in marks else " "
        out.append(
            f" {flag}{i + 1:>3}  {one_line(r.get('saved_at'), limit=20):<20}  "
            f"{(r.get('commit') or '')[:12]:<12}  {fs(r['median']):>9}  {fs(r.get('p95')):>9}  "
            f"{fs(r.get('cpu_s')):>9}  {format_bytes(r.get('rss_bytes')):>9}  "
            f"{one_line(r.get('host') or '?')}"
        )
    if offset:
        out.append(f"  ({offset} older run(s) not shown; --format json has them all)")
    if h.change_points:
        out.append("  * = first run after a change point")
    out += [f"  skipped: {line}" for line in h.skipped[:5]]
    return "\n".join(out) + "\n"


def history_markdown(h: History, chart: str | None = None) -> str:
    out = [f"### {cell(h.name)}", ""]
    if not h.records:
        return "\n".join(out + ["No saved runs yet."]) + "\n"
    trend = h.trend_words()
    if trend is not None:
        out.append(f"{len(h.records)} saved runs; {trend}; {len(h.change_points)} change point(s).")
    else:  # one run: no trend yet, but say what there is instead of an empty heading
        only = h.records[-1]
        again = "load URL" if only.get("kind") == "load" else "bench"  # what saved it saves the next one
        out.append(
            f"1 saved run ({cell(only.get('saved_at') or '?')}): median {fs(only.get('median'))}; "
            f"a trend and its chart need a second `perfpack {again} --name {cell(h.name)} --save --force`."
        )
    for point in h.change_points:
        out.append(
            f"- change at run {point.index + 1} ({cell(point.saved_at)}"
            + (f", commit `{point.commit[:12]}`" if point.commit else "")
            + f"): {fs(point.before)} → {fs(point.after)} ({format_percent(point.ratio)})"
            + "".join(f"; {cell(mark)}" for mark in point.marks)
        )
    if chart:
        out += ["", f"![{cell(h.name)}: median per saved run]({chart})"]
    return "\n".join(out) + "\n"


def history_data(h: History) -> dict[str, Any]:
    return {
        "name": h.name,
        "records": h.records,
        "trend": h.trend,
        "skipped": h.skipped,
        "change_points": [
            {
                "index": p.index,
                "run": p.index + 1,
                "before": p.before,
                "after": p.after,
                "ratio": p.ratio,
                "saved_at": p.saved_at,
                "commit": p.commit,
                "marks": p.marks,
            }
            for p in h.change_points
        ],
    }
