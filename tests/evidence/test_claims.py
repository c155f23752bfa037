"""Claims are read from prose as a reviewer would: figures with units, their statistic, and not the
targets, bounds, quotes, hypotheticals, versions, dates or code around them."""

from __future__ import annotations

import pytest

from perfpack.evidence.claims import extract_claims
from perfpack.evidence.match import figures_of, match


def _claims(text: str) -> list[tuple[str, str | None]]:
    return [(claim.text, claim.metric) for claim in extract_claims(text)]


def test_latencies_pairs_speedups_rates_and_sizes():
    text = ("The checkout p95 dropped from 1.64 s to 670 ms (-59 %), a 2.4× speedup. Throughput rose to "
            "2,150 req/s and peak RSS fell to 212 MB. Median went 923ms -> 410ms.")
    assert _claims(text) == [("1.64 s", "p95"), ("670 ms", "p95"), ("-59 %", None), ("2.4×", None),
                             ("2,150 req/s", "rate"), ("212 MB", "rss"), ("923ms", "p50"), ("410ms", "p50")]


@pytest.mark.parametrize("text", [
    "We should aim for p95 < 300 ms.", "You said the page took 2 s.",
    "If we cache it, it could drop to 50 ms.",
    "The budget is 500 ms.", "Keep p99 under 1 s.", "See app.py:42, v2.1.332 and issue #1234.",
    "Released 2026-12-07 at 04:50.", "Ran `perfpack bench --budget p95=300ms` to check.",
    "```\nmedian 923 ms  p95 1.64 s\n```", "The SLO is 200 ms at p95.", "Expected: about 30% less CPU.",
    "5 services, 3 retries and a 1920x1080 screenshot.",
])
def test_not_claims(text):
    assert _claims(text) == []


def _records():
    return [{"id": "bench-1", "kind": "bench", "name": "checkout", "figures": [
                {"metric": "p95", "value": 1643.2, "unit": "ms", "side": "before"},
                {"metric": "p95", "value": 672.9, "unit": "ms", "side": "after"},
                {"metric": "median", "value": 923.4, "unit": "ms"}]},
            {"id": "load-2", "kind": "load", "name": "orders", "figures": [
                {"metric": "achieved_rate", "value": 2148.7, "unit": "req/s"},
                {"metric": "rss", "value": 202 * 1024 * 1024, "unit": "B"}]}]


@pytest.mark.parametrize("text, backed", [
    ("p95 went from 1.64 s to 670 ms", True), ("p95 1,643 ms", True), ("p95: 1.6432 s", True),
    ("59 % faster", True), ("-59%", True), ("2.44x faster", True), ("2.4 times faster", True),
    ("median 923 ms", True), ("the median is 0.92 s", True), ("served 2,150 req/s", True),
    ("RSS 202 MiB", True), ("RSS 212 MB", True), ("RSS 202 MB", True),
    ("p95 1.7 s", False), ("p99 is 2.9 s", False), ("median 1.64 s", False), ("3.1x faster", False),
    ("80 % faster", False), ("served 5,000 req/s", False), ("RSS 512 MB", False),
])
def test_matching_within_rounding_and_units(text, backed):
    figures = figures_of(_records())
    claims = extract_claims(text)
    assert claims, text
    assert all((match(claim, figures) is not None) is backed for claim in claims), \
        [(c, match(c, figures)) for c in claims]


# --- mis-attachments: a statistic, a unit or a hedge belongs to one figure only ---------------------------

