"""Statistics for benchmark samples: percentiles, bootstrap intervals, MAD outliers, Mann–Whitney U.

Pure Python (no numpy/scipy) so it stays light and its results are checkable by hand. The intervals of
one sample's median, p95 and p99 are the exact bootstrap (binomial distribution of order statistics, no
resampling), the mean's comes from its exact bootstrap variance: a summary of 1,000 runs costs ~2 ms,
where 1,000 resamples cost ~150 ms and grew with the run count.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SEED = 20260501  # fixed so the same samples always give the same intervals
MAX_RESAMPLE_WORK = 500_000  # resamples x sample size in bootstrap_ratio_ci, to bound time on huge samples
NOISE_CI = 0.10  # relative width of the median's 95 % interval above which a sample is marked noisy
MIN_EFFECT_DEFAULT = 0.05  # changes smaller than 5 % are "same": a shared machine drifts that much
MIN_RUNS_TO_JUDGE = 5  # Mann-Whitney U cannot reach p < 0.05 with fewer (3 vs 3: p >= 0.1)


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
    """Indices of outliers by the modified z-score (Iglewicz–Hoaglin).

    An outlier has 0.6745 * |x - median| / MAD > threshold."""
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
    """Descriptive statistics of one metric's samples, with 95 % bootstrap intervals (None: not computed)."""

    n: int
    min: float
    max: float
    mean: float
    stdev: float
    median: float
    p25: float
    p75: float
    p95: float
    p99: float
    mean_ci: tuple[float, float] | None
    median_ci: tuple[float, float] | None
    p95_ci: tuple[float, float] | None
    p99_ci: tuple[float, float] | None
    outliers: int
    cv: float
    spread: float  # robust coefficient of variation: 1.4826 * MAD / median (what the noise check uses)
    noisy: str | None  # why the samples are too noisy to judge, or None

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict) -> Summary:
        values: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__}
        for key in ("mean_ci", "median_ci", "p95_ci", "p99_ci"):
            values[key] = tuple(values[key]) if values[key] else None
        for key in ("p25", "p75"):  # files written before quartiles were kept
            if values[key] is None:
                values[key] = values["median"]
        values["spread"] = values["spread"] or 0.0
        return cls(**values)


def _sorted_percentile(data: Sequence[float], q: float) -> float:
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def _binomial_tail(n: int, p: float, k: int) -> float:
    """P(Binomial(n, p) >= k), as the regularized incomplete beta function I_p(k, n - k + 1)."""
    if k <= 0 or p >= 1.0:
        return 1.0
    if k > n or p <= 0.0:
        return 0.0
    a, b = float(k), float(n - k + 1)
    log_beta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(log_beta + a * math.log(p) + b * math.log1p(-p))
    if p < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, p) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - p) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz, as in Numerical Recipes)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 400):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return result


def _order_statistic_quantile(n: int, k: int, level: float) -> int:
    """The 1-based position j of the `level` quantile of a resample's k-th smallest value.

    A resample's k-th smallest is at most the j-th smallest of the data when at least k of its n draws
    fall among those j: P = P(Binomial(n, j/n) >= k), increasing in j, so a binary search finds it.
    """
    lo, hi = 1, n
    while lo < hi:
        mid = (lo + hi) // 2
        if _binomial_tail(n, mid / n, k) >= level:
            hi = mid
        else:
            lo = mid + 1
    return lo


def quantile_ci(data: Sequence[float], q: float, *, level: float = 0.95) -> tuple[float, float]:
    """The exact bootstrap interval of the type-7 q-th percentile of sorted `data`.

    No resampling: the bootstrap distribution of each order statistic is binomial (see
    _order_statistic_quantile), so the interval is what infinitely many resamples would give, at
    O(log n) cost. Between two order statistics the percentile's interpolation applies to the ends too.
    """
    n = len(data)
    if n < 2:
        return (float(data[0]), float(data[0]))
    pos = (n - 1) * q / 100.0
    k = int(pos) + 1
    frac = pos - (k - 1)
    alpha = (1 - level) / 2
    ends = []
    for tail in (alpha, 1 - alpha):
        low = data[_order_statistic_quantile(n, k, tail) - 1]
        if frac and k < n:
            high = data[_order_statistic_quantile(n, k + 1, tail) - 1]
            low = low + (high - low) * frac
        ends.append(float(low))
    return (ends[0], ends[1])


