"""Statistics for benchmark samples: percentiles, bootstrap intervals, MAD outliers, Mann–Whitney U.

Pure Python (no numpy/scipy) so it stays light and its results are checkable by hand.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable, Sequence

SEED = 20260501  # fixed so the same samples always give the same intervals
MAX_RESAMPLE_WORK = 500_000  # bootstrap resamples x sample size, to bound time on huge samples
NOISE_CV = 0.10  # coefficient of variation above which a run is flagged as too noisy to judge
NOISE_CI = 0.10  # relative width of the median's 95 % interval above which it is flagged too


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default, "type 7"); q in [0, 100]."""
    if not values:
        raise ValueError("percentile of no values")
    data = sorted(values)
    if len(data) == 1:
        return float(data[0])
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return float(data[lo] + (data[hi] - data[lo]) * (pos - lo))


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def stdev(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1); 0 for fewer than two values."""
    if len(values) < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / (len(values) - 1))


def _resample_count(n: int, wanted: int = 1000) -> int:
    # 1000 resamples for typical run counts, fewer (not below 200) for thousands of runs.
    return max(200, min(wanted, MAX_RESAMPLE_WORK // max(n, 1)))


def bootstrap_ci(values: Sequence[float], stat: Callable[[Sequence[float]], float], *,
                 level: float = 0.95, resamples: int = 1000, seed: int = SEED) -> tuple[float, float]:
    """Percentile bootstrap interval of `stat` over `values` (seeded, bounded number of resamples)."""
    n = len(values)
    if n < 2:
        v = stat(values)
        return (v, v)
    rng = random.Random(seed)
    count = _resample_count(n, resamples)
    data = list(values)
    estimates = sorted(stat(rng.choices(data, k=n)) for _ in range(count))
    alpha = (1 - level) / 2
    return (percentile(estimates, 100 * alpha), percentile(estimates, 100 * (1 - alpha)))


def bootstrap_ratio_ci(before: Sequence[float], after: Sequence[float], *, level: float = 0.95,
                       resamples: int = 1000, seed: int = SEED) -> tuple[float, float]:
    """Interval of median(after) / median(before), resampling each sample independently."""
    rng = random.Random(seed)
    count = _resample_count(len(before) + len(after), resamples)
    a, b = list(before), list(after)
    ratios = []
    for _ in range(count):
        base = median(rng.choices(a, k=len(a)))
        ratios.append(median(rng.choices(b, k=len(b))) / base if base > 0 else math.inf)
    ratios.sort()
    alpha = (1 - level) / 2
    return (percentile(ratios, 100 * alpha), percentile(ratios, 100 * (1 - alpha)))


def mad_outliers(values: Sequence[float], threshold: float = 3.5) -> list[int]:
    """Indices of outliers by the modified z-score 0.6745 * |x - median| / MAD > threshold (Iglewicz–Hoaglin)."""
    if len(values) < 3:
        return []
    med = median(values)
    mad = median([abs(v - med) for v in values])
    if mad == 0:
        return [i for i, v in enumerate(values) if v != med] if len(set(values)) > 1 and \
            sum(1 for v in values if v != med) <= len(values) // 10 else []
    return [i for i, v in enumerate(values) if 0.6745 * abs(v - med) / mad > threshold]


@dataclass
class Summary:
    """Descriptive statistics of one metric's samples, with 95 % bootstrap intervals."""

    n: int
    min: float
    max: float
    mean: float
    stdev: float
    median: float
    p95: float
    p99: float
    mean_ci: tuple[float, float]
    median_ci: tuple[float, float]
    p95_ci: tuple[float, float]
    p99_ci: tuple[float, float]
    outliers: int
    cv: float
    noisy: str | None  # why the samples are too noisy to judge, or None

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict) -> "Summary":
        values = dict(data)
        for key in ("mean_ci", "median_ci", "p95_ci", "p99_ci"):
            values[key] = tuple(values[key])
        return cls(**values)


def _sorted_percentile(data: Sequence[float], q: float) -> float:
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def _bootstrap_all(values: Sequence[float], level: float = 0.95, seed: int = SEED) -> dict[str, tuple[float, float]]:
    """Intervals of mean, median, p95 and p99 from one set of resamples (one sort per resample)."""
    n = len(values)
    if n < 2:
        v = float(values[0])
        return {k: (v, v) for k in ("mean", "median", "p95", "p99")}
    rng = random.Random(seed)
    data = list(values)
    est: dict[str, list[float]] = {"mean": [], "median": [], "p95": [], "p99": []}
    for _ in range(_resample_count(n)):
        sample = sorted(rng.choices(data, k=n))
        est["mean"].append(math.fsum(sample) / n)
        est["median"].append(_sorted_percentile(sample, 50))
        est["p95"].append(_sorted_percentile(sample, 95))
        est["p99"].append(_sorted_percentile(sample, 99))
    alpha = (1 - level) / 2
    return {k: (percentile(v, 100 * alpha), percentile(v, 100 * (1 - alpha))) for k, v in est.items()}


