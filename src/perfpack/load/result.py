"""From a run's counts to the summary: HdrHistogram percentiles, errors by kind, rates, thresholds, verdict.

The verdict is one of pass / fail / inconclusive / interrupted. "inconclusive" means the generator did not
keep the rate (see `generator_kept_rate`): its own delay is in the latencies, so a failure cannot be
blamed on the server. The figures are always in the summary, whatever the verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.load.engine import Counts

LATENCY_KEYS = ("p50", "p90", "p95", "p99", "p999", "max")
_THRESHOLD = re.compile(
    r"^\s*(?P<metric>p\(\s*\d+(?:\.\d+)?\s*\)|p\d+(?:\.\d+)?|avg|min|med|max|error_rate|errors|rate)\s*"
    r"(?P<op><=|>=|<|>)\s*(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|us|µs|%|/s|req/s)?\s*$"
)
_MS = {"ms": 1.0, "s": 1000.0, "us": 0.001, "µs": 0.001, None: 1.0}
HINT = (
    "e.g. p95<200ms, p99<=1s, avg<50, max<2s, error_rate<1%, rate>450 "
    "(latency in ms unless a unit is given; rate in requests/s)"
)

# What "the generator kept the rate" means (docs/load.md, "Verdicts"):
RATE_TOLERANCE = (
    0.02  # every request due was sent, achieved within 2 % of the target (unless the server set the pace)
)
# ... and when its timing is exact enough to blame a failed latency threshold on the server:
LAG_SHARE = 0.10  # its own lag at p99 at most 10 % of the latency p99 ...
LAG_FLOOR_MS = 1.0  # ... or under 1 ms
LATENCY_METRICS = ("avg", "min", "max")  # and every pNN
CPU_SATURATED = 0.85  # a generator using this much of its one core may be what limits the rate
# Short of the rate, the server set the pace only if the generator kept its schedule: a generator on
# schedule is late by milliseconds whoever is slow (it only queues requests for a free connection). Its
# own lag p99 at 100 ms, or at a fifth of the backlog the shortfall implies (window x (1 - achieved /
# target)) when that is less, means it may be what set the pace: a starved generator on a busy machine
# uses little CPU, so the CPU share alone cannot tell. Measured against nginx at load 11-15: 0.6-1 s late
# while reaching half the rate (wrk reached 3x more); a server-paced run at that load: 20-40 ms.
LAG_BEHIND_MS = 100.0
LAG_BEHIND_SHARE = 0.20
# With no threshold on errors (error_rate or errors), this one applies: a run where more than 1 % of
# requests fail does not PASS silently (a --threshold on error_rate or errors replaces it).
DEFAULT_ERROR_THRESHOLD = "error_rate<=1%"


@dataclass(frozen=True)
class Threshold:
    expr: str
    metric: str  # "p95", "p99.9", "avg", "min", "max", "error_rate", "errors", "rate"
    op: str
    value: float  # ms for latency, a fraction for error_rate, requests/s for rate
    default: bool = False  # DEFAULT_ERROR_THRESHOLD, applied because no threshold was given on errors

    def holds(self, actual: float) -> bool:
        return {
            "<": actual < self.value,
            "<=": actual <= self.value,
            ">": actual > self.value,
            ">=": actual >= self.value,
        }[self.op]


def parse_threshold(expr: str) -> Threshold:
    m = _THRESHOLD.match(expr) if isinstance(expr, str) and len(expr) <= 100 else None
    if not m:
        shown = expr[:60] if isinstance(expr, str) else repr(expr)
        raise PerfpackError(f"bad threshold {shown!r}", hint=HINT)
    metric, op, value, unit = m["metric"], m["op"], float(m["value"]), m["unit"]
    metric = metric.replace("(", "").replace(")", "").replace(" ", "")
    if metric == "med":
        metric = "p50"
    if metric == "p999":
        metric = "p99.9"
    if metric.startswith("p"):
        q = float(metric[1:])
        if not 0 < q <= 100:
            raise PerfpackError(f"bad threshold {expr!r}: percentile {q:g} is not in (0, 100]", hint=HINT)
        metric = f"p{q:g}"
    if metric in ("error_rate",):
        if unit not in (None, "%"):
            raise PerfpackError(f"bad threshold {expr!r}: error_rate is a % or a fraction", hint=HINT)
        value = value / 100 if unit == "%" else value
        if value > 1:
            raise PerfpackError(f"bad threshold {expr!r}: an error rate above 100 %", hint=HINT)
    elif metric in ("rate", "errors"):
        if unit not in (None, "/s", "req/s") or (metric == "errors" and unit):
            raise PerfpackError(f"bad threshold {expr!r}: {metric} takes a plain number", hint=HINT)
    else:
        if unit not in _MS:
            raise PerfpackError(f"bad threshold {expr!r}: latency takes ms, s or us", hint=HINT)
        value *= _MS[unit]
    return Threshold(expr.strip(), metric, op, value)


def with_default_error_threshold(thresholds: list[Threshold]) -> list[Threshold]:
    """`thresholds`, plus DEFAULT_ERROR_THRESHOLD when none of them is on errors."""
    if any(t.metric in ("error_rate", "errors") for t in thresholds):
        return thresholds
    default = parse_threshold(DEFAULT_ERROR_THRESHOLD)
    return [*thresholds, Threshold(default.expr, default.metric, default.op, default.value, default=True)]


def histogram(latency_us: dict[int, int]) -> Any:
    """An HdrHistogram (1 us .. 1 h, 3 significant digits) of quantized microsecond counts."""
    from hdrh.histogram import HdrHistogram

    h = HdrHistogram(1, 3_600_000_000, 3)
    top = h.highest_trackable_value
    for value, count in latency_us.items():
        h.record_value(min(max(value, 1), top), count)
    return h


def _pct_ms(h: Any, q: float) -> float:
    return h.get_value_at_percentile(q) / 1000 if h.get_total_count() else 0.0


# A percentile needs at least one request beyond it: p99.9 of 100 requests is only the slowest one.
TAIL_REQUESTS = {"p50": 2, "p90": 10, "p95": 20, "p99": 100, "p999": 1000}


def only_the_max(key: str, requests: int) -> bool:
    """Whether percentile `key` ("p999") of `requests` requests is no more than the slowest request."""
    return requests < TAIL_REQUESTS.get(key, 0)


def latency_ms(h: Any) -> dict[str, float]:
    n = h.get_total_count()
    out = {
        "p50": _pct_ms(h, 50),
        "p90": _pct_ms(h, 90),
        "p95": _pct_ms(h, 95),
        "p99": _pct_ms(h, 99),
        "p999": _pct_ms(h, 99.9),
        "max": h.get_max_value() / 1000 if n else 0.0,
        "avg": h.get_mean_value() / 1000 if n else 0.0,
        "min": h.get_min_value() / 1000 if n else 0.0,
    }
    return {k: round(v, 3) for k, v in out.items()}


def generator_kept_rate(
    c: Counts, achieved: float, timing_ok: bool, lag_p99_ms: float = 0.0
) -> tuple[bool, str]:
    """(kept, why not). Open loop only: a closed loop has no rate to keep.

    Short of the rate with every allowed connection busy, the server set the pace, unless the
    generator was itself saturated (its core nearly full, or its own lag large next to the latencies
    or to the backlog the shortfall implies): then nobody can tell.
    """
    if c.mode != "open" or not c.target_rate or c.interrupted:
        return True, ""
    if c.not_sent:
        return False, f"{c.not_sent:,} requests due in the window were never sent: the generator fell behind"
    _, error = c.rate_and_error()
    # above the target beyond the tolerance, and late by 100 ms or more: requests due over the window were
    # sent in less time, a generator behind its schedule caught up in bursts (the schedule was not kept).
    # (Without that lag, a few jittery sends of a tiny run are not a catch-up.)
    if achieved > c.target_rate * (1 + RATE_TOLERANCE) + 3 * error and lag_p99_ms >= LAG_BEHIND_MS:
        return False, (
            f"achieved {achieved:,.1f} req/s, above the {c.target_rate:,.6g} target: it sent in catch-up "
            f"bursts after falling behind its schedule (its own lag p99 {format_ms(lag_p99_ms)})"
        )
    # short of the target beyond the tolerance and beyond the fit's own uncertainty (3 standard errors)
    if achieved < c.target_rate * (1 - RATE_TOLERANCE) - 3 * error:
        cores = c.cpu_s / c.wall_s if c.wall_s else 0.0
        if not c.waited_for_connection:
            return False, (
                f"achieved {achieved:,.1f} of {c.target_rate:,.6g} req/s with connections free: "
                "the generator set the pace"
            )
        window = c.measured_s or c.duration_s
        backlog_ms = 1000 * window * (1 - achieved / c.target_rate)
        behind = lag_p99_ms >= max(LAG_FLOOR_MS, min(LAG_BEHIND_MS, LAG_BEHIND_SHARE * backlog_ms))
        if cores >= CPU_SATURATED or not timing_ok or behind:
            busy = (
                f"{100 * cores:.0f} % of its core"
                if cores >= CPU_SATURATED
                else f"its own lag p99 {format_ms(lag_p99_ms)}, it was behind schedule"
            )
            return False, (
                f"achieved {achieved:,.1f} of {c.target_rate:,.6g} req/s with every connection busy "
                f"but the generator itself saturated ({busy}): it may be what set the pace"
            )
    return True, ""


def generator_timing_ok(c: Counts, lat: dict[str, float], lag: dict[str, float]) -> tuple[bool, str]:
    """Is the generator's own delay (due -> picked up) small next to the latencies it measured?"""
    if c.mode != "open":
        return True, ""
    if lag["p99"] > max(LAG_FLOOR_MS, LAG_SHARE * lat["p99"]):
        return False, (
            f"its own lag p99 {format_ms(lag['p99'])} is more than 10 % of the latency p99 "
            f"({format_ms(lat['p99'])}): part of the latency is the generator's (a busy machine?)"
        )
    return True, ""


