"""`perfpack report`: the Markdown performance report (comparisons with every caveat, history with change
points, baselines, budgets) and its SVG charts, as a plain function: build_report(ReportRequest)."""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfpack.bench.budgets import Budget, format_bytes, parse_budgets
from perfpack.bench.budgets import format_seconds as fs
from perfpack.bench.render import cell, code, interval
from perfpack.bench.units import format_percent
from perfpack.exitcodes import ExitCode
from perfpack.terminal import one_line

if TYPE_CHECKING:
    from perfpack.bench.comparison import Comparison
    from perfpack.bench.history import History
    from perfpack.report import Report


@dataclass
class ReportRequest:
    project: str | None = None
    out: str | None = None  # Markdown file; the charts are written beside it
    budgets: list[str] = field(default_factory=list)
    presets: list[str] = field(default_factory=list)
    limit: int = 10


@dataclass
class ReportResult:
    markdown: str
    charts: dict[str, str]  # file name -> SVG
    written: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    exit_code: int = ExitCode.OK

    def to_report(self) -> Report:
        from perfpack.report import Report

        text = (
            ("wrote " + ", ".join(one_line(str(p)) for p in self.written) + "\n")
            if self.written
            else self.markdown
        )
        return Report(
            command="report",
            text=text,
            markdown=self.markdown,
            data={
                "written": [str(p) for p in self.written],
                "charts": sorted(self.charts),
                "skipped": self.skipped,
                "markdown": self.markdown,
            },
        )


def _when(stamp: str | None) -> str:
    return (stamp or "").replace("T", " ").replace("Z", "")[:16]


def _change(c: Comparison, metric: str, key: str, conv: Any) -> str:
    b, a = c.before.summary.get(metric), c.after.summary.get(metric)
    if not b or not a:
        return "—"
    return f"{conv(b[key])} → {conv(a[key])}"