def mean_ci(values: Sequence[float], *, level: float = 0.95) -> tuple[float, float]:
    """The bootstrap interval of the mean from its exact bootstrap variance (the plug-in variance / n)
    and the normal quantile: the resampled mean is a sum of n independent draws."""
    n = len(values)
    m = mean(values)
    if n < 2:
        return (m, m)
    spread = math.sqrt(math.fsum((v - m) ** 2 for v in values) / n / n)
    z = _normal_quantile(1 - (1 - level) / 2)
    return (m - z * spread, m + z * spread)


def _normal_quantile(p: float) -> float:
    """Inverse of the standard normal CDF (bisection on erfc: exact to 1e-12, only called a few times)."""
    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(-mid / math.sqrt(2)) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def robust_spread(values: Sequence[float]) -> float:
    """1.4826 * MAD / median: the coefficient of variation a normal sample would have, but one slow
    outlier (a page fault, a cron job) does not inflate it."""
    if len(values) < 3:
        return 0.0
    med = median(values)
    if med <= 0:
        return 0.0
    return 1.4826 * median([abs(v - med) for v in values]) / med


def noise_of(values: Sequence[float], median_ci: tuple[float, float] | None) -> str | None:
    """Why this sample's median is too uncertain to resolve a change of about NOISE_CI, or None.

    The test is the median's 95 % interval, not the plain spread: with enough runs a spread-out sample
    still pins its median down (and one slow outlier should not mark it), while a few noisy runs do
    not. This describes one sample; whether a comparison can be judged is decided by `judge` alone.
    """
    if len(values) < 3 or median_ci is None:
        return None
    med = median(values)
    width = (median_ci[1] - median_ci[0]) / med if med > 0 else 0.0
    if width <= NOISE_CI:
        return None
    spread = robust_spread(values)
    # "interval 67 % (variation 6 %)" read as a contradiction: most runs agree, a few far ones and a small
    # sample are what leave the median uncertain
    few = (f": most runs agree, but {len(values)} runs with outliers cannot pin the median down; more "
           "--runs can") if spread < width / 4 else ""
    return (f"the median's 95% interval is {width:.0%} of the median (run-to-run variation {spread:.0%}"
            f"{few}); smaller changes cannot be seen")