def summarize(values: Sequence[float], *, intervals: bool = True) -> Summary:
    """Summary of samples; `intervals=False` skips the bootstrap (e.g. for CPU and memory figures)."""
    if not values:
        raise ValueError("no samples")
    m = mean(values)
    sd = stdev(values)
    data = sorted(values)
    med = _sorted_percentile(data, 50)
    p95, p99 = _sorted_percentile(data, 95), _sorted_percentile(data, 99)
    cv = sd / m if m > 0 else 0.0
    if intervals:
        cis = _bootstrap_all(values)
    else:
        cis = {"mean": (m, m), "median": (med, med), "p95": (p95, p95), "p99": (p99, p99)}
    median_ci = cis["median"]
    noisy = None
    if len(values) >= 3 and cv > NOISE_CV:
        noisy = f"coefficient of variation {cv:.0%} > {NOISE_CV:.0%}"
    elif intervals and med > 0 and (median_ci[1] - median_ci[0]) / med > NOISE_CI:
        noisy = f"median's 95% interval is {(median_ci[1] - median_ci[0]) / med:.0%} of the median"
    return Summary(
        n=len(values), min=float(data[0]), max=float(data[-1]), mean=m, stdev=sd, median=med, p95=p95, p99=p99,
        mean_ci=cis["mean"], median_ci=median_ci, p95_ci=cis["p95"], p99_ci=cis["p99"],
        outliers=len(mad_outliers(values)), cv=cv, noisy=noisy,
    )


def _rank(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Average ranks (1-based) and the sizes of tie groups."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        avg = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = avg
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def _exact_u_cdf(n1: int, n2: int) -> list[float]:
    """P(U <= u) for u = 0..n1*n2 under H0 without ties (counting by dynamic programming)."""
    # counts[i][j] would be the full table; keep a dict per (i, j) row lazily via recursion on j.
    from functools import lru_cache

    @lru_cache(maxsize=None)
    def count(u: int, a: int, b: int) -> int:
        if u < 0:
            return 0
        if a == 0 or b == 0:
            return 1 if u == 0 else 0
        return count(u - b, a - 1, b) + count(u, a, b - 1)

    total = math.comb(n1 + n2, n1)
    cdf, acc = [], 0
    for u in range(n1 * n2 + 1):
        acc += count(u, n1, n2)
        cdf.append(acc / total)
    return cdf


def mann_whitney_u(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Two-sided Mann–Whitney U test: (U of x, p-value).

    Exact distribution for small samples without ties (as asv does), otherwise the normal
    approximation with tie and continuity corrections.
    """
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("Mann-Whitney U needs two non-empty samples")
    ranks, ties = _rank(list(x) + list(y))
    r1 = math.fsum(ranks[:n1])
    u1 = r1 - n1 * (n1 + 1) / 2
    u_small = min(u1, n1 * n2 - u1)
    if not ties and n1 <= 20 and n2 <= 20:
        cdf = _exact_u_cdf(n1, n2)
        return u1, min(1.0, 2 * cdf[int(round(u_small))])
    n = n1 + n2
    mu = n1 * n2 / 2
    tie_term = math.fsum(t ** 3 - t for t in ties) / (n * (n - 1)) if n > 1 else 0.0
    sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term))
    if sigma == 0:
        return u1, 1.0
    z = (abs(u1 - mu) - 0.5) / sigma
    return u1, min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))


@dataclass
class Verdict:
    """Outcome of comparing a "before" with an "after" sample of timings."""

    ratio: float  # after / before (medians, or median of pair ratios when paired); > 1 means slower
    ci: tuple[float, float]
    p_value: float
    verdict: str  # "faster", "slower" or "same"
    reason: str

    def to_dict(self) -> dict:
        return {"ratio": self.ratio, "ci": list(self.ci), "p_value": self.p_value, "verdict": self.verdict,
                "reason": self.reason}


def judge(before: Sequence[float], after: Sequence[float], *, pairs: Sequence[tuple[float, float]] | None = None,
          alpha: float = 0.05, min_effect: float = 0.05) -> Verdict:
    """Faster / slower / same: significant by Mann–Whitney U, the ratio's 95 % interval excluding 1,
    and an effect of at least `min_effect` (a 2 % change on a shared machine is not a finding)."""
    _, p = mann_whitney_u(before, after)
    if pairs:
        pair_ratios = [b / a for a, b in pairs if a > 0]
        ratio = median(pair_ratios)
        ci = bootstrap_ci(pair_ratios, median)
    else:
        base = median(before)
        ratio = median(after) / base if base > 0 else math.inf
        ci = bootstrap_ratio_ci(before, after)
    if p >= alpha:
        return Verdict(ratio, ci, p, "same", f"not significant (p={p:.3f} >= {alpha})")
    if ci[0] <= 1 <= ci[1]:
        return Verdict(ratio, ci, p, "same", "the ratio's 95% interval contains 1")
    if abs(ratio - 1) < min_effect:
        return Verdict(ratio, ci, p, "same", f"effect {ratio - 1:+.1%} below the minimum {min_effect:.0%}")
    return Verdict(ratio, ci, p, "slower" if ratio > 1 else "faster", f"significant (p={p:.3g})")