def summarize(c: Counts, thresholds: list[Threshold]) -> dict[str, Any]:
    """The run's summary (the JSON output; text is rendered from it). Compact: at most ~2 KB."""
    h = histogram(c.latency_us)
    lat = latency_ms(h)
    lag_h = histogram(c.lag_us)
    lag = {
        "p50": _pct_ms(lag_h, 50),
        "p99": _pct_ms(lag_h, 99),
        "max": lag_h.get_max_value() / 1000 if lag_h.get_total_count() else 0.0,
    }
    window = c.measured_s if c.interrupted else (c.measured_s or c.duration_s)
    achieved = c.achieved_rate()
    nerr = sum(c.errors.values())
    error_rate = nerr / c.requests if c.requests else 0.0
    timing_ok, timing_why = generator_timing_ok(c, lat, lag)
    kept, why = generator_kept_rate(c, achieved, timing_ok, lag["p99"])
    actual = {"error_rate": error_rate, "errors": float(nerr), "rate": achieved, **lat, "p99.9": lat["p999"]}
    results = []
    for t in thresholds:
        if t.metric in actual:
            value = actual[t.metric]
        else:  # any other percentile, read from the same histogram
            value = round(_pct_ms(h, float(t.metric[1:])), 3)
        unit = {"error_rate": "%", "errors": "", "rate": "req/s"}.get(t.metric, "ms")
        shown = 100 * value if unit == "%" else value
        results.append({"expr": t.expr, "metric": t.metric, "ok": t.holds(value), "actual": _round(shown),
                        "unit": unit, **({"default": True} if t.default else {})})
    if c.requests == 0 and thresholds:  # nothing measured: no threshold can be said to hold
        for r in results:
            r["ok"] = False
    failed = [t for t, r in zip(thresholds, results, strict=True) if not r["ok"]]
    # A failed latency threshold proves nothing about the server when the generator's own lag is in it;
    # a failed error or rate threshold is the server's whatever the generator's timing.
    servers = [
        t for t in failed if timing_ok or not (t.metric.startswith("p") or t.metric in LATENCY_METRICS)
    ]
    if c.interrupted:
        verdict = "interrupted"
    elif not kept:
        verdict = "inconclusive"
    elif servers:
        verdict = "fail"
    elif failed:
        verdict = "inconclusive"
    else:
        verdict = "pass"
    at_max = [k for k in LATENCY_KEYS if k != "max" and c.requests and only_the_max(k, c.requests)]
    summary: dict[str, Any] = {
        "mode": c.mode,
        "target_rate": c.target_rate,
        "achieved_rate": round(achieved, 2),
        "duration_s": round(window, 3),
        "requests": c.requests,
        "errors": nerr,
        "error_rate": round(error_rate, 6),
        "errors_by_kind": dict(sorted(c.errors.items(), key=lambda kv: -kv[1])[:8]),
        "latency_ms": lat,
        **({"latency_only_the_max": at_max} if at_max else {}),
        "generator": {
            "lag_ms": {k: round(v, 3) for k, v in lag.items()},
            "cpu_cores": round(c.cpu_s / c.wall_s, 3) if c.wall_s else 0.0,
            "kept_rate": kept,
            "timing_ok": timing_ok,
            "connections": c.connections_opened,
            "max_in_flight": c.max_in_flight,
            "waited_for_connection": c.waited_for_connection,
            "not_sent": c.not_sent,
            "workers": c.workers,
        },
        "thresholds": results,
        "verdict": verdict,
        "ok": verdict == "pass",
    }
    if why or timing_why:
        summary["generator"]["why"] = why or timing_why
    retried = connect_retries(c, lat)
    if retried:
        summary["generator"]["connect_retries"] = retried
    if c.interrupted:
        summary["unfinished"] = c.unfinished
    if len(c.by_name) > 1:
        per = {}
        for name, d in sorted(c.by_name.items(), key=lambda kv: -kv[1]["n"])[:6]:
            hn = histogram(d["latency_us"])
            per[name[:40]] = {
                "n": d["n"],
                "errors": d["errors"],
                "p95": round(_pct_ms(hn, 95), 3),
                "p99": round(_pct_ms(hn, 99), 3),
            }
        summary["by_request"] = per
    return summary


