"""Statistics against hand-computed values (no scipy)."""

from __future__ import annotations

import math

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
    assert stats.bootstrap_ci([2.0] * 20, stats.median) == (2.0, 2.0)


def test_noisy_samples_are_flagged():
    s = stats.summarize([0.1, 0.2, 0.1, 0.3, 0.1, 0.25, 0.12, 0.4])
    assert s.noisy and "variation" in s.noisy


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
    paired = stats.judge(base, slower, pairs=list(zip(base, slower)))
    assert paired.verdict == "slower" and paired.ratio == pytest.approx(1.3)