def comparisons_section(comparisons: list[Comparison], chart: str | None) -> list[str]:
    lines = ["## Before / after", ""]
    if not comparisons:
        return lines + [
            "No comparisons stored yet (`perfpack compare -- A --vs B`, `perfpack compare --rev A --rev B "
            "-- CMD`, or `perfpack bench --name NAME` against a saved baseline).",
            "",
        ]
    lines += [
        "| comparison | when | before: median (95% CI) | after: median (95% CI) | change | ratio 95% CI | p "
        "| verdict | CPU median | peak RSS |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for c in comparisons:
        b, a, v = c.before.summary[c.metric], c.after.summary[c.metric], c.verdict
        lines.append(
            f"| {cell(c.label)} ({c.mode}) | {_when(c.saved_at)} | "
            f"{fs(b['median'])} {interval(b.get('median_ci'))} | "
            f"{fs(a['median'])} {interval(a.get('median_ci'))} | {format_percent(v['ratio'])} | "
            f"{v['ci'][0]:.3f} – {v['ci'][1]:.3f} | {v['p_value']:.2g} | "
            f"**{cell(c.shown_verdict().lower())}** | "
            f"{_change(c, 'cpu_s', 'median', fs)} | {_change(c, 'rss_bytes', 'max', format_bytes)} |"
        )
    lines += [
        "",
        "Change = ratio after/before − 1 (interleaved and revision comparisons: median of pair ratios). "
        "Faster or slower needs a ratio interval excluding 1, the minimum effect and p < 0.05 "
        "(Mann–Whitney U); same needs the interval within the minimum "
        "effect; anything else is **inconclusive**, never a direction.",
        "",
    ]
    noted = [(c, note) for c in comparisons for note in c.notes]
    if noted:
        lines += ["Notes on these comparisons:", ""]
        lines += [f"- **{cell(c.label)}** ({_when(c.saved_at)}): {cell(note)}" for c, note in noted]
        lines.append("")
    if chart:
        lines += [f"![before/after: wall time box plots, CPU and peak RSS]({chart})", ""]
    lines += ["| comparison | when | p95 before | p95 after | change |", "|---|---|---:|---:|---:|"]
    for c in comparisons:
        before, after = c.before.summary[c.metric]["p95"], c.after.summary[c.metric]["p95"]
        lines.append(
            f"| {cell(c.label)} | {_when(c.saved_at)} | {fs(before)} | {fs(after)} | "
            f"{format_percent(after / before) if before else '—'} |"
        )
    return lines + [""]


def history_section(histories: list[History], charts: dict[str, str]) -> list[str]:
    from perfpack.bench.render import history_markdown

    lines = ["## History", ""]
    if not histories:
        return lines + [
            "No saved runs yet (each `perfpack bench --name NAME --save` adds one to "
            "`.claude/perfpack/history/NAME.jsonl`).",
            "",
        ]
    for h in histories:
        lines += [history_markdown(h, charts.get(h.name)).rstrip("\n"), ""]
    return lines


def baselines_section(baselines: list[dict[str, Any]]) -> list[str]:
    lines = ["## Baselines", ""]
    if not baselines:
        return lines + ["No baselines saved yet (`perfpack bench --name NAME --save -- CMD`).", ""]
    lines += [
        "| name | kind | command | runs | median | p95 | p99 | saved | commit |",
        "|---|---|---|---:|---:|---:|---:|---|---|",
    ]
    for item in baselines:
        if item.get("error"):
            lines.append(
                f"| {cell(item['name'])} | | **unreadable**: {cell(one_line(item['error'], limit=160))} "
                "| | | | | | |"
            )
            continue
        s = item["summary"] or {}
        lines.append(
            f"| {cell(item['name'])} | {item['kind']} | {code(shlex.join(item['command']))} | "
            f"{s.get('n', '—')} | {fs(s.get('median'))} | {fs(s.get('p95'))} | {fs(s.get('p99'))} | "
            f"{_when(item['saved_at'])} | {(item.get('commit') or '')[:12]} |"
        )
    return lines + [""]


def budget_rows(
    root: Path, baselines: list[dict[str, Any]], comparisons: list[Comparison], limits: list[Budget]
) -> list[tuple[str, dict[str, Any]]]:
    from perfpack.bench.baseline import load
    from perfpack.errors import PerfpackError

    rows: list[tuple[str, dict[str, Any]]] = []
    for item in baselines:
        if item.get("error") or item.get("kind") != "bench":
            continue
        try:
            data = load(root, item["name"])
        except PerfpackError:
            continue
        checks = [b.check(data.summary) for b in limits] if limits else data.measurement.budgets
        rows += [(f"baseline {item['name']}", b) for b in checks]
    if limits:
        for c in comparisons:
            rows += [
                (f"{c.label} (after, {_when(c.saved_at)})", b.check(c.after.summary))
                for b in limits
                if b.metric != "rss" or c.after.summary.get("rss_bytes")
            ]
    return rows


def budgets_section(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    lines = ["## Budgets", ""]
    if not rows:
        return lines + ["No budgets recorded (`--budget p95=300ms`, `--budget-preset kpi`).", ""]
    lines += ["| where | budget | value | holds |", "|---|---|---:|---|"]
    for where, b in rows:
        conv = format_bytes if b["metric"] == "rss" else fs
        lines.append(
            f"| {cell(where)} | {b['metric']} ≤ {conv(b['limit'])} | {conv(b['value'])} | "
            f"{'yes' if b['ok'] else '**no**'} |"
        )
    held = sum(1 for _, b in rows if b["ok"])
    return lines + ["", f"{held} of {len(rows)} budget checks hold.", ""]


def build_report(request: ReportRequest) -> ReportResult:
    """Read baselines, history and stored comparisons of a project; write the report when `out` is given."""
    from perfpack.bench import charts
    from perfpack.bench.baseline import list_baselines, write_text
    from perfpack.bench.commands import project_root
    from perfpack.bench.comparison import list_stored
    from perfpack.bench.history import names, read_history

    limits = parse_budgets(list(request.budgets), list(request.presets))
    root = project_root(request.project)
    baselines = list_baselines(root)
    comparisons, skipped = list_stored(root, limit=request.limit)
    histories = []
    for name in names(root):
        h = read_history(root, name)
        skipped += h.skipped
        if h.records:
            histories.append(h)
    out = Path(request.out) if request.out else None
    chart_files: dict[str, str] = {}
    compare_chart = trend_charts = None
    if out is not None:
        if comparisons:
            compare_chart = out.with_suffix(".svg").name
            chart_files[compare_chart] = charts.before_after_svg(comparisons)
        trend_charts = {}
        for h in histories:
            if len(h.records) >= 2:
                trend_charts[h.name] = f"{out.stem}-trend-{h.name}.svg"
                chart_files[trend_charts[h.name]] = charts.trend_svg(h)
    lines = [
        "# Performance report",
        "",
        f"Project: {code(str(root), 200)}  ",
        f"Generated: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
    ]
    lines += comparisons_section(comparisons, compare_chart)
    lines += history_section(histories, trend_charts or {})
    lines += baselines_section(baselines)
    lines += budgets_section(budget_rows(root, baselines, comparisons, limits))
    if skipped:
        lines += ["## Skipped", ""] + [f"- {cell(line)}" for line in skipped[:20]] + [""]
    markdown = "\n".join(lines)
    result = ReportResult(markdown=markdown, charts=chart_files, skipped=skipped)
    if out is not None:
        write_text(out, markdown)
        result.written.append(out)
        for file_name, svg in chart_files.items():
            write_text(out.parent / file_name, svg)
            result.written.append(out.parent / file_name)
    return result
