"""Matching claims against the ledger: is each figure an agent states one that perfpack measured?

A claim matches a ledger figure of the same dimension when they agree within the claim's printed
precision (1.64 s covers 1,635-1,645 ms; "670 ms" may be 665-675), and, when both name a statistic,
the same statistic (a p95 claim never matches a median record). Ratios and percentages also match the
speed-ups and changes the records imply: -59 % time is 2.44 x faster and a ratio of 0.41; a difference
("saves 970 ms") matches the difference of a before/after pair.

The stop hook runs this on every pack agent's final message, against ledgers of hundreds of records:
figures are kept per dimension, sorted by value, and a claim looks only at the window its precision
allows (bisect), never at the whole ledger.
"""

from perfpack.evidence.claims import AT_PEAK, Claim

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_MEMORY = {"rss", "peak", "peak_bytes", "memory"}
_SAME_STATISTIC = {"p50": {"p50", "median"}, "median": {"p50", "median"}, "mean": {"mean", "avg", "average"},
                   "rss": _MEMORY, "memory": _MEMORY, "peak": _MEMORY | {"max"},
                   # live at the peak: the peak itself, or an allocation site's bytes at it (profile --memory)
                   AT_PEAK: _MEMORY | {"bytes"},
                   "rate": {"rate", "achieved_rate"}}
_LEVELS = {"cpu": {"cpu", "cpu_pct", "cpu_percent"}}  # percentages that are levels, not changes
_EPSILON = 1e-6  # relative: float error in unit conversions (1.64 s * 1000), never a looser rounding
_CHANGE_METRICS = ("change_pct", "change", "delta_pct")
_DERIVED = "~"  # the metric of a change perfpack derived from two figures: "~" + the statistic compared
_HEADLINE = {"", "p50", "median", "mean", "avg", "wall"}  # what an unnamed "2.4x faster" is about
# shares a claim can name: of a profile's samples, of the requests that failed
_SHARES = {"samples": {"self", "total", "inner", "imports"},  # "% of the samples": a CPU profile's
           "share": {"self", "total", "inner", "imports", "share", "share before", "share after"},
           "errors": {"error_rate", "errors", "timeout_rate"}}
_INF = float("inf")
_ANY: frozenset[str] = frozenset()  # no restriction on the kind of record
_WALL_CLOCK = frozenset(("bench", "compare"))  # one command's wall clock: a pair may take a side from each
# Flags of a figure (the index's fourth column): a difference of two measurements; a figure that qualifies a
# headline one (an interval bound, a spread, the noise notes, the load generator's own lag and CPU), which
# backs only a claim read in such a context ("[355 ms – 585 ms]", "± 94 ms", "generator lag p99 2 ms").
DIFFERENCE, SECONDARY = 1, 2
# The dimension of the changes perfpack derives from two figures, each kept once as after / before.
CHANGE = "change"
_SECONDARY = {"stdev", "median_ci_width", "variation", "achieved_of_target"}
# Earlier runs of one name a run is compared with: its first (often the saved baseline). More (the first and
# the 8 latest, then the first and the previous) made a name's history a field of changes an invented
# percentage lands on, and the ledger's index twice as large to read at every stop; no genuine report of the
# corpus needed them.
_RUNS_KEPT = 1


class Figures:
    """The ledger's figures by dimension, as parallel sequences sorted by key: the value in the dimension's
    base unit (percentages by size: -59 % and 59 % alike), the record's position in the ledger (the newest
    backing record wins), the statistic (an index into `metrics`) and whether it is a difference of two
    measurements. Lists when built from the records; memoryviews over the bytes of the ledger's index file
    (perfpack.evidence.index) when read from it, so a ledger of hundreds of records costs the stop hook
    one small read, never a parse."""

    __slots__ = ("columns", "ids", "metrics")

    def __init__(self, columns: "dict[str, tuple[Any, Any, Any, Any]]", ids: list[str],
                 metrics: list[str]) -> None:
        self.columns = columns  # dimension -> (keys, orders, metric indices, delta flags)
        self.ids = ids  # order -> record id
        self.metrics = metrics

    @classmethod
    def from_items(cls, grouped: "dict[str, list[tuple[float, int, str, int]]]",
                   ids: list[str]) -> "Figures":
        metrics: list[str] = []
        codes: dict[str, int] = {}
        columns = {}
        for dimension, items in grouped.items():
            items.sort()
            for item in items:
                if item[2] not in codes:
                    codes[item[2]] = len(metrics)
                    metrics.append(item[2])
            columns[dimension] = ([item[0] for item in items], [item[1] for item in items],
                                  [codes[item[2]] for item in items], [int(item[3]) for item in items])
        return cls(columns, ids, metrics)

    def window(self, dimension: str, low: float, high: float) -> range:
        column = self.columns.get(dimension)
        if not column:
            return range(0)
        keys = column[0]
        return range(_bisect(keys, low, False), _bisect(keys, high, True))

    def __len__(self) -> int:
        return sum(len(column[0]) for column in self.columns.values())


