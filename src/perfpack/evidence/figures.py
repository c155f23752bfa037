"""The ledger's figures, built from its records (perfpack.evidence.match.figures_of): every figure, and
the ratios, percentages and differences before/after pairs and runs of one name imply. In a module of its
own: the stop hook reads the ledger's index, and builds this only when the index is out of date."""

from perfpack.evidence.claims import _METRICS, _UNITS, Claim
from perfpack.evidence.match import (
    _CHANGE_METRICS,
    _DERIVED,
    _HEADLINE,
    _INF,
    _RUNS_KEPT,
    _SECONDARY,
    CHANGE,
    DIFFERENCE,
    SECONDARY,
    Figures,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def build(records: "list[dict[str, Any]]", claims: list[Claim] | None = None) -> Figures:
    """Every figure the records hold, plus what they imply: for a before/after pair of one record, or two
    runs of one name, the change (after / before, in the CHANGE column) and the difference. With `claims`,
    only what those claims could match is built."""
    if claims is None:
        levels, ratios, percents, deltas = None, True, True, None
    else:
        levels = {claim.dimension for claim in claims if not claim.delta}
        ratios = any(claim.dimension == "ratio" for claim in claims)
        percents = any(claim.dimension == "percent" for claim in claims)
        deltas = {claim.dimension for claim in claims if claim.delta}
    delta_dimensions = None if levels is None or deltas is None else levels | deltas
    pairs = ratios or percents or delta_dimensions is None or bool(deltas) or bool(levels)
    grouped: dict[str, list[tuple[float, int, str, int]]] = {}
    ids: list[str] = []
    # order, dimension, metric, before, after, flags
    changes: list[tuple[int, str, str, float, float, int]] = []
    by_name: dict[tuple[str, str], dict[tuple[str, str, str], list[float]]] = {}
    units, aliases = _UNITS, _METRICS
    for record in records:
        if not isinstance(record, dict):
            continue
        order = len(ids)
        record_id = str(record.get("id"))
        ids.append(record_id)
        raws = record.get("figures")
        if not isinstance(raws, list):
            continue
        sides: dict[tuple[str, str, str, str], float] = {}
        named = pairs and bool(record.get("name")) and record.get("kind") != "explain"
        key = (str(record.get("kind")), str(record.get("name")))
        command = record.get("command")
        if key[0] == "profile" and isinstance(command, list) and command and any(
                isinstance(raw, dict) and raw.get("metric") == "peak" for raw in raws):
            # memory profiles are named per run ("mem-before", "mem-after"): one program's runs are its
            # runs, their peaks compared ("the peak fell 94 %"); not their wall times (slowed by the
            # profiler) nor their allocation sites (a field of ratios), nor a CPU profile's
            key = ("profile --memory", " ".join(map(str, command)))
        latest: dict[tuple[str, str, str], float] = {}
        for raw in raws:
            if not isinstance(raw, dict):
                continue
            number, unit = raw.get("value"), raw.get("unit")
            if number.__class__ not in (int, float) or unit.__class__ is not str:
                continue
            spec = units.get(unit) or units.get(unit.lower())
            if spec is None or number != number or number in (_INF, -_INF):
                continue
            dimension = spec[0]
            value = float(number) * spec[1]
            metric = raw.get("metric")
            metric = metric.lower() if metric.__class__ is str else ""
            metric = aliases.get(metric, metric)
            of = raw.get("of")
            of = of if of.__class__ is str else ""
            secondary = "bound" in raw or of.startswith("generator") or metric in _SECONDARY
            if levels is None or dimension in levels:
                grouped.setdefault(dimension, []).append(
                    (abs(value) if dimension == "percent" else value, order,
                     _compared(metric, of) if dimension in ("time", "size") else metric,
                     SECONDARY if secondary else 0))
            if pairs and dimension == "ratio" and value > 0 and "bound" in raw:
                # "even the top of the interval is a 6x speed-up": what an interval's end implies, backing
                # only a claim read as an interval's (SECONDARY)
                changes.append((order, "", "", 1.0, value, SECONDARY))
            if not pairs or secondary:
                continue
            if dimension in ("ratio", "percent"):
                if dimension == "ratio" and value > 0:
                    changes.append((order, "", "", value, 1.0, 0) if metric == "speedup"
                                   else (order, "", "", 1.0, value, 0))
                elif dimension == "percent" and metric in _CHANGE_METRICS and value > -100:
                    changes.append((order, "", "", 100.0, 100.0 + value, 0))
                continue
            side = raw.get("side")
            if side.__class__ is str and side:
                sides[(metric, dimension, of, side)] = value
            elif named and (key[0] != "profile --memory" or metric in ("peak", "live")):
                # against the name's first run (e.g. a saved baseline): "p95 126 ms then, 39.7 ms now
                # (-68.5 %)" compares with the baseline, which need not be the run before
                for previous in by_name.get(key, {}).get((metric, dimension, of), ()):
                    if previous:
                        changes.append((order, dimension, _compared(metric, of), previous, value, 0))
                latest[(metric, dimension, of)] = value
        for (metric, dimension, of, side), value in sides.items():
            partner = {"before": "after", "a": "b"}.get(side)
            if partner and (metric, dimension, of, partner) in sides and value:
                changes.append((order, dimension, _compared(metric, of), value,
                                sides[(metric, dimension, of, partner)], 0))
        if named and latest:
            runs = by_name.setdefault(key, {})
            for figure, value in latest.items():
                kept = runs.setdefault(figure, [])
                kept.append(value)
                if len(kept) > _RUNS_KEPT:
                    del kept[1]  # the first run stays: a saved baseline is often a name's first run
    headline = {order for order, _, metric, _, _, _ in changes if metric in _HEADLINE}
    for order, dimension, metric, before, after, flags in changes:
        if not before:
            continue
        # a change perfpack derives is labelled with the statistic it compares ("~p95"; "~" from a ratio
        # the record printed): a change claim must name that statistic, or be about the headline one
        derived = _DERIVED + (metric if order in headline else "")  # no median pair: its changes are it
        if ratios or percents:  # one form, after / before: the matcher reads speed-ups and percentages off it
            grouped.setdefault(CHANGE, []).append((after / before, order, derived, flags))
        if dimension and not flags and (delta_dimensions is None or dimension in delta_dimensions):
            grouped.setdefault(dimension, []).append((abs(before - after), order, metric, DIFFERENCE))
    return Figures.from_items(grouped, ids)


def _compared(metric: str, of: str) -> str:
    """The statistic a figure (or a change between two) is about: "cpu" for a CPU time's and "rss" for a
    memory's ("median" of "cpu" is not the wall median a "median 502 ms" or an unnamed "-55 %" is about)."""
    if of.startswith("cpu"):
        return "cpu"
    return "rss" if "rss" in of else metric
