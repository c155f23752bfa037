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