def _bisect(keys: "Any", value: float, right: bool) -> int:
    """bisect_left / bisect_right over a list or a memoryview (no `bisect` import on the hook's path)."""
    low, high = 0, len(keys)
    while low < high:
        middle = (low + high) // 2
        if keys[middle] < value or (right and keys[middle] == value):
            low = middle + 1
        else:
            high = middle
    return low


def figures_of(records: "list[dict[str, Any]]", claims: list[Claim] | None = None) -> Figures:
    """Every figure the records hold, plus what they imply: for a before/after pair of one record, or two
    runs of one name, the ratio, the speed-up, the percentage change and the difference. With `claims`,
    only what those claims could match is built."""
    from perfpack.evidence.figures import build  # the stop hook reads the index: it rarely builds

    return build(records, claims)


_CENTRAL = (None, "p50", "median", "mean")


def _statistic_ok(claim: Claim, metric: str) -> bool:
    if claim.cpu and claim.metric in _CENTRAL and metric in ("cpu", _DERIVED + "cpu"):
        return True  # "CPU didn't drop (436 ms -> 534 ms median)", "1,450 ms CPU": the CPU time's median
    if claim.dimension == "percent" and claim.metric in _LEVELS:
        if claim.direction and metric.startswith(_DERIVED):
            return metric[len(_DERIVED):] == claim.metric  # "CPU -55 %": a change of the CPU time
        return metric in _LEVELS[claim.metric]  # "CPU 45 %": a level
    if claim.dimension in ("ratio", "percent"):
        if claim.metric in _SHARES:  # "93 % of the samples": a profile's share, never a change
            return metric in _SHARES[claim.metric]
        if not metric.startswith(_DERIVED):
            # a ratio or change the record printed; a level percentage (a profile share, an error rate)
            # backs neither a change ("63 % faster", "p95 -59 %") nor a ratio, only a figure said as a level
            return claim.dimension == "ratio" or metric in _CHANGE_METRICS or metric.endswith(" change") or \
                claim.secondary or not claim.direction
        source = metric[len(_DERIVED):]
        if not source:
            return True  # from a ratio the record printed, or from a record whose only pairs these are
        if claim.metric:
            return source == claim.metric or source in _SAME_STATISTIC.get(claim.metric, ())
        return source in _HEADLINE  # an unnamed change: of the median (or what the record printed)
    if claim.delta and not claim.metric:
        return metric in _HEADLINE  # an unnamed "saves about 0.5 s" is the median's, not any p95's or max's
    if not claim.metric or not metric:
        return True
    same = _SAME_STATISTIC.get(claim.metric, {claim.metric})
    return metric in same or claim.metric == metric


def _newest(claim: Claim, figures: Figures, dimension: str, window: range,
            kinds: frozenset[str] = _ANY) -> int:
    """The order of the newest figure in `window` that fits the claim's statistic, kind and direction (and
    comes from a record of one of `kinds`, when given); -1."""
    best = -1
    if not window:
        return best
    keys, orders, codes, deltas = figures.columns[dimension]
    metrics = figures.metrics
    for position in window:
        order, code = orders[position], codes[position]
        if kinds and figures.ids[order].partition("-")[0] not in kinds:
            continue
        if order <= best or not _statistic_ok(claim, metrics[code] if code < len(metrics) else "") or \
                claim.delta != bool(deltas[position] & DIFFERENCE) or \
                (deltas[position] & SECONDARY and not claim.secondary):
            continue
        if dimension == "ratio" and keys[position] < 1 <= claim.value:
            continue  # "2.4x" is a speed-up, "0.41x" a ratio
        best = order
    return best