@pytest.mark.parametrize("text, expected", [
    # a statistic word names figures of its own dimension only
    ("p99 latency is 38 ms at 50.0 req/s", [("38 ms", "p99"), ("50.0 req/s", None)]),
    ("at 50 req/s the p99 is 38 ms", [("50 req/s", None), ("38 ms", "p99")]),
    ("peak RSS 212 MB while p95 was 40 ms", [("212 MB", "rss"), ("40 ms", "p95")]),
    ("throughput 2,150 req/s, p95 40 ms", [("2,150 req/s", "rate"), ("40 ms", "p95")]),
    # never across another figure, but a bare figure right after one of its dimension inherits it
    ("median 12 ms and 1.64 s for the slowest run", [("12 ms", "p50"), ("1.64 s", "p50")]),
    ("p95 is 1.2 s (was 3.0 s)", [("1.2 s", "p95"), ("3.0 s", "p95")]),
    # percentages and ratios are changes of anything: the statistic rides along, matching ignores it
    ("p95 fell 59 % (2.4x)", [("59 %", "p95"), ("2.4x", "p95")]),
    # before -> after pairs, "from X to Y" with the unit only on the second
    ("p95 1.64 s -> 670 ms", [("1.64 s", "p95"), ("670 ms", "p95")]),
    ("p95 went from 1,640 to 670 ms", [("1,640", "p95"), ("670 ms", "p95")]),
    ("median 1.64 → 0.67 s", [("1.64", "p50"), ("0.67 s", "p50")]),
    # ranges keep both ends
    ("p95 40–45 ms across runs", [("40", "p95"), ("45 ms", "p95")]),
    ("p95 between 40 and 45 ms", [("40", "p95"), ("45 ms", "p95")]),
    # thousands separators: comma, thin space, no-break space
    ("served 12,500 req/s", [("12,500 req/s", None)]),
    ("served 12\u202f500 req/s", [("12\u202f500 req/s", None)]),
    # table columns name the statistic
    ("| endpoint | p50 | p95 |\n|---|---|---|\n| /a | 12 ms | 40 ms |", [("12 ms", "p50"), ("40 ms", "p95")]),
    # a hedge word reaches back only to the previous figure
    ("The target was 300 ms and we reached 290 ms", [("290 ms", None)]),
    ("raised the pool limit, and p95 dropped to 670 ms", [("670 ms", "p95")]),
    # "your" alone is not a quote: "your endpoint now serves ..." is a claim
    ("Your endpoint now serves 2,150 req/s", [("2,150 req/s", None)]),
])
def test_each_word_attaches_to_its_own_figure(text, expected):
    assert _claims(text) == expected


def test_values_of_borrowed_units_ranges_and_separators():
    claims = extract_claims("p95 went from 1,640 to 670 ms; range 40–45 ms; 12\u202f500 req/s")
    assert [c.base_value for c in claims] == [1640.0, 670.0, 40.0, 45.0, 12500.0]
    assert claims[0].partner == 1 and claims[2].is_range and claims[3].range_of is claims[2]


@pytest.mark.parametrize("text", [
    "> p95 is 2 s on my laptop", "You saw 2.3 s on the dashboard.", "The ticket reported 4 s.",
    "Our goal: 2x faster.", "Keep RSS below 500 MB.", "If it ran at 900 req/s we would be fine.",
])
def test_more_non_claims(text):
    assert _claims(text) == []


def _backed(text: str, records=None) -> list[bool]:
    from perfpack.evidence.check import check_message

    checked = check_message(text, records if records is not None else _records())
    return [found is not None for found in checked.matches]


@pytest.mark.parametrize("text, backed", [
    # the known bug: the rate must not need a p99 record
    ("p99 latency is 38 ms at 2,150 req/s", [False, True]),
    ("1.64 s = 1,643 ms", [True, True]),
    ("-59 % = 2.4 x faster", [True, True]),
    ("p95 went from 1,640 to 670 ms", [True, True]),
    ("p95 went from 1,640 to 700 ms", [True, False]),
    ("p95 1.64 → 0.67 s", [True, True]),
    ("p95 between 1.6 and 1.7 s", [True, True]),  # a narrow range around 1,643 ms
    ("p95 0.5–1.7 s", [False, False]),  # a wide range needs both ends measured
    ("median 900–950 ms", [True, True]),
    ("CPU fell 59 %", [False]),  # a CPU level is not the p95 change
    ("throughput 2\u202f149 req/s", [True]),
])
def test_matching_pairs_ranges_and_conversions(text, backed):
    assert _backed(text) == backed


@pytest.mark.parametrize("text, expected", [
    # hard-wrapped prose: a line break inside a sentence does not end the clause
    ("The SLO\nof 50 ms at p95 is met.", []),
    ("If we paginate, it could get\nto around 60 ms.", []),
    ("p95 at 400 req/s dropped to 14.9 ms and mean latency\nwent to 7.7 ms.",
     [("400 req/s", None), ("14.9 ms", "p95"), ("7.7 ms", "mean")]),
    # a new line that starts a new item, a label's value or a capitalised sentence is a new clause
    ("Target:\nmedian 40 ms", [("40 ms", "p50")]),
    ("The budget is large\n- p95 40 ms", [("40 ms", "p95")]),
    ("We aimed high\nP95 is 40 ms", [("40 ms", "p95")]),
])
def test_soft_wrapped_lines(text, expected):
    assert _claims(text) == expected