def summarize(values: Sequence[float], *, intervals: bool = True) -> Summary:
    """Summary of samples; `intervals=False` leaves the intervals out (None), never a zero-width [x, x]."""
    if not values:
        raise ValueError("no samples")
    m = mean(values)
    sd = stdev(values)
    data = sorted(values)
    med = _sorted_percentile(data, 50)
    p95, p99 = _sorted_percentile(data, 95), _sorted_percentile(data, 99)
    cv = sd / m if m > 0 else 0.0
    cis: dict[str, tuple[float, float] | None] = {"mean": None, "median": None, "p95": None, "p99": None}
    if intervals and len(data) >= 2:
        cis = {"mean": mean_ci(values), "median": quantile_ci(data, 50), "p95": quantile_ci(data, 95),
               "p99": quantile_ci(data, 99)}
    return Summary(
        n=len(values), min=float(data[0]), max=float(data[-1]), mean=m, stdev=sd, median=med,
        p25=_sorted_percentile(data, 25), p75=_sorted_percentile(data, 75), p95=p95, p99=p99,
        mean_ci=cis["mean"], median_ci=cis["median"], p95_ci=cis["p95"], p99_ci=cis["p99"],
        outliers=len(mad_outliers(values)), cv=cv, spread=robust_spread(values),
        noisy=noise_of(values, cis["median"]),
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

    @functools.cache
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


VERDICTS = ("faster", "slower", "same", "inconclusive")


@dataclass
class Verdict:
    """Outcome of comparing a "before" with an "after" sample of timings."""

    ratio: float  # after / before (medians, or median of pair ratios when paired); > 1 means slower
    ci: tuple[float, float]
    p_value: float
    verdict: str  # one of VERDICTS
    reason: str  # why, in one clause: "p = 0.0012", "too noisy to judge: ...", "... (p = 0.44): add runs"

    def to_dict(self) -> dict:
        return {"ratio": self.ratio, "ci": list(self.ci), "p_value": self.p_value, "verdict": self.verdict,
                "reason": self.reason}


def judge(before: Sequence[float], after: Sequence[float], *,
          pairs: Sequence[tuple[float, float]] | None = None, alpha: float = 0.05,
          min_effect: float = MIN_EFFECT_DEFAULT) -> Verdict:
    """Faster / slower / same / inconclusive, with the ratio's 95 % interval and the rank test agreeing.

    The interval is of the ratio of medians (bootstrap), or of the median pair ratio when measured in
    pairs; the test is Mann–Whitney U on the two samples either way. A Wilcoxon signed-rank test on the
    pairs would see more changes, but in A/A benchmarks (benchmarks/bench.py, load 5-7) it called 4 of
    40 identical commands faster or slower, the unpaired test none: the test stays, and where the two
    disagree the verdict says so instead of picking one.

    - "same" only when the interval lies within the minimum effect (1 +- `min_effect`): a change, if
      any, too small to matter on a shared machine;
    - "faster"/"slower" only when the interval excludes 1, the ratio is beyond the minimum effect, and
      the test is significant at `alpha`;
    - otherwise "inconclusive", never a direction, with the reason in one clause: the interval holds
      both no change and changes beyond the minimum effect (too noisy), or it excludes no change but
      the test does not agree, or the change may be smaller than the minimum effect. Fewer than
      MIN_RUNS_TO_JUDGE runs a side is inconclusive too.
    """
    _, p = mann_whitney_u(before, after)
    if pairs:
        pair_ratios = sorted(b / a for a, b in pairs if a > 0)
        ratio = median(pair_ratios) if pair_ratios else 1.0
        ci = quantile_ci(pair_ratios, 50) if len(pair_ratios) >= 2 else (ratio, ratio)
    else:
        base = median(before)
        if base <= 0:
            return Verdict(1.0, (1.0, 1.0), p, "inconclusive", "the baseline's median is 0: no ratio")
        ratio = median(after) / base
        ci = bootstrap_ratio_ci(before, after)
    if min(len(before), len(after)) < MIN_RUNS_TO_JUDGE:
        return Verdict(ratio, ci, p, "inconclusive",
                       f"too few runs to judge ({len(before)} before, {len(after)} after; "
                       f"at least {MIN_RUNS_TO_JUDGE} each)")
    low, high = ci
    shown = f"[{low:.3f}, {high:.3f}]"
    if 1 - min_effect <= low and high <= 1 + min_effect:
        return Verdict(ratio, ci, p, "same",
                       f"the ratio's 95% interval lies within the minimum effect {min_effect:.0%}")
    if low <= 1 <= high:
        return Verdict(ratio, ci, p, "inconclusive",
                       f"too noisy to judge: the ratio's 95% interval {shown} holds both no change and "
                       f"changes beyond {min_effect:.0%}; add runs or quiet the machine")
    if abs(ratio - 1) < min_effect:
        return Verdict(ratio, ci, p, "inconclusive",
                       f"the interval excludes no change, but the change {ratio - 1:+.1%} may be below the "
                       f"minimum effect {min_effect:.0%}: add runs")
    if p >= alpha:
        return Verdict(ratio, ci, p, "inconclusive",
                       f"the interval excludes no change but the rank test does not (p = {p:.2g}): add runs")
    return Verdict(ratio, ci, p, "slower" if ratio > 1 else "faster", f"p = {p:.2g}")
