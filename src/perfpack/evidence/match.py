"""Matching claims against the ledger: is each figure an agent states one that perfpack measured?

A claim matches a ledger figure of the same dimension when they agree within the claim's printed
precision (1.64 s covers 1,635-1,645 ms; "670 ms" may be 665-675), and, when both name a statistic,
the same statistic (a p95 claim never matches a median record). Ratios and percentages also match the
speed-ups and changes the records imply: -59 % time is 2.44 x faster and a ratio of 0.41.
"""

from perfpack.evidence.claims import _UNITS, Claim

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_MEMORY = {"rss", "peak", "peak_bytes", "memory"}
_SAME_STATISTIC = {"p50": {"p50", "median"}, "median": {"p50", "median"}, "mean": {"mean", "avg", "average"},
                   "rss": _MEMORY, "memory": _MEMORY, "peak": _MEMORY | {"max"},
                   "rate": {"rate", "achieved_rate"}}
_EPSILON = 1e-6  # relative: float error in unit conversions (1.64 s * 1000), never a looser rounding


class Figure:
    """A ledger figure in its dimension's base unit (ms, bytes, per second, x, %)."""

    __slots__ = ("record_id", "dimension", "value", "metric")

    def __init__(self, record_id: str, dimension: str, value: float, metric: str) -> None:
        self.record_id = record_id
        self.dimension = dimension
        self.value = value
        self.metric = metric


def figures_of(records: "list[dict[str, Any]]") -> list[Figure]:
    """Every figure the records hold, plus the ratios and changes they imply."""
    out: list[Figure] = []
    by_name: dict[tuple[str, str], dict[str, tuple[str, float]]] = {}
    for record in records:
        record_id = str(record.get("id"))
        sides: dict[tuple[str, str], float] = {}
        for raw in record.get("figures") or ():
            figure = _figure(record_id, raw)
            if figure is None:
                continue
            out.append(figure)
            if figure.dimension in ("ratio", "percent"):
                out.extend(_implied(record_id, figure))
            side = str(raw.get("side") or "")
            if side:
                sides[(figure.metric, side)] = figure.value
            if figure.dimension == "time" and record.get("name"):
                key = (str(record.get("kind")), str(record.get("name")))
                previous = by_name.setdefault(key, {}).get(figure.metric)
                if previous and previous[1] and figure.value:
                    out.extend(_changes(record_id, previous[1], figure.value))
        for (metric, side), value in sides.items():
            partner = {"before": "after", "a": "b"}.get(side)
            if partner and (metric, partner) in sides and value:
                out.extend(_changes(record_id, value, sides[(metric, partner)]))
        for raw in record.get("figures") or ():
            figure = _figure(record_id, raw)
            if figure is not None and figure.dimension == "time" and record.get("name"):
                by_name.setdefault((str(record.get("kind")), str(record.get("name"))), {})[figure.metric] = \
                    (record_id, figure.value)
    return out


def _figure(record_id: str, raw: "Any") -> Figure | None:
    if not isinstance(raw, dict):
        return None
    value, unit = raw.get("value"), str(raw.get("unit") or "").lower()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or unit not in _UNITS:
        return None
    dimension, factor = _UNITS[unit]
    return Figure(record_id, dimension, float(value) * factor, str(raw.get("metric") or "").lower())


def _changes(record_id: str, before: float, after: float) -> list[Figure]:
    """What a before/after pair implies: the ratio after/before, the speed-up, the percentage change."""
    ratio = after / before
    speedup = 1 / ratio if ratio else 0.0
    return [Figure(record_id, "ratio", ratio, "ratio"), Figure(record_id, "ratio", speedup, "speedup"),
            Figure(record_id, "percent", (ratio - 1) * 100, "change_pct")]


def _implied(record_id: str, figure: Figure) -> list[Figure]:
    if figure.dimension == "ratio" and figure.value > 0:
        if figure.metric == "speedup":
            return _changes(record_id, figure.value, 1.0)
        return _changes(record_id, 1.0, figure.value)
    if figure.dimension == "percent" and figure.metric in ("change_pct", "change", "delta_pct") \
            and figure.value > -100:
        return _changes(record_id, 100.0, 100.0 + figure.value)
    return []


_LEVELS = {"cpu": {"cpu", "cpu_pct", "cpu_percent"}}  # percentages that are levels, not changes


def _statistic_ok(claim: Claim, figure: Figure) -> bool:
    if claim.dimension == "percent" and claim.metric in _LEVELS:
        return figure.metric in _LEVELS[claim.metric]
    if not claim.metric or not figure.metric or claim.dimension in ("ratio", "percent"):
        return True
    same = _SAME_STATISTIC.get(claim.metric, {claim.metric})
    return figure.metric in same or claim.metric == figure.metric


def _close(claimed: float, tolerance: float, measured: float) -> bool:
    return abs(claimed - measured) <= tolerance * 1.001 + abs(measured) * _EPSILON


def match(claim: Claim, figures: list[Figure]) -> str | None:
    """The id of the newest ledger record that backs `claim`, or None."""
    candidates = [claim.base_value]
    if claim.dimension == "size" and claim.unit.lower() in ("kb", "mb", "gb"):
        binary = {"kb": 1024.0, "mb": 1024.0 ** 2, "gb": 1024.0 ** 3}[claim.unit.lower()]
        candidates.append(claim.value * binary)  # "212 MB" written for 212 MiB
    for figure in reversed(figures):
        if figure.dimension != claim.dimension or not _statistic_ok(claim, figure):
            continue
        if claim.dimension == "percent":
            # "-59 %", "59 % faster", "59 % less": the size of the change, either sign; a throughput gain
            # "59 % faster" is also a speed-up of 1.59.
            measured = abs(figure.value)
            if _close(abs(claim.value), claim.tolerance, measured):
                return figure.record_id
            continue
        if claim.dimension == "ratio":
            if _close(claim.value, claim.tolerance, figure.value) and (figure.value >= 1 or claim.value < 1):
                return figure.record_id
            continue
        if any(_close(value, claim.tolerance, figure.value) for value in candidates):
            return figure.record_id
    if claim.dimension == "percent":
        for figure in reversed(figures):
            if figure.dimension == "ratio" and figure.metric == "speedup" and \
                    _close(abs(claim.value), claim.tolerance, abs(figure.value - 1) * 100):
                return figure.record_id
    return None


def match_range(low: Claim, high: Claim, figures: list[Figure]) -> str | None:
    """A narrow range ("40–45 ms", "between 1.6 and 1.7 s") is backed by a figure inside it; a wide one
    ("10–100 ms") only when both its ends are (checked by `match` on each end)."""
    lowest, highest = sorted((low.base_value, high.base_value))
    if lowest <= 0 or highest > lowest * 1.5:
        return None
    slack = max(low.tolerance, high.tolerance)
    for figure in reversed(figures):
        if figure.dimension == high.dimension and _statistic_ok(high, figure) and \
                lowest - slack <= figure.value <= highest + slack:
            return figure.record_id
    return None
