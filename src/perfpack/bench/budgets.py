"""Performance budgets: `p95=300ms`, `rss=512MB` (10^6 bytes) or `rss=512MiB` (2^20), presets such as
`kpi`, and `--max-regression 5%`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from perfpack.bench.units import format_bytes, format_seconds
from perfpack.errors import PerfpackError

__all__ = ["Budget", "format_bytes", "format_seconds", "parse_budget", "parse_budgets", "parse_percent"]

TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}
# SI units are powers of 1000 (64MB = 64,000,000 bytes), binary ones powers of 1024 (64MiB = 67,108,864),
# as everywhere else: bench prints sizes in KiB, MiB and GiB.
SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3, "kib": 1024, "mib": 1024 ** 2,
              "gib": 1024 ** 3}
TIME_METRICS = {"min": "min", "mean": "mean", "median": "median", "p50": "median", "p95": "p95", "p99": "p99",
                "max": "max"}
# The lead agent's baseline KPI table (performance-engineer seed): P50 < 100 ms, P95 < 300 ms, P99 < 1 s.
PRESETS: dict[str, list[str]] = {"kpi": ["p50=100ms", "p95=300ms", "p99=1s"]}
_SPEC = re.compile(r"^\s*([A-Za-z0-9]+)\s*(?:=|<=|<)"  # metric and comparison
                   r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-zµ]*)\s*$")  # number and unit


@dataclass(frozen=True)
class Budget:
    """An upper limit on one metric: a wall-time statistic in seconds, or peak RSS in bytes."""

    metric: str  # "p95", "median", ..., or "rss"
    limit: float
    text: str

    def value_of(self, summary: dict[str, Any]) -> float | None:
        if self.metric == "rss":
            rss = summary.get("rss_bytes")
            return None if rss is None else float(rss["max"])
        return float(summary["wall_s"][TIME_METRICS[self.metric]])

    def check(self, summary: dict[str, Any]) -> dict[str, Any]:
        value = self.value_of(summary)
        return {"metric": self.metric, "limit": self.limit, "value": value, "text": self.text,
                "ok": value is not None and value <= self.limit}


def parse_budget(spec: str) -> Budget:
    """`p95=300ms` -> Budget("p95", 0.3); `rss=512MB` -> Budget("rss", 512_000_000); `rss=512MiB` ->
    Budget("rss", 536870912).

    Bad specs are usage errors."""
    match = _SPEC.match(spec or "")
    if not match:
        raise PerfpackError(f"invalid budget {spec!r}",
                            hint="write METRIC=VALUEUNIT, e.g. p95=300ms, p99=1s, rss=512MB")
    metric, number, unit = match.group(1).lower(), float(match.group(2)), match.group(3)
    if metric == "rss":
        factor = SIZE_UNITS.get(unit.lower() if unit else "b")
        if factor is None:
            raise PerfpackError(f"invalid budget {spec!r}: unknown size unit {unit!r}",
                                hint="use B, kB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024)")
        return Budget("rss", _finite(number * factor, spec), spec.strip())
    if metric not in TIME_METRICS:
        raise PerfpackError(f"invalid budget {spec!r}: unknown metric {metric!r}",
                            hint="use one of " + ", ".join([*TIME_METRICS, "rss"]))
    if not unit:
        raise PerfpackError(f"invalid budget {spec!r}: a time needs a unit",
                            hint="use ns, us, ms or s, e.g. 300ms")
    time_factor = TIME_UNITS.get(unit.lower() if unit != "µs" else unit)
    if time_factor is None:
        raise PerfpackError(f"invalid budget {spec!r}: unknown time unit {unit!r}",
                            hint="use ns, us, ms or s")
    return Budget(metric, _finite(number * time_factor, spec), spec.strip())


def _finite(limit: float, spec: str) -> float:
    """A limit JSON can hold: 1e400ms (or 5,000 digits) is infinite, and a baseline saved with it could
    not be written (allow_nan=False), nor read back."""
    if limit != limit or limit in (float("inf"), float("-inf")):
        raise PerfpackError(f"invalid budget {spec[:60]!r}: the value is out of range",
                            hint="write METRIC=VALUEUNIT, e.g. p95=300ms, p99=1s, rss=512MB")
    return limit


def parse_budgets(specs: list[str], presets: list[str]) -> list[Budget]:
    """Budgets from presets first, then explicit specs (an explicit metric replaces the preset's)."""
    chosen: dict[str, Budget] = {}
    for name in presets:
        if name not in PRESETS:
            raise PerfpackError(f"unknown budget preset {name!r}", hint="available: " + ", ".join(PRESETS))
        for spec in PRESETS[name]:
            budget = parse_budget(spec)
            chosen[budget.metric] = budget
    for spec in specs:
        budget = parse_budget(spec)
        chosen[budget.metric] = budget
    return list(chosen.values())


def parse_percent(spec: str | None, option: str = "--max-regression") -> float | None:
    """`5%` or `0.05` -> 0.05."""
    if spec is None:
        return None
    text = spec.strip()
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise PerfpackError(f"invalid {option} {spec!r}", hint="write a percentage, e.g. 5%") from None
    if not 0 <= value < 10:
        raise PerfpackError(f"invalid {option} {spec!r}: out of range", hint="write a percentage, e.g. 5%")
    return value
