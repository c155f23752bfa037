"""Every saved run of a baseline name over time: a committable history, its trend and its change points.

ROOT/.claude/perfpack/history/NAME.jsonl holds one small JSON line per saved run (commit, date, host
fingerprint, percentiles, CPU, peak RSS), appended with one write so parallel saves never interleave.
Change points are found by binary segmentation of the medians (least absolute deviations) and kept only
when the step is at least the minimum effect AND larger than the runs' own noise: the medians' 95 %
intervals of both sides must not overlap, and the step must stand out from the scatter within the
segments. A point where the command or the machine changed is marked as such.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfpack.bench import stats
from perfpack.bench.baseline import Baseline, check_name
from perfpack.errors import PerfpackError
from perfpack.project import state_dir

RECORD_VERSION = 1
MAX_HISTORY_BYTES = 16 * 1024 * 1024
MAX_ANALYSED = 1000  # the newest records a trend is computed on
_SPARK = "▁▂▃▄▅▆▇█"


def history_dir(root: Path) -> Path:
    return state_dir(Path(root), "history")


def history_path(root: Path, name: str) -> Path:
    return history_dir(root) / f"{check_name(name)}.jsonl"


def record_of(baseline: Baseline) -> dict[str, Any]:
    """The small history line of one saved run."""
    m = baseline.measurement
    main = baseline.summary.get(m.metric) or {}
    cpu = baseline.summary.get("cpu_s")
    rss = baseline.summary.get("rss_bytes")
    host = baseline.environment.get("host") or {}
    git = baseline.environment.get("git") or {}
    small_figures = {
        k: v for k, v in m.figures.items() if isinstance(v, (int, float, str, bool)) or v is None
    }
    return {
        "v": RECORD_VERSION,
        "kind": m.kind,
        "name": m.name,
        "saved_at": baseline.saved_at,
        "commit": git.get("commit"),
        "dirty": git.get("dirty"),
        "host": host.get("fingerprint"),
        "hostname": host.get("hostname"),
        "identity": m.identity.digest(),
        "metric": m.metric,
        "n": main.get("n"),
        "min": main.get("min"),
        "p25": main.get("p25"),
        "median": main.get("median"),
        "p75": main.get("p75"),
        "p95": main.get("p95"),
        "p99": main.get("p99"),
        "max": main.get("max"),
        "median_ci": main.get("median_ci"),
        "cpu_s": cpu.get("median") if cpu else None,
        "rss_bytes": rss.get("max") if rss else None,
        "figures": small_figures,
    }


def append(root: Path, baseline: Baseline) -> Path:
    """Append one line for a saved run (O_APPEND, never through a symlink or into a FIFO)."""
    from perfpack.safeio import append_nofollow

    path = history_path(root, baseline.name)
    line = json.dumps(record_of(baseline), sort_keys=True, ensure_ascii=True, allow_nan=False) + "\n"
    try:
        os.makedirs(path.parent, exist_ok=True)
    except OSError as exc:
        raise PerfpackError(f"{path.parent}: cannot write: {exc.strerror or exc}") from None
    append_nofollow(path, line.encode("ascii"), mode=0o644)
    return path


@dataclass
class ChangePoint:
    """Where the median stepped: records[index] is the first run after the step."""

    index: int
    before: float  # median of the segment's medians before
    after: float
    saved_at: str
    commit: str | None
    marks: list[str] = field(default_factory=list)  # "the command changed here", "another machine"

    @property
    def ratio(self) -> float:
        return self.after / self.before if self.before > 0 else math.inf


@dataclass
class History:
    name: str
    records: list[dict[str, Any]]
    change_points: list[ChangePoint]
    skipped: list[str]
    min_effect: float

    @property
    def trend(self) -> float | None:
        """Newest segment's median over the first segment's (None with fewer than two runs)."""
        if len(self.records) < 2:
            return None
        bounds = [0, *[c.index for c in self.change_points], len(self.records)]
        first = stats.median([r["median"] for r in self.records[bounds[0] : bounds[1]]])
        last = stats.median([r["median"] for r in self.records[bounds[-2] : bounds[-1]]])
        return last / first if first > 0 else None

    def trend_words(self) -> str | None:
        """The trend as people read it (None with fewer than two runs). Without a change point there is
        one level, so a ratio would always read +0.0% however the medians moved: say so instead."""
        trend = self.trend
        if trend is None:
            return None
        if not self.change_points:
            return "one level: no step beyond the runs' noise"  # nor the minimum effect
        from perfpack.bench.units import format_percent

        return f"newest level {format_percent(trend)} against the first"

    def sparkline(self, width: int = 40) -> str:
        values = [r["median"] for r in self.records[-width:]]
        if not values:
            return ""
        lo, hi = min(values), max(values)
        if hi <= lo:
            return _SPARK[3] * len(values)
        return "".join(_SPARK[min(len(_SPARK) - 1, int((v - lo) / (hi - lo) * len(_SPARK)))] for v in values)


def _valid(entry: Any) -> bool:
    if not isinstance(entry, dict) or entry.get("v") != RECORD_VERSION:
        return False
    median = entry.get("median")
    if (
        not isinstance(median, (int, float))
        or isinstance(median, bool)
        or not math.isfinite(median)
        or median < 0
    ):
        return False
    ci = entry.get("median_ci")
    return ci is None or (
        isinstance(ci, list) and len(ci) == 2 and all(isinstance(x, (int, float)) for x in ci)
    )


def read_records(root: Path, name: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The history lines of NAME, oldest first, and one note per line that could not be used."""
    from perfpack.safeio import loads_json_strict, read_user_bytes
    from perfpack.terminal import one_line

    path = history_path(root, name)
    try:
        raw = read_user_bytes(path, what="history", max_bytes=MAX_HISTORY_BYTES)
    except FileNotFoundError:
        return [], []
    records, skipped = [], []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = loads_json_strict(line, what=f"line {number}", max_depth=8)
        except PerfpackError as exc:
            skipped.append(one_line(f"{path.name}: {exc.message}", limit=200))
            continue
        if not _valid(entry):
            skipped.append(f"{path.name}: line {number}: not a perfpack history record")
            continue
        records.append(entry)
    return records, skipped


