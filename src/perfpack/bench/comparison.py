"""Comparing two measurements: like with like only, a verdict that says when it cannot judge, and every
caveat carried with the result (stored for `perfpack report` in a git-ignored folder)."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from perfpack.bench import stats
from perfpack.bench.baseline import SCHEMA_VERSION, Baseline, Measurement, write_text
from perfpack.errors import PerfpackError
from perfpack.project import state_dir

COMPARISON_TYPE = "perfpack-comparison"
KEEP_COMPARISONS = 100
MODES = ("baseline", "interleaved", "revisions")
# A side with fewer than half the runs of the other: the verdict is shown as low confidence.
RUN_RATIO_FOR_CONFIDENCE = 2.0


@dataclass
class Side:
    """One side of a comparison: what ran, when, and its statistics per metric."""

    label: str
    command: list[str]
    summary: dict[str, Any]
    n: int
    saved_at: str | None = None
    commit: str | None = None


@dataclass
class Comparison:
    """Before vs after. `verdict` is stats.Verdict.to_dict(); `notes` holds every caveat, in words."""

    label: str
    mode: str
    kind: str
    metric: str
    before: Side
    after: Side
    verdict: dict[str, Any]
    confidence: str = "normal"  # "low" when the verdict stands on an uneven or foreign footing (see notes)
    confidence_why: list[str] = field(default_factory=list)  # why it is low, one short clause each
    notes: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)  # identity differences allowed by the user
    saved_at: str = ""
    name: str | None = None

    @property
    def outcome(self) -> str:
        return str(self.verdict["verdict"])

    def shown_verdict(self, *, why: bool = True) -> str:
        """ "SLOWER", "FASTER (low confidence: what was measured differs)", "INCONCLUSIVE", ...

        `why=False`: "FASTER (low confidence)", where there is no room for the reasons (a chart)."""
        word = self.outcome.upper()
        if self.confidence == "low" and self.outcome in ("faster", "slower", "same"):
            reasons = "; ".join(self.confidence_why[:3]) if why else ""
            word += f" (low confidence: {reasons})" if reasons else " (low confidence)"
        return word

    def lower_confidence(self, why: str) -> None:
        """Mark the verdict low confidence, for the reason `why` (one short clause)."""
        self.confidence = "low"
        if why not in self.confidence_why:
            self.confidence_why.append(why)

    def is_regression(
        self, max_regression: float | None, min_effect: float = stats.MIN_EFFECT_DEFAULT
    ) -> bool:
        """A significant slowdown beyond the allowance (default: the minimum effect size)."""
        allowance = min_effect if max_regression is None else max_regression
        return self.outcome == "slower" and self.verdict["ratio"] - 1 > allowance

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update({"schema_version": SCHEMA_VERSION, "type": COMPARISON_TYPE})
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        fields["before"] = Side(**data["before"])
        fields["after"] = Side(**data["after"])
        return cls(**fields)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def not_comparable(what: str, differences: Sequence[str]) -> PerfpackError:
    return PerfpackError(
        f"not comparable with {what}: " + "; ".join(differences),
        hint="measure the same thing, or pass --allow-changed-command to compare anyway "
        "(the result and the report will say what differed)",
    )


def with_baseline(
    baseline: Baseline,
    measurement: Measurement,
    *,
    min_effect: float = stats.MIN_EFFECT_DEFAULT,
    allow_changed: bool = False,
    label: str | None = None,
    host: dict[str, Any] | None = None,
) -> Comparison:
    """Compare a new measurement with a saved baseline, unpaired (Mann-Whitney U, bootstrap ratio interval).

    A different kind or metric is never comparable; a different command, shell, working directory,
    pinned variable or kind-specific setting is refused (PerfpackError, exit 2) unless `allow_changed`,
    and then listed in `differences` and the notes. `host`: this machine's host_info(), to note a
    baseline from another machine.
    """
    name = baseline.name
    if baseline.kind != measurement.kind or baseline.measurement.metric != measurement.metric:
        raise not_comparable(
            f"baseline {name!r}",
            [
                f"it holds a {baseline.kind} measurement of "
                f"{baseline.measurement.metric}, this is {measurement.kind} of "
                f"{measurement.metric}"
            ],
        )
    differences = baseline.identity.differences(measurement.identity)
    if differences and not allow_changed:
        raise not_comparable(f"baseline {name!r}", differences)
    before, after = baseline.measurement.values(), measurement.values()
    verdict = stats.judge(before, after, min_effect=min_effect)
    notes: list[str] = []
    confidence = "normal"
    why: list[str] = []
    if differences:
        notes.append(
            "compared although what was measured differs (--allow-changed-command): " + "; ".join(differences)
        )
        confidence = "low"
        why.append("what was measured differs")
    if baseline.identity.cwd is None:
        notes.append(
            "the baseline (schema 1) did not record its working directory or pinned variables; "
            "re-save it to compare those too"
        )
    n_before, n_after = len(before), len(after)
    # A load run's request count is an outcome, not a setting: a closed loop that got faster sends more
    # requests in the same --duration, and thousands of them on each side pin the median down anyway.
    if measurement.kind != "load" and \
            max(n_before, n_after) >= RUN_RATIO_FOR_CONFIDENCE * min(n_before, n_after):
        confidence = "low"
        why.append(f"{n_after:,} runs now against {n_before:,} in the baseline")
        notes.append(
            f"low confidence: {n_after} runs now against {n_before} in the baseline; "
            f"re-run with --runs {n_before} for a verdict on equal footing"
        )
    here = (host or {}).get("fingerprint")
    there = baseline.host_fingerprint
    if here and there and here != there:
        confidence = "low"
        why.append("the baseline was measured on another machine")
        host_name = (baseline.environment.get("host") or {}).get("hostname", "?")
        notes.append(
            f"low confidence: the baseline was measured on another machine ({host_name}, "
            f"fingerprint {there}; this one is {here})"
        )
    notes += _noise_notes(baseline.summary, "the baseline", measurement.summary(), "this run")
    notes += _cpu_notes(baseline.summary, measurement.summary(), verdict.verdict)
    if verdict.verdict == "inconclusive":
        notes.append(f"inconclusive: {verdict.reason}; no direction is claimed")
    return Comparison(
        label=label or name,
        mode="baseline",
        kind=measurement.kind,
        metric=measurement.metric,
        before=Side(
            label=f"baseline {name}",
            command=baseline.identity.command,
            summary=baseline.summary,
            n=n_before,
            saved_at=baseline.saved_at,
            commit=baseline.commit,
        ),
        after=Side(
            label="this run",
            command=measurement.identity.command,
            summary=measurement.summary(),
            n=n_after,
            saved_at=_now(),
        ),
        verdict=verdict.to_dict(),
        confidence=confidence,
        confidence_why=why,
        notes=notes,
        differences=differences,
        saved_at=_now(),
        name=name,
    )


def interleaved(
    a: Measurement,
    b: Measurement,
    *,
    label: str,
    mode: str = "interleaved",
    labels: tuple[str, str] = ("A", "B"),
    commits: tuple[str | None, str | None] = (None, None),
    min_effect: float = stats.MIN_EFFECT_DEFAULT,
    name: str | None = None,
) -> Comparison:
    """Compare A and B measured in pairs (same index = one pair): ratio = median of pair ratios B/A."""
    va, vb = a.values(), b.values()
    pairs = list(zip(va, vb, strict=True))
    verdict = stats.judge(va, vb, pairs=pairs, min_effect=min_effect)
    notes = _noise_notes(a.summary(), labels[0], b.summary(), labels[1])
    notes += _cpu_notes(a.summary(), b.summary(), verdict.verdict)
    if verdict.verdict == "inconclusive":
        notes.append(f"inconclusive: {verdict.reason}; no direction is claimed")
    now = _now()
    return Comparison(
        label=label,
        mode=mode,
        kind=a.kind,
        metric=a.metric,
        before=Side(
            label=labels[0],
            command=a.identity.command,
            summary=a.summary(),
            n=len(va),
            saved_at=now,
            commit=commits[0],
        ),
        after=Side(
            label=labels[1],
            command=b.identity.command,
            summary=b.summary(),
            n=len(vb),
            saved_at=now,
            commit=commits[1],
        ),
        verdict=verdict.to_dict(),
        notes=notes,
        saved_at=now,
        name=name,
    )


def _noise_notes(
    before: dict[str, Any], before_label: str, after: dict[str, Any], after_label: str
) -> list[str]:
    out = []
    for label, summary in ((before_label, before), (after_label, after)):
        wall = _main_statistics(summary)
        if wall and wall.get("noisy"):
            out.append(f"{label} is noisy: {wall['noisy']}")
    return out


CPU_RISE = 1.2  # CPU time up this much while the wall clock did not rise: said in a note


def _cpu_notes(before: dict[str, Any], after: dict[str, Any], verdict: str) -> list[str]:
    """The verdict judges the wall clock only: a change that is faster (or no slower) by spending more
    CPU (more cores, busy-waiting) says so, since a loaded machine or a busy server has none to spare."""
    from perfpack.bench.units import format_seconds

    if verdict not in ("faster", "same"):
        return []
    cpu_before = (before.get("cpu_s") or {}).get("median") or 0.0
    cpu_after = (after.get("cpu_s") or {}).get("median") or 0.0
    if cpu_before <= 0 or cpu_after < CPU_RISE * cpu_before:
        return []
    wall = "fell" if verdict == "faster" else "did not change"
    return [
        f"the CPU time rose {cpu_after / cpu_before:.2f}x (median {format_seconds(cpu_before)} -> "
        f"{format_seconds(cpu_after)}) while the wall clock {wall}: the change spends more CPU (more cores "
        "or busy-waiting), which a loaded machine or a busy server does not have to spare"
    ]


def _main_statistics(summary: dict[str, Any]) -> dict[str, Any] | None:
    found = summary.get("wall_s") or next((v for v in summary.values() if v), None)
    return found if isinstance(found, dict) else None


def noise_percentages(summary: dict[str, Any]) -> tuple[float, float] | None:
    """The two percentages a noise note prints ("the median's 95% interval is 52% of the median (run-to-run
    variation 28%)"), unrounded, or None when the sample is not noisy: for the ledger record."""
    wall = _main_statistics(summary)
    if not wall or not wall.get("noisy"):
        return None
    ci, median = wall.get("median_ci"), wall.get("median") or 0.0
    if not ci or median <= 0:
        return None
    return (ci[1] - ci[0]) / median * 100, (wall.get("spread") or 0.0) * 100