# Linux retries a connect whose SYN got no answer (a full listen queue) after 1 s, then 3 s more
_SYN_RETRIES_US = ((1_000_000, 1_250_000), (3_000_000, 3_250_000))


def connect_retries(c: Counts, lat: dict[str, float]) -> int:
    """Requests that took a connect retry's 1 s (or 3 s) on top of a fast median, when every request opened
    its own connection (corpus33: p99 19.4 ms, p99.9 1.03 s, 10,319 connections): the server's listen
    queue overflowed, not its handler."""
    if c.requests < 50 or c.connections_opened < 0.9 * c.requests or lat["p50"] >= 250:
        return 0
    return sum(n for us, n in c.latency_us.items() if any(low <= us < high for low, high in _SYN_RETRIES_US))


def fit(summary: dict[str, Any], limit: int = 2048) -> dict[str, Any]:
    """Keep the JSON output within `limit` bytes (as the shared reporter prints it, indented): drop the
    least frequent per-request rows, then the rarest error kinds (their total stays in "errors")."""
    import json

    def size() -> int:
        return len(json.dumps(summary, indent=2, ensure_ascii=False).encode())

    while size() > limit and summary.get("by_request"):
        summary["by_request"].popitem()
        if not summary["by_request"]:
            del summary["by_request"]
    while size() > limit and len(summary["errors_by_kind"]) > 1:
        summary["errors_by_kind"].popitem()
    return summary