def _half_width(record: dict[str, Any]) -> float:
    ci = record.get("median_ci")
    return (ci[1] - ci[0]) / 2 if ci else 0.0


def change_points(
    records: list[dict[str, Any]], *, min_effect: float = stats.MIN_EFFECT_DEFAULT
) -> list[int]:
    """Indices where a significant step in the medians begins (binary segmentation, L1 cost)."""
    values = [float(r["median"]) for r in records]

    def cost(segment: list[float]) -> float:
        if not segment:
            return 0.0
        mid = stats.median(segment)
        return math.fsum(abs(v - mid) for v in segment)

    def significant(lo: int, k: int, hi: int) -> bool:
        left, right = values[lo:k], values[k:hi]
        ml, mr = stats.median(left), stats.median(right)
        if ml <= 0 or abs(mr / ml - 1) < min_effect:
            return False
        step = abs(mr - ml)
        # the runs' own noise: typical half-width of the medians' intervals on each side
        noise = stats.median([_half_width(r) for r in records[lo:k]]) + stats.median(
            [_half_width(r) for r in records[k:hi]]
        )
        if step <= noise:
            return False
        # scatter of the medians around their segment's median (robust), scaled to a difference of medians
        residuals = [abs(v - ml) for v in left] + [abs(v - mr) for v in right]
        scatter = 1.4826 * stats.median(residuals)
        return step > 3 * scatter * math.sqrt(1 / len(left) + 1 / len(right))

    found: list[int] = []

    def split(lo: int, hi: int, depth: int = 0) -> None:
        if hi - lo < 2 or depth > 30:
            return
        best_k, best_cost = -1, math.inf
        for k in range(lo + 1, hi):
            c = cost(values[lo:k]) + cost(values[k:hi])
            if c < best_cost:
                best_k, best_cost = k, c
        if best_k > 0 and significant(lo, best_k, hi):
            split(lo, best_k, depth + 1)
            found.append(best_k)
            split(best_k, hi, depth + 1)

    split(0, len(values))
    return sorted(found)


def analyse(
    name: str,
    records: list[dict[str, Any]],
    skipped: list[str],
    *,
    min_effect: float = stats.MIN_EFFECT_DEFAULT,
) -> History:
    records = records[-MAX_ANALYSED:]
    points = []
    indices = change_points(records, min_effect=min_effect)
    bounds = [0, *indices, len(records)]
    for i, k in enumerate(indices):
        before = stats.median([r["median"] for r in records[bounds[i] : k]])
        after = stats.median([r["median"] for r in records[k : bounds[i + 2]]])
        marks = []
        if records[k].get("identity") != records[k - 1].get("identity"):
            marks.append("what was measured changed here (command, directory, pinned variables or settings)")
        if records[k].get("host") != records[k - 1].get("host"):
            marks.append(f"measured on another machine from here ({records[k].get('hostname') or '?'})")
        points.append(
            ChangePoint(
                index=k,
                before=before,
                after=after,
                saved_at=str(records[k].get("saved_at")),
                commit=records[k].get("commit"),
                marks=marks,
            )
        )
    return History(name=name, records=records, change_points=points, skipped=skipped, min_effect=min_effect)


def read_history(root: Path, name: str, *, min_effect: float = stats.MIN_EFFECT_DEFAULT) -> History:
    """Every saved run of NAME (oldest first) with its change points; empty when nothing was saved."""
    records, skipped = read_records(root, name)
    return analyse(name, records, skipped, min_effect=min_effect)


def names(root: Path) -> list[str]:
    """Names with a history file, sorted."""
    folder = history_dir(Path(root))
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        try:
            out.append(check_name(path.stem))
        except PerfpackError:
            continue
    return out