# ------------------------------------------------------------------ stored comparisons (for the report)
def comparisons_dir(root: Path) -> Path:
    return state_dir(Path(root), "comparisons")


def _ignore_folder(folder: Path) -> None:
    """Stored comparisons are this machine's scratch for `perfpack report`: a .gitignore of `*` inside
    the folder keeps `git add -A` from staging them, without touching the project's own .gitignore."""
    marker = folder / ".gitignore"
    if not os.path.lexists(marker):
        write_text(marker, "# perfpack: comparisons kept for `perfpack report`; local to this machine\n*\n")


def store(root: Path, comparison: Comparison) -> Path:
    """Keep a comparison for `perfpack report` (one compact JSON file; the newest KEEP_COMPARISONS stay)."""
    folder = comparisons_dir(root)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", comparison.label)[:40].strip("-.") or "compare"
    path = folder / f"{stamp}.{time.time_ns() % 1_000_000_000:09d}-{slug}.json"
    write_text(path, json.dumps(comparison.to_dict(), sort_keys=True, allow_nan=False) + "\n")
    _ignore_folder(folder)
    for stale in sorted(folder.glob("*.json"))[:-KEEP_COMPARISONS]:
        try:
            stale.unlink()
        except OSError:
            pass
    return path


def list_stored(root: Path, limit: int = 20) -> tuple[list[Comparison], list[str]]:
    """The newest stored comparisons (oldest first), and one line per file that could not be read."""
    from perfpack.bench.baseline import _check_record, read_json

    folder = comparisons_dir(Path(root))
    if not folder.is_dir():
        return [], []
    out, skipped = [], []
    for path in sorted(folder.glob("*.json"))[-limit:]:
        try:
            data = _check_record(
                path, read_json(path, what="comparison"), what="comparison", file_type=COMPARISON_TYPE
            )
            out.append(Comparison.from_dict(data))
        except PerfpackError as exc:
            skipped.append(exc.message)
        except (KeyError, TypeError) as exc:
            skipped.append(f"{path.name}: unreadable comparison ({exc})")
    return out, skipped