def _round(v: float) -> float:
    return round(v, 6) if abs(v) < 1 else round(v, 3)


def format_ms(v: float) -> str:
    """A latency in ms as every load line prints it: "412 ms", "3.94 s", "850 us" (never 3.94e+03 ms)."""
    if v >= 1000:
        return f"{v / 1000:.3g} s" if v < 10_000 else f"{v / 1000:,.1f} s"
    if v >= 100:
        return f"{v:.0f} ms"
    if v >= 1:
        return f"{v:.3g} ms"
    return f"{v * 1000:.0f} us"


def render_text(s: dict[str, Any], *, what: str) -> str:
    lat, gen = s["latency_ms"], s["generator"]
    lines = []
    if s["mode"] == "open":
        lines.append(
            f"open loop: {what} at {s['target_rate']:,.6g} req/s for {s['duration_s']:g} s "
            "(latency from each request's intended start: a stall is charged to every request it delayed)"
        )
    else:
        lines.append(
            f"CLOSED LOOP: {what}, requests back to back on each connection "
            f"({gen['max_in_flight']} in flight at most) for {s['duration_s']:g} s "
            "(latency from each actual send: waiting caused by a slow server is NOT counted; "
            "use --rate for an open-loop run)"
        )
    rate = f"achieved {s['achieved_rate']:,.1f} req/s"
    if s["target_rate"]:
        rate += f" of {s['target_rate']:,.6g} target ({100 * s['achieved_rate'] / s['target_rate']:.1f} %)"
    lines.append(f"requests   {s['requests']:,}   {rate}")
    lines.append(
        "latency    "
        + "  ".join(
            f"{k if k != 'p999' else 'p99.9'} "
            + ("= max" if k != "max" and only_the_max(k, s["requests"]) else format_ms(lat[k]))
            for k in LATENCY_KEYS
        )
        + f"  avg {format_ms(lat['avg'])}"
    )
    short = [k for k in LATENCY_KEYS if k != "max" and only_the_max(k, s["requests"])]
    if short and s["requests"]:
        name = short[0] if short[0] != "p999" else "p99.9"
        lines.append(f"           ({name} needs {TAIL_REQUESTS[short[0]]:,} requests or more to differ from "
                     f"the slowest of these {s['requests']:,}: a longer run or a higher --rate measures it)")
    if s["errors"]:
        kinds = ", ".join(f"{k}: {v:,}" for k, v in s["errors_by_kind"].items())
        lines.append(f"errors     {s['errors']:,} ({100 * s['error_rate']:.2f} %): {kinds}")
    else:
        lines.append("errors     0")
    if s["mode"] == "open":
        g = (
            f"generator  lag p50 {format_ms(gen['lag_ms']['p50'])} p99 {format_ms(gen['lag_ms']['p99'])} "
            f"max {format_ms(gen['lag_ms']['max'])}; {100 * gen['cpu_cores']:.0f} % of one core; "
            f"{gen['connections']:,} connections opened in all (warm-up included), "
            f"{gen['max_in_flight']} in flight at most"
        )
    else:
        g = (f"generator  {100 * gen['cpu_cores']:.0f} % of one core; "
             f"{gen['connections']:,} connections opened in all (warm-up included)")
    if gen["workers"] > 1:
        g += f"; {gen['workers']} workers"
    lines.append(g)
    if gen["waited_for_connection"]:
        pace = ": the server set the pace" if gen["kept_rate"] else ""
        lines.append(
            f"           {gen['waited_for_connection']:,} requests waited for a free connection "
            f"(all allowed connections busy{pace}; the wait is in the latencies)"
        )
    if gen.get("connect_retries"):
        lines.append(
            f"           {gen['connect_retries']:,} requests took a connect retry's 1 s (or 3 s) more than "
            f"the median {format_ms(s['latency_ms']['p50'])}: the server's listen queue was full (each "
            "request opened its own connection, so the server closes them); keep-alive or a larger backlog "
            "avoids it"
        )
    if not gen["kept_rate"]:
        lines.append(f"           the generator did NOT keep the rate: {gen.get('why', '')}")
    elif not gen["timing_ok"]:
        lines.append(f"           the generator's timing: {gen.get('why', '')}")
    for name, d in s.get("by_request", {}).items():
        lines.append(
            f"  {name}: {d['n']:,} requests, {d['errors']:,} errors, p95 {format_ms(d['p95'])}, "
            f"p99 {format_ms(d['p99'])}"
        )
    failed = []
    for t in s["thresholds"]:
        actual = (
            format_ms(t["actual"])
            if t["unit"] == "ms"
            else f"{t['actual']:,.6g}{' ' if t['unit'] != '%' else ''}{t['unit']}"
        )
        default = " (the default; --threshold 'error_rate<N%' to set another)" if t.get("default") else ""
        lines.append(
            f"threshold  {t['expr']}{default}: {'ok' if t['ok'] else 'FAILED'} (actual {actual.strip()})"
        )
        if not t["ok"]:
            failed.append(f"{t['expr']} failed: actual {actual.strip()}")
    verdict = s["verdict"]
    note = {
        "pass": "",
        "fail": f" ({', '.join(failed)})",
        "inconclusive": " (the generator could not keep the rate or its own delay is in a failed latency "
        "threshold: lower --rate, add --workers, or use a quieter machine)",
        "interrupted": f" (stopped early after {s['duration_s']:g} s; "
        f"{s.get('unfinished', 0):,} requests in flight not counted)",
    }[verdict]
    lines.append(f"verdict    {verdict.upper()}{note}")
    return "\n".join(lines)
