"""The noise note explains itself: a wide interval next to a small run-to-run variation says why."""

from perfpack.bench.stats import noise_of, summarize


def test_a_few_runs_with_outliers_say_why_the_interval_is_wide_while_most_runs_agree():
    values = [2.87, 4.0, 4.06, 4.1, 5.61]  # a blind corpus writer's 5-run bench: "67 % ... variation 6 %"
    note = noise_of(values, summarize(values).median_ci)
    assert note is not None and "most runs agree, but 5 runs with outliers" in note and "more --runs" in note


def test_a_uniformly_spread_sample_keeps_the_plain_note():
    values = [1.0, 1.6, 2.2, 2.8, 3.4, 4.0]
    note = noise_of(values, summarize(values).median_ci)
    assert note is not None and "most runs agree" not in note and "run-to-run variation" in note
