"""Text, JSON and Markdown output of bench and compare results (one function per format)."""

from __future__ import annotations

import json
import shlex
from typing import Any

from perfpack.bench.budgets import format_bytes, format_seconds

fs = format_seconds


def _ci(ci: list[float] | tuple[float, float]) -> str:
    return f"[{fs(ci[0])} – {fs(ci[1])}]"


def _verdict_line(v: dict[str, Any]) -> str:
    pct = (v["ratio"] - 1) * 100
    return (f"{v['ratio']:.3f}x ({pct:+.1f}%) 95% CI [{v['ci'][0]:.3f} – {v['ci'][1]:.3f}], "
            f"p={v['p_value']:.3g} -> {v['verdict'].upper()} ({v['reason']})")


def _budget_lines(budgets: list[dict[str, Any]]) -> list[str]:
    lines = []
    for b in budgets:
        value = format_bytes(b["value"]) if b["metric"] == "rss" else fs(b["value"])
        limit = format_bytes(b["limit"]) if b["metric"] == "rss" else fs(b["limit"])
        mark = "ok" if b["ok"] else "BREACHED"
        lines.append(f"  {b['metric']:<6} {value:>10} <= {limit:<10} {mark}")
    return lines


def bench_text(result: dict[str, Any]) -> str:
    s = result["summary"]
    w, c, r = s["wall_s"], s["cpu_s"], s["rss_bytes"]
    out = [f"Benchmark: {shlex.join(result['command'])}  ({w['n']} runs, {result['settings']['warmup']} warmup)",
           f"  wall   median {fs(w['median'])} {_ci(w['median_ci'])}   mean {fs(w['mean'])} ± {fs(w['stdev'])}",
           f"         min {fs(w['min'])}   p95 {fs(w['p95'])} {_ci(w['p95_ci'])}   "
           f"p99 {fs(w['p99'])}   max {fs(w['max'])}",
           f"  cpu    median {fs(c['median'])}   mean {fs(c['mean'])}  (user+system of the tree)",
           "  rss    " + (f"peak {format_bytes(r['max'])}   median {format_bytes(r['median'])}  (whole process tree)"
                         if r else "not observed (each run ended before the first sample; see docs/bench.md)")]
    if w["outliers"]:
        out.append(f"  outliers: {w['outliers']} of {w['n']} runs (median absolute deviation)")
    failed = sum(1 for code in result["samples"]["exit_codes"] if code != 0)
    if failed:
        out.append(f"  failed runs: {failed} (kept: --ignore-failure)")
    if w["noisy"]:
        out.append(f"  warning: too noisy to judge: {w['noisy']}; close other programs or add runs")
    cmp = result.get("comparison")
    if cmp:
        out.append(f"vs baseline {cmp['name']!r} (saved {cmp['saved_at']}, median {fs(cmp['before_median'])}):")
        out.append("  " + _verdict_line(cmp["verdict"]))
        if cmp.get("command_differs"):
            out.append("  note: the baseline was measured with a different command")
    for note in result.get("notes", []):
        out.append(f"note: {note}")
    if result.get("budgets"):
        out.append("budgets:")
        out.extend(_budget_lines(result["budgets"]))
    if result.get("saved"):
        out.append(f"saved baseline {result['name']!r} to {result['saved']}")
    out.append(f"result: {result['status']}")
    return "\n".join(out) + "\n"


def bench_markdown(result: dict[str, Any]) -> str:
    w = result["summary"]["wall_s"]
    r = result["summary"]["rss_bytes"]
    out = [f"### `{shlex.join(result['command'])}`", "",
           "| runs | min | median (95% CI) | mean ± sd | p95 | p99 | peak RSS |",
           "|---:|---:|---:|---:|---:|---:|---:|",
           f"| {w['n']} | {fs(w['min'])} | {fs(w['median'])} {_ci(w['median_ci'])} | {fs(w['mean'])} ± "
           f"{fs(w['stdev'])} | {fs(w['p95'])} | {fs(w['p99'])} | {format_bytes(r['max']) if r else '—'} |"]
    if w["noisy"]:
        out += ["", f"> warning: too noisy to judge: {w['noisy']}"]
    cmp = result.get("comparison")
    if cmp:
        out += ["", f"vs baseline `{cmp['name']}`: {_verdict_line(cmp['verdict'])}"]
    if result.get("budgets"):
        out += ["", "| budget | value | limit | holds |", "|---|---:|---:|---|"]
        for b in result["budgets"]:
            conv = format_bytes if b["metric"] == "rss" else fs
            out.append(f"| {b['metric']} | {conv(b['value'])} | {conv(b['limit'])} | {'yes' if b['ok'] else '**no**'} |")
    out += ["", f"result: **{result['status']}**"]
    return "\n".join(out) + "\n"


def compare_text(result: dict[str, Any]) -> str:
    a, b = result["before"], result["after"]
    out = [f"Interleaved comparison, {result['pairs']} pairs (randomised AB/BA order)"]
    for tag, side in (("A", a), ("B", b)):
        w = side["summary"]["wall_s"]
        out.append(f"  {tag}: {shlex.join(side['command'])}")
        out.append(f"     median {fs(w['median'])} {_ci(w['median_ci'])}   mean {fs(w['mean'])} ± {fs(w['stdev'])}"
                   f"   p95 {fs(w['p95'])}")
        if w["noisy"]:
            out.append(f"     warning: too noisy to judge: {w['noisy']}")
    out.append("B / A (median of pair ratios): " + _verdict_line(result["verdict"]))
    if result.get("saved"):
        out.append(f"stored for `perfpack report`: {result['saved']}")
    out.append(f"result: {result['status']}")
    return "\n".join(out) + "\n"


def compare_markdown(result: dict[str, Any]) -> str:
    a, b = result["before"], result["after"]
    out = ["| | command | median (95% CI) | p95 |", "|---|---|---:|---:|"]
    for tag, side in (("A", a), ("B", b)):
        w = side["summary"]["wall_s"]
        out.append(f"| {tag} | `{shlex.join(side['command'])}` | {fs(w['median'])} {_ci(w['median_ci'])} | "
                   f"{fs(w['p95'])} |")
    out += ["", "B / A: " + _verdict_line(result["verdict"]), "", f"result: **{result['status']}**"]
    return "\n".join(out) + "\n"


def as_json(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, sort_keys=True) + "\n"