def _inverse(low: float, high: float) -> tuple[float, float]:
    """{1 / x for x in [low, high]} for 0 <= low <= high (1 / 0 is infinite, 1 / infinity 0)."""
    return (1 / high if high > 0 else _INF) if high < _INF else 0.0, 1 / low if low > 0 else _INF


def _change_windows(claim: Claim, low: float, high: float) -> list[tuple[float, float]]:
    """Where a ratio or percentage claim's window [low, high] lies among the derived changes, each kept in
    one form, r = after / before: a ratio is r or a speed-up 1 / r ("2.4x" is r = 0.41), a percentage
    |r - 1| or |1 / r - 1| ("-59 %" is r = 0.41, "144 % faster" too)."""
    low = max(low, 0.0)
    if high < low:
        return []
    if claim.dimension == "ratio":
        if claim.value >= 1:
            low = max(low, 1.0)  # "2.4x" is a speed-up or a slow-down, never a ratio below 1
            if high < low:
                return []
        return [(low, high), _inverse(low, high)]
    near, far = low / 100, high / 100  # a change of 1 +- [near, far]
    up = (1 + near, 1 + far)
    down = (max(1 - far, 0.0), 1 - near) if near <= 1 else None
    windows = [up, _inverse(*up)]  # "+31 %" of a figure, or of its inverse (a time's, said of a rate)
    if claim.direction == "more":
        return windows  # "up 31 %" is not r = 1 / 0.69: that rise is 45 %, the fall of its inverse 31 %
    if down is not None:
        windows += [down, _inverse(*down)]
    return windows


def _best(claim: Claim, figures: Figures, low: float, high: float,
          kinds: frozenset[str] = _ANY) -> str | None:
    """The id of the newest record with a figure in [low, high] (in the claim's dimension, and for a ratio
    or a percentage among the derived changes too) that fits the claim."""
    best = _newest(claim, figures, claim.dimension, figures.window(claim.dimension, low, high), kinds)
    if claim.dimension in ("ratio", "percent") and CHANGE in figures.columns:
        for start, stop in _change_windows(claim, low, high):
            best = max(best, _newest(claim, figures, CHANGE, figures.window(CHANGE, start, stop), kinds))
    return figures.ids[best] if 0 <= best < len(figures.ids) else None


def match(claim: Claim, figures: Figures, kinds: frozenset[str] = _ANY) -> str | None:
    """The id of the newest ledger record (of one of `kinds`, when given) that backs `claim`, or None. A
    statistic the claim only inherited from its neighbour ("p95 131 ms, down from 412 ms") is a guess:
    tried first, not required. A figure said of production is an extrapolation: perfpack measured none."""
    if claim.elsewhere:
        return None
    found = _match(claim, figures, kinds)
    if found is None and claim.inherited and claim.metric:
        metric = claim.metric
        claim.metric = None
        try:
            found = _match(claim, figures, kinds)
        finally:
            claim.metric = metric
    return found


def _match(claim: Claim, figures: Figures, kinds: frozenset[str]) -> str | None:
    value = abs(claim.base_value) if claim.dimension == "percent" else claim.base_value
    slack = claim.tolerance * 1.001 + abs(value) * 2 * _EPSILON
    if claim.bound == "min":
        return _best(claim, figures, value - slack, _INF, kinds)
    if claim.bound == "max":
        return _best(claim, figures, -_INF, value + slack, kinds)
    candidates = [value]
    if claim.dimension == "size" and claim.unit.lower() in ("kb", "mb", "gb"):
        binary = {"kb": 1024.0, "mb": 1024.0 ** 2, "gb": 1024.0 ** 3}[claim.unit.lower()]
        candidates.append(claim.value * binary)  # "212 MB" written for 212 MiB
    for candidate in candidates:
        found = _best(claim, figures, candidate - slack, candidate + slack, kinds)
        if found is not None:
            return found
    return None


def _family(record_id: str) -> frozenset[str]:
    """The kinds of record whose figures can stand on either side of one before -> after pair."""
    kind = record_id.partition("-")[0]
    return _WALL_CLOCK if kind in _WALL_CLOCK else frozenset((kind,))


