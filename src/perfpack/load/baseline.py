"""Load runs as baselines, through bench's baseline API (kind "load"): save with --save, compare with --name.

A baseline keeps the latency distribution as evenly spaced order statistics read from the run's
HdrHistogram (at most 10,000), so a later run is compared with the same statistics bench uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.load.engine import Counts
from perfpack.load.plan import Plan

SAMPLES = 10_000


def check_name(name: str) -> str:
    from perfpack.bench.baseline import check_name as check

    return check(name)


def latency_samples(latency_us: dict[int, int], limit: int = SAMPLES) -> list[float]:
    """The distribution as at most `limit` seconds values: every value when few, else evenly spaced
    order statistics (the same thinning bench applies to long sample lists)."""
    total = sum(latency_us.values())
    if total == 0:
        return []
    ordered = sorted(latency_us.items())
    if total <= limit:
        return [v / 1e6 for v, c in ordered for _ in range(c)]
    out: list[float] = []
    step = (total - 1) / (limit - 1)
    targets = iter(round(i * step) for i in range(limit))
    want: int | None = next(targets)
    seen = 0
    for value, count in ordered:
        while want is not None and want < seen + count:
            out.append(value / 1e6)
            want = next(targets, None)
        seen += count
    return out


def identity_extra(plan: Plan) -> dict[str, Any]:
    """What must match for two load runs to be compared: like with like."""
    return {
        "mode": plan.mode,
        "rate": plan.rate,
        "concurrency": plan.concurrency,
        "duration_s": plan.duration_s,
        "requests": [[r.name, r.method, r.path, r.weight] for r in plan.requests],
    }


def measurement(root: Path, name: str, plan: Plan, counts: Counts, summary: dict[str, Any]) -> Any:
    from perfpack.bench import baseline as bench_baseline

    api: Any = bench_baseline  # the kind-aware API (bench's issue); checked for in compare_or_save
    Measurement, identity_for = api.Measurement, api.identity_for

    command = (
        [plan.requests[0].method, plan.target.origin + plan.requests[0].path]
        if len(plan.requests) == 1
        else ["scenario", plan.target.origin]
    )
    figures = {
        k: summary[k]
        for k in ("target_rate", "achieved_rate", "requests", "errors", "error_rate", "latency_ms", "verdict")
    }
    return Measurement(
        kind="load",
        name=name,
        identity=identity_for(root, command, extra=identity_extra(plan)),
        metric="latency_s",
        samples={"latency_s": latency_samples(counts.latency_us)},
        settings={"warmup_s": plan.warmup_s, "timeout_s": plan.timeout_s, "connections": plan.connections},
        figures=figures,
    )


def compare_or_save(root: Path, o: Any, plan: Plan, counts: Counts, summary: dict[str, Any]) -> list[str]:
    """--save: keep this run as NAME. Otherwise, when NAME exists: compare this run with it."""
    from perfpack.bench import baseline as bench_baseline

    api: Any = bench_baseline

    if not hasattr(api, "Measurement"):  # bench's kind-aware baseline API has not landed yet
        raise PerfpackError(
            "saving or comparing load runs as baselines needs bench's baseline API (kind "
            '"load"), which this perfpack does not have yet',
            hint="run without --name",
        )
    name = o.name
    m = measurement(root, name, plan, counts, summary)
    if o.save:
        if summary["verdict"] in ("interrupted",) or not counts.latency_us:
            return [f"baseline    not saved: the run was {summary['verdict']} or measured nothing"]
        saved = api.save(root, m, force=o.force)
        return [f"baseline    saved as {name!r} ({saved.path})"]
    if not api.exists(root, name):
        return [f"baseline    none named {name!r} yet (add --save to keep this run as one)"]
    base = api.load(root, name)
    if base.kind != "load":
        raise PerfpackError(
            f"baseline {name!r} is a {base.kind} baseline, not a load run",
            hint="use another --name for load runs",
        )
    comparison = api.compare(base, m)
    lines = [f"baseline    compared with {name!r} (saved {base.saved_at})"]
    before = base.measurement.figures.get("latency_ms", {})
    after = summary["latency_ms"]
    for key in ("p50", "p95", "p99"):
        if before.get(key):
            change = (after[key] / before[key] - 1) * 100
            lines.append(
                f"            {key} {before[key]:,.3g} ms then, {after[key]:,.3g} ms now ({change:+.1f} %)"
            )
    verdict = getattr(comparison, "verdict", None) or (
        comparison.get("verdict") if isinstance(comparison, dict) else None
    )
    if verdict is not None:
        lines.append(
            f"            verdict: {verdict if isinstance(verdict, str) else verdict.get('verdict')}"
        )
    return lines
