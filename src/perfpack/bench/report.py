"""The Markdown performance report (baselines, before/after comparisons, budgets) and its hand-written SVG chart."""

from __future__ import annotations

import shlex
import time
from html import escape
from pathlib import Path
from typing import Any, Sequence

from perfpack.bench.baseline import list_baselines, list_comparisons
from perfpack.bench.budgets import Budget, format_bytes, format_seconds as fs


def _pct(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.1f}%"


def build_report(root: Path, *, limits: Sequence[Budget] = (), limit: int = 10,
                 chart_name: str | None = None) -> tuple[str, str | None]:
    """(Markdown text, SVG text or None). The SVG is referenced as `chart_name` when given."""
    baselines = list_baselines(root)
    comparisons = list_comparisons(root, limit=limit)
    lines = ["# Performance report", "", f"Project: `{root}`  ", f"Generated: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", ""]

    lines += ["## Before / after", ""]
    if comparisons:
        lines += ["| comparison | before (median, 95% CI) | after (median, 95% CI) | change | ratio 95% CI | p | verdict |",
                  "|---|---:|---:|---:|---:|---:|---|"]
        for c in comparisons:
            b, a, v = c["before"]["summary"]["wall_s"], c["after"]["summary"]["wall_s"], c["verdict"]
            lines.append(f"| {escape(c['label'])} ({c['mode']}) | {fs(b['median'])} [{fs(b['median_ci'][0])} – "
                         f"{fs(b['median_ci'][1])}] | {fs(a['median'])} [{fs(a['median_ci'][0])} – "
                         f"{fs(a['median_ci'][1])}] | {_pct(v['ratio'])} | {v['ci'][0]:.3f} – {v['ci'][1]:.3f} | "
                         f"{v['p_value']:.3g} | **{v['verdict']}** |")
        lines += ["", "Change = ratio after/before − 1 (interleaved comparisons: median of pair ratios). A verdict "
                  "needs p < 0.05 (Mann–Whitney U), a ratio interval excluding 1, and the minimum effect.", ""]
        if chart_name:
            lines += [f"![before/after medians with 95% intervals]({chart_name})", ""]
        p95_rows = [(c["label"], c["before"]["summary"]["wall_s"]["p95"], c["after"]["summary"]["wall_s"]["p95"])
                    for c in comparisons]
        lines += ["| comparison | p95 before | p95 after | change |", "|---|---:|---:|---:|"]
        for label, before, after in p95_rows:
            lines.append(f"| {escape(label)} | {fs(before)} | {fs(after)} | {_pct(after / before) if before else '—'} |")
        lines.append("")
    else:
        lines += ["No comparisons stored yet (`perfpack compare -- A --vs B`, or `perfpack bench --name NAME` "
                  "against a saved baseline).", ""]

    lines += ["## Baselines", ""]
    if baselines:
        lines += ["| name | command | runs | median | p95 | p99 | saved |", "|---|---|---:|---:|---:|---:|---|"]
        for item in baselines:
            if item.get("error"):
                lines.append(f"| {item['name']} | **unreadable**: {escape(item['error'][:120])} | | | | | |")
                continue
            s = item["summary"]
            lines.append(f"| {item['name']} | `{shlex.join(item['command'])}` | {s['n']} | {fs(s['median'])} | "
                         f"{fs(s['p95'])} | {fs(s['p99'])} | {item['saved_at']} |")
        lines.append("")
    else:
        lines += ["No baselines saved yet (`perfpack bench --name NAME --save -- CMD`).", ""]

    lines += ["## Budgets", ""]
    budget_rows = _budget_rows(root, baselines, comparisons, limits)
    if budget_rows:
        lines += ["| where | budget | value | holds |", "|---|---|---:|---|"]
        for where, b in budget_rows:
            conv = format_bytes if b["metric"] == "rss" else fs
            lines.append(f"| {escape(where)} | {b['metric']} ≤ {conv(b['limit'])} | {conv(b['value'])} | "
                         f"{'yes' if b['ok'] else '**NO**'} |")
        held = sum(1 for _, b in budget_rows if b["ok"])
        lines += ["", f"{held} of {len(budget_rows)} budget checks hold.", ""]
    else:
        lines += ["No budgets recorded (`--budget p95=300ms`, `--budget-preset kpi`).", ""]
    svg = before_after_svg(comparisons) if (comparisons and chart_name) else None
    return "\n".join(lines), svg