def _pair_of_one_measurement(claims: list[Claim], found: list[str | None], figures: Figures) -> None:
    """A before -> after pair ("279 ms -> 3.2 ms") may take its sides from two records, but of one kind of
    measurement: a query's time before and a server's latency after is not a change anyone measured. When
    the sides' records are of different kinds, each side is tried among the other's kind; a pair that fits
    neither way leaves its after side unverified."""
    for position, claim in enumerate(claims):
        other = claim.partner
        if other is None or other <= position or claim.range_of is not None or \
                claims[other].range_of is not None:
            continue
        first, second = found[position], found[other]
        if first is None or second is None or _family(first) == _family(second):
            continue
        if match(claims[other], figures, _family(first)) is None and \
                match(claim, figures, _family(second)) is None:
            found[other] = None


def match_range(low: Claim, high: Claim, figures: Figures) -> str | None:
    """A narrow range ("40–45 ms", "between 1.6 and 1.7 s": its high end at most 1.25 times its low end) is
    backed by a figure inside it; a wide one ("10–100 ms") only when both its ends are (checked by `match`
    on each end)."""
    lowest, highest = low.base_value, high.base_value
    if lowest <= 0 or highest <= lowest or highest > lowest * 1.25:
        return None  # a range written high to low, or wider than a quarter, is two figures to back
    slack = max(low.tolerance, high.tolerance)
    return _best(high, figures, lowest - slack, highest + slack)


def match_all(claims: list[Claim], figures: Figures) -> list[str | None]:
    """`match` for every claim, then ranges: a narrow range is backed by a figure inside it."""
    found = [match(claim, figures) for claim in claims]
    _pair_of_one_measurement(claims, found, figures)
    for position, claim in enumerate(claims):
        low = claim.range_of
        if low is None:
            continue
        low_position = claim.partner if claim.partner is not None and claims[claim.partner] is low \
            else claims.index(low)
        if found[position] is None or found[low_position] is None:
            inside = match_range(low, claim, figures)
            if inside is not None:
                found[position] = found[low_position] = inside
    return found


# --- the ledger's index: the reading half (perfpack.evidence.index writes it) ------------------------------

INDEX_VERSION = 10  # 2: derived changes carry the statistic they compare; 3: flags DIFFERENCE | SECONDARY;
# 4: a run is compared with its name's first and previous runs only; 5: a CPU or RSS pair's changes say so;
# 6: a run is compared with its name's first run only; 7: an RSS figure says "rss" as a CPU figure says "cpu";
# 8: one marshal blob instead of a JSON header and a binary body, and a derived change kept once (CHANGE);
# 9: the changes a ratio's interval bounds imply (SECONDARY); 10: profiles of one program compare by command
INDEX_NAME = "ledger.index"
MAX_INDEX_BYTES = 64 * 1024 * 1024

def index_paths(root: str) -> tuple[str, str]:
    from perfpack.lightos import join

    folder = join(root, ".claude", "perfpack")
    return join(folder, "ledger.jsonl"), join(folder, INDEX_NAME)


def ledger_key(ledger: str) -> list[int] | None:
    """[size, mtime_ns, inode] of the ledger when it is a regular file (not a link), else None."""
    from perfpack.lightos import _native

    try:
        info = _native.lstat(ledger)
    except (OSError, ValueError):
        return None
    if info.st_mode & 0o170000 != 0o100000:
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ino]


def load_index(root: str, read_regular: "Any") -> Figures | None:
    """The index when it describes the ledger as it is now; None otherwise (or for any doubt about it)."""
    import marshal  # built in, already loaded by the interpreter's start (`_json` is a shared library)

    ledger, path = index_paths(root)
    key = ledger_key(ledger)
    if key is None:
        return None
    data = read_regular(path, MAX_INDEX_BYTES)
    if not data:
        return None
    try:
        version, stored, ids, metrics, layout = marshal.loads(data)
        if version != INDEX_VERSION or stored != key or ids.__class__ is not list or \
                metrics.__class__ is not list or layout.__class__ is not dict:
            return None
        columns = {}
        for dimension, blobs in layout.items():
            keys, orders, codes, flags = (memoryview(blob) for blob in blobs)
            column = (keys.cast("d"), orders.cast("i"), codes.cast("H"), flags.cast("B"))
            if not len(column[0]) == len(column[1]) == len(column[2]) == len(column[3]):
                return None
            columns[str(dimension)] = column
    except Exception:  # a damaged or foreign index is only ever not used
        return None
    return Figures(columns, [str(i) for i in ids], [str(m) for m in metrics])
