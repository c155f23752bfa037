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
TAIL_WORSE_PCT = 10.0  # p95 or p99 up this much under a faster median: the verdict is low confidence


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
    """What must match for two load runs to be compared: like with like (the duration may differ)."""
    return {
        "mode": plan.mode,
        "rate": plan.rate,
        "concurrency": plan.concurrency,
        "requests": [[r.name, r.method, r.path, r.weight] for r in plan.requests],
    }


def _api() -> Any:
    """bench's baseline API (save/load/compare/history, kind "load")."""
    from perfpack.bench import baseline

    return baseline


def before_run(root: Path, name: str, *, save: bool, force: bool) -> None:
    """Checks that must fail before any request is sent: the name, and --save over an existing one."""
    check_name(name)
    if save:
        api = _api()
        if not force:
            api.refuse_overwrite(root, name)


def measurement(root: Path, name: str, plan: Plan, counts: Counts, summary: dict[str, Any]) -> Any:
    api = _api()
    command = (
        [plan.requests[0].method, plan.target.origin + plan.requests[0].path]
        if len(plan.requests) == 1
        else ["scenario", plan.target.origin]
    )
    figures = {
        k: summary[k]
        for k in ("target_rate", "achieved_rate", "requests", "errors", "error_rate", "latency_ms", "verdict")
    }
    return api.Measurement(
        kind="load",
        name=name,
        identity=api.identity_for(root, command, extra=identity_extra(plan)),
        metric="latency_s",
        samples={"latency_s": latency_samples(counts.latency_us)},
        settings={
            "duration_s": plan.duration_s,
            "warmup_s": plan.warmup_s,
            "timeout_s": plan.timeout_s,
            "connections": plan.connections,
        },
        figures=figures,
    )


def load_caveats(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Why a load comparison stands on weak ground, one short clause each: failed requests on either
    side (their latencies are timeouts or quick errors, not the server's answers), or this run's
    generator lag in its latencies."""
    from perfpack.load.result import DEFAULT_ERROR_THRESHOLD, format_ms, parse_threshold

    allowed = parse_threshold(DEFAULT_ERROR_THRESHOLD).value
    out = []
    for side, figures in (("the baseline", before), ("this run", after)):
        rate = figures.get("error_rate") or 0.0
        if rate > allowed:
            out.append(f"{side} had {100 * rate:.1f} % errors")
    generator = after.get("generator") or {}
    then, now = (before.get("latency_ms") or {}).get("p50"), (after.get("latency_ms") or {}).get("p50")
    lag = (generator.get("lag_ms") or {}).get("p99", 0.0)
    # the lag blurs the latencies by about its own size: it matters next to a change of that order
    if not generator.get("timing_ok", True) and (then is None or now is None or lag >= 0.1 * abs(now - then)):
        out.append(f"the generator's own lag (p99 {format_ms(lag)}) is in this run's latencies")
    return out


def compare_or_save(root: Path, o: Any, plan: Plan, counts: Counts, summary: dict[str, Any]) -> list[str]:
    """--save: keep this run as NAME. Otherwise, when NAME exists: compare this run with it.

    Returns lines for the text output. A problem here (a baseline of another kind, one that measured
    something else) is a line too: the run's figures are printed whatever happens.
    """
    try:
        return _compare_or_save(root, o, plan, counts, summary)
    except PerfpackError as exc:
        return [f"baseline    {exc.message}" + (f" ({exc.hint})" if exc.hint else "")]


def _compare_or_save(root: Path, o: Any, plan: Plan, counts: Counts, summary: dict[str, Any]) -> list[str]:
    from perfpack.load.result import format_ms, only_the_max

    api = _api()
    name = o.name
    if o.save:
        if summary["verdict"] == "interrupted" or not counts.latency_us:
            return [f"baseline    not saved: the run was {summary['verdict']} or measured nothing"]
        if summary["requests"] and summary["errors"] >= summary["requests"]:
            # corpus34: a run whose every request timed out became the baseline later runs were judged by
            return [f"baseline    not saved: every one of its {summary['requests']:,} requests failed "
                    "(their times are timeouts and errors, not the server's answers)"]
        saved = api.save(root, measurement(root, name, plan, counts, summary), force=o.force)
        return [f"baseline    saved as {name!r} ({saved.path})"]
    if not api.exists(root, name):
        return [f"baseline    none named {name!r} yet (add --save to keep this run as one)"]
    base = api.load(root, name)
    if base.kind != "load":
        return [f"baseline    {name!r} is a {base.kind} baseline, not a load run: not compared"]
    comparison = api.compare(
        base, measurement(root, name, plan, counts, summary), allow_changed=o.allow_changed
    )
    for why in load_caveats(base.measurement.figures, summary):
        comparison.lower_confidence(why)
    before = base.measurement.figures.get("latency_ms", {})
    after = summary["latency_ms"]
    then: dict[str, float] = {}
    changes: dict[str, float] = {}
    # a percentile with no request beyond it on either side is not compared (it was not measured)
    requests = (base.measurement.figures.get("requests"), summary["requests"])
    for key in ("p50", "p95", "p99"):
        if before.get(key) and not any(isinstance(n, int) and only_the_max(key, n) for n in requests):
            then[key], changes[key] = before[key], (after[key] / before[key] - 1) * 100
    # the verdict follows the whole distribution, which the bulk of the requests decides: a tail that got
    # worse under a faster (or unchanged) median is a mixed result, and said to be one
    worse = [f"{key} {changes[key]:+.1f} %" for key in ("p95", "p99")
             if key in changes and changes[key] >= TAIL_WORSE_PCT]
    if worse and comparison.outcome in ("faster", "same"):
        comparison.lower_confidence("the tail got worse: " + ", ".join(worse))
    from perfpack.bench.comparison import store

    store(root, comparison)  # for `perfpack report`
    lines = [f"baseline    {name!r} (saved {base.saved_at} when its run ended): {comparison.shown_verdict()}"]
    for key, change in changes.items():
        lines.append(f"            {key} {format_ms(before[key])} then, {format_ms(after[key])} now "
                     f"({change:+.1f} %)")
    # bench's noise note speaks of runs; a load run's samples are its requests
    lines += [f"            {note.replace('run-to-run variation', 'request-to-request variation')}"
              for note in comparison.notes[:3]]
    # what the lines above printed, for the ledger record (perfpack.load.run._remember)
    from perfpack.bench.comparison import noise_percentages

    noise = {side: [round(found[0], 3), round(found[1], 3)]
             for side, found in (("before", noise_percentages(comparison.before.summary)),
                                 ("after", noise_percentages(comparison.after.summary))) if found}
    summary["baseline"] = {"name": name, "verdict": comparison.outcome, "then_ms": then,
                           "change_pct": changes, "noise_pct": noise}
    return lines