def _budget_rows(root: Path, baselines: list[dict], comparisons: list[dict],
                 limits: Sequence[Budget]) -> list[tuple[str, dict]]:
    from perfpack.bench.baseline import load_baseline
    from perfpack.errors import PerfpackError

    rows: list[tuple[str, dict]] = []
    for item in baselines:
        if item.get("error"):
            continue
        try:
            data = load_baseline(root, item["name"])
        except PerfpackError:
            continue
        checks = [b.check(data["summary"]) for b in limits] if limits else data.get("budgets", [])
        rows += [(f"baseline {item['name']}", b) for b in checks]
    if not limits:
        for c in comparisons:
            rows += [(f"{c['label']} (after)", b) for b in c.get("budgets", [])]
    else:
        for c in comparisons:
            rows += [(f"{c['label']} (after)", b.check(c["after"]["summary"])) for b in limits
                     if b.metric != "rss" or c["after"]["summary"].get("rss_bytes")]
    return rows


def before_after_svg(comparisons: Sequence[dict[str, Any]]) -> str:
    """Grouped bars (before grey, after blue/red) of median wall time per comparison, with 95 % CI whiskers."""
    width, row_h, left, right = 760, 46, 230, 90
    height = 40 + row_h * len(comparisons) + 30
    top = 40
    highest = max(max(c["before"]["summary"]["wall_s"]["median_ci"][1], c["after"]["summary"]["wall_s"]["median_ci"][1])
                  for c in comparisons) or 1.0
    scale = (width - left - right) / highest
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{left}" y="20" font-size="14" font-weight="bold">Median wall time, before vs after '
             f'(whiskers: 95% CI)</text>']
    for i, c in enumerate(comparisons):
        y = top + i * row_h
        label = c["label"] if len(c["label"]) <= 34 else c["label"][:33] + "…"
        parts.append(f'<text x="{left - 8}" y="{y + 22}" text-anchor="end">{escape(label)}</text>')
        colour_after = {"slower": "#d62728", "faster": "#2ca02c"}.get(c["verdict"]["verdict"], "#1f77b4")
        for j, (side, colour) in enumerate((("before", "#999999"), ("after", colour_after))):
            s = c[side]["summary"]["wall_s"]
            by = y + 4 + j * 18
            w = max(1.0, s["median"] * scale)
            lo, hi = left + s["median_ci"][0] * scale, left + s["median_ci"][1] * scale
            parts.append(f'<rect x="{left}" y="{by}" width="{w:.1f}" height="14" fill="{colour}"/>')
            parts.append(f'<line x1="{lo:.1f}" y1="{by + 7}" x2="{hi:.1f}" y2="{by + 7}" stroke="black"/>')
            for x in (lo, hi):
                parts.append(f'<line x1="{x:.1f}" y1="{by + 3}" x2="{x:.1f}" y2="{by + 11}" stroke="black"/>')
            parts.append(f'<text x="{max(hi, left + w) + 6:.1f}" y="{by + 11}">{side} {fs(s["median"])}</text>')
        parts.append(f'<text x="{width - 8}" y="{y + 22}" text-anchor="end" font-weight="bold">'
                     f'{_pct(c["verdict"]["ratio"])}</text>')
    axis_y = top + row_h * len(comparisons) + 4
    parts.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#444"/>')
    for k in range(5):
        value = highest * k / 4
        x = left + value * scale
        parts.append(f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 4}" stroke="#444"/>')
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle">{fs(value) if k else "0"}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
