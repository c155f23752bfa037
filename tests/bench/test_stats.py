"""Statistics against hand-computed values (no scipy)."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from perfpack.bench import stats


def test_descriptive_statistics_of_known_samples():
    data = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert stats.mean(data) == 3.0
    assert stats.median(data) == 3.0
    assert stats.stdev(data) == pytest.approx(math.sqrt(2.5))
    # type-7 percentile: position (n-1)*q = 3.8 -> 4 + 0.8 * (5 - 4)
    assert stats.percentile(data, 95) == pytest.approx(4.8)
    assert stats.percentile(data, 99) == pytest.approx(4.96)
    assert stats.percentile([7.0], 99) == 7.0
    assert stats.median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_summary_fields_and_intervals_bracket_the_estimate():
    data = [0.100, 0.101, 0.099, 0.102, 0.098, 0.100, 0.103, 0.097, 0.100, 0.101]
    s = stats.summarize(data)
    assert s.n == 10 and s.min == 0.097 and s.max == 0.103
    assert s.median_ci[0] <= s.median <= s.median_ci[1]
    assert s.mean_ci[0] <= s.mean <= s.mean_ci[1]
    assert s.noisy is None
    # seeded: the same samples give the same interval
    assert stats.summarize(data).median_ci == s.median_ci


def test_constant_samples_have_a_zero_width_interval():
    assert stats.quantile_ci([2.0] * 20, 50) == (2.0, 2.0)
    assert stats.mean_ci([2.0] * 20) == (2.0, 2.0)


@pytest.mark.parametrize(
    "n, p, k",
    [
        (10, 0.3, 3),
        (50, 0.5, 25),
        (200, 0.95, 190),
        (1200, 0.5, 600),
        (30, 0.01, 1),
        (1000, 0.001, 3),
        (7, 0.5, 0),
        (7, 0.5, 8),
    ],
)
def test_binomial_tail_matches_the_exact_sum(n, p, k):
    exact = Fraction(0)
    q = Fraction(p)
    for i in range(max(k, 0), n + 1):
        exact += math.comb(n, i) * q**i * (1 - q) ** (n - i)
    assert stats._binomial_tail(n, p, k) == pytest.approx(float(exact), rel=1e-9, abs=1e-15)


def _resampled_interval(data, q, resamples=20_000, seed=3):
    rng = random.Random(seed)
    estimates = sorted(stats.percentile(rng.choices(data, k=len(data)), q) for _ in range(resamples))
    return stats.percentile(estimates, 2.5), stats.percentile(estimates, 97.5)


@pytest.mark.parametrize("n, q", [(5, 50), (21, 50), (41, 95), (101, 99), (201, 50)])
def test_exact_quantile_interval_is_what_many_resamples_give(n, q):
    # where the percentile is one order statistic ((n - 1) * q / 100 whole), the exact bootstrap and
    # 20,000 resamples agree up to the resampling noise
    rng = random.Random(n)
    data = sorted(rng.lognormvariate(0, 0.5) for _ in range(n))
    exact = stats.quantile_ci(data, q)
    low, high = _resampled_interval(data, q)
    spread = data[-1] - data[0]
    assert exact[0] == pytest.approx(low, abs=0.02 * spread)
    assert exact[1] == pytest.approx(high, abs=0.02 * spread)
    assert exact[0] <= stats.percentile(data, q) <= exact[1]


def test_interpolated_quantile_interval_is_never_narrower_than_resampling():
    rng = random.Random(11)
    data = sorted(rng.gauss(10, 1) for _ in range(10))  # median between the 5th and 6th values
    exact = stats.quantile_ci(data, 50)
    low, high = _resampled_interval(data, 50)
    assert exact[0] <= low + 1e-9 and exact[1] >= high - 1e-9
    assert exact[1] - exact[0] < 1.25 * (high - low)


def test_mean_interval_matches_resampled_means():
    rng = random.Random(5)
    data = [rng.expovariate(10) for _ in range(200)]
    low, high = stats.mean_ci(data)
    draws = random.Random(9)
    means = sorted(stats.mean(draws.choices(data, k=len(data))) for _ in range(20_000))
    width = high - low
    assert low == pytest.approx(stats.percentile(means, 2.5), abs=0.05 * width)
    assert high == pytest.approx(stats.percentile(means, 97.5), abs=0.05 * width)
    assert stats._normal_quantile(0.975) == pytest.approx(1.959963985, abs=1e-9)


def test_summary_of_a_thousand_runs_is_cheap_and_does_not_grow_with_resamples():
    data = [0.001 + 0.0001 * ((i * 7919) % 101) / 101 for i in range(1000)]
    s = stats.summarize(data)
    assert s.p99_ci[0] <= s.p99 <= s.p99_ci[1]
    assert s.median_ci[0] <= s.median <= s.median_ci[1]


def test_noisy_samples_are_flagged():
    s = stats.summarize([0.1, 0.2, 0.1, 0.3, 0.1, 0.25, 0.12, 0.4])
    assert s.noisy and "variation" in s.noisy
    # one slow outlier among many steady runs does not make a sample noisy (its median is pinned down)
    steady = [0.100 + 0.0005 * (i % 5) for i in range(40)] + [0.5]
    assert stats.summarize(steady).noisy is None


def test_cpu_and_rss_summaries_have_real_intervals_or_none():
    s = stats.summarize([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert s.median_ci is not None and s.median_ci[0] < s.median_ci[1]
    bare = stats.summarize([1.0, 2.0, 3.0], intervals=False)
    assert bare.median_ci is None and bare.mean_ci is None  # never a zero-width [x, x] posing as an interval
    assert s.p25 == stats.percentile([1, 2, 3, 4, 5, 6], 25) and s.p75 == stats.percentile(
        [1, 2, 3, 4, 5, 6], 75
    )


def test_mad_outliers():
    data = [10.0, 10.1, 9.9, 10.2, 9.8, 30.0, 10.0]
    assert stats.mad_outliers(data) == [5]
    assert stats.mad_outliers([1.0, 1.1, 0.9, 1.05]) == []


def test_mann_whitney_exact_small_samples():
    # all of x below all of y: U = 0, P(U <= 0) = 1 / C(6, 3) = 1/20, two-sided p = 0.1 (scipy: 0.1)
    u, p = stats.mann_whitney_u([1, 2, 3], [4, 5, 6])
    assert u == 0 and p == pytest.approx(0.1)
    u, p = stats.mann_whitney_u(list(range(10)), list(range(10, 20)))
    assert p == pytest.approx(2 / math.comb(20, 10))
    # identical order pattern interleaved: U = n1*n2/2 -> p = 1
    _, p = stats.mann_whitney_u([1, 4, 5, 8], [2, 3, 6, 7])
    assert p == pytest.approx(1.0)


def test_mann_whitney_normal_approximation_with_ties():
    # ranks of 1,2,3,3,4,5,6,7 -> 1,2,3.5,3.5,5,6,7,8; R1 = 11.5, U1 = 1.5; tie term (2^3-2)/(8*7)
    # sigma = sqrt(16/12 * (9 - 6/56)) = 3.44342; z = (|1.5 - 8| - 0.5) / sigma = 1.74245; p = 0.08143
    u, p = stats.mann_whitney_u([1, 2, 3, 4], [3, 5, 6, 7])
    assert u == 1.5
    assert p == pytest.approx(0.08143, abs=2e-4)


def test_judge_verdicts():
    base = [0.100 + 0.001 * (i % 5) for i in range(20)]
    assert stats.judge(base, base).verdict == "same"
    slower = [x * 1.3 for x in base]
    v = stats.judge(base, slower)
    assert v.verdict == "slower" and v.ratio == pytest.approx(1.3, rel=0.01) and v.ci[0] > 1
    assert stats.judge(slower, base).verdict == "faster"
    # significant but tiny: below the minimum effect it stays "same"
    tiny = [x * 1.02 for x in base]
    assert stats.judge(base, tiny, min_effect=0.05).verdict == "same"
    paired = stats.judge(base, slower, pairs=list(zip(base, slower, strict=True)))
    assert paired.verdict == "slower" and paired.ratio == pytest.approx(1.3)


def test_too_noisy_is_inconclusive_never_a_direction():
    rng = random.Random(7)
    before = [rng.lognormvariate(0, 0.6) for _ in range(8)]
    after = [x * 0.9 for x in (rng.lognormvariate(0, 0.6) for _ in range(8))]
    v = stats.judge(before, after)
    assert v.verdict == "inconclusive" and "too noisy" in v.reason
    # a large change is judged even when the runs scatter: the interval clears the minimum effect
    wide = [1.0 + 0.3 * (i % 4) for i in range(30)]
    assert stats.judge(wide, [x * 3 for x in wide]).verdict == "slower"


def test_too_few_runs_is_inconclusive():
    v = stats.judge([0.1] * 20, [0.2, 0.21, 0.2])
    assert v.verdict == "inconclusive" and "too few runs" in v.reason


def test_verdict_reasons_do_not_repeat_themselves():
    base = [0.100 + 0.001 * (i % 5) for i in range(20)]
    v = stats.judge(base, [x * 1.3 for x in base])
    assert v.reason.startswith("p = ") and "significant" not in v.reason


def test_an_interval_beyond_the_minimum_effect_is_never_called_same():
    # an interleaved compare printed "B/A 0.850x, 95% CI [0.754, 0.942] ... SAME": every pair was faster,
    # but the between-pair drift hid it from the (unpaired) rank test
    before = [1 + 0.5 * (i % 5) for i in range(10)]
    after = [x * 0.85 for x in before]
    v = stats.judge(before, after, pairs=list(zip(before, after, strict=True)))
    assert v.p_value >= 0.05 and v.ci[1] < 0.95
    assert v.verdict == "inconclusive"
    shown = f"p = {v.p_value:.2g}"
    assert v.reason == f"the interval excludes no change but the rank test does not ({shown}): add runs"
    # inside the minimum effect it stays "same"
    near = [x * 0.98 for x in before]
    assert stats.judge(before, near, pairs=list(zip(before, near, strict=True))).verdict == "same"


def test_same_only_when_the_interval_lies_within_the_minimum_effect():
    # compare printed "0.695x (-30.5%), 95% CI [0.626, 0.982], p = 0.19: SAME": the interval excluded
    # no change, the test did not see one; "same" needs the whole interval within +-5 %
    rng = random.Random(11)
    shapes = []
    for _ in range(80):  # seeded: draw 58 is such a case (each judge bootstraps: keep it short)
        a = [rng.choice([1.0, 2.0]) * rng.uniform(0.95, 1.05) for _ in range(10)]
        b = [rng.choice([0.8, 2.0]) * rng.uniform(0.95, 1.05) for _ in range(10)]
        v = stats.judge(a, b)
        low, high = v.ci
        if v.verdict == "same":
            assert low >= 0.95 and high <= 1.05, v
        if v.verdict in ("faster", "slower"):
            assert v.p_value < 0.05 and not low <= 1 <= high and abs(v.ratio - 1) >= 0.05, v
        if not low <= 1 <= high and v.p_value >= 0.05:
            assert v.verdict == "inconclusive", v
            shapes.append(v)
    assert shapes, "no interval-excludes-1-but-test-does-not case drawn"
    reason = shapes[0].reason
    assert "excludes no change but the rank test does not (p = " in reason and reason.endswith("add runs")


def test_a_real_change_that_may_be_below_the_minimum_effect_is_inconclusive():
    # every pair slower (+2 % or +7 %): a change for sure, but whether it reaches 5 % the interval
    # [1.02, 1.07] cannot say: neither "same" nor "slower"
    before = [0.100 + 0.002 * (i % 7) for i in range(30)]
    after = [x * (1.02 + 0.05 * (i % 2)) for i, x in enumerate(before)]
    v = stats.judge(before, after, pairs=list(zip(before, after, strict=True)))
    assert v.ci[0] > 1 and v.ci[1] > 1.05 and v.ratio < 1.05
    assert v.verdict == "inconclusive" and "below the minimum effect 5%" in v.reason
