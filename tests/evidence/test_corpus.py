"""The goals on the labelled corpus of final reports (tests/data/evidence/): block >= 95 % of the reports
with an invented figure and <= 2 % of the genuine ones.

The tuning part is held to the goals. The held-out part was written first and frozen, and is never tuned
on: it is held to what it measured when it was first run (docs/evidence.md), so a change that makes it
worse fails here, and one that makes it better shows in benchmarks/evidence.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpack.evidence.quality import evaluate, load_corpus

DATA = Path(__file__).resolve().parents[1] / "data" / "evidence"


def _scores(name: str) -> dict:
    return evaluate(*load_corpus(DATA / name))


def test_the_tuning_corpus_meets_the_goals():
    scores = _scores("tune")
    assert scores["invented"] >= 30 and scores["genuine"] >= 30
    assert scores["invented_block_rate"] >= 0.95, scores["mistakes"]
    assert scores["genuine_block_rate"] <= 0.02, scores["mistakes"]


def test_the_held_out_corpus_does_not_get_worse():
    scores = _scores("heldout")
    assert scores["invented"] == scores["genuine"] == 12
    assert scores["invented_block_rate"] >= 0.95, scores["mistakes"]
    # first run: 1 of 12 genuine reports blocked (h17: "at peak (256 MiB ...)" read as the peak RSS)
    assert scores["genuine_blocked"] <= 1, scores["mistakes"]


@pytest.mark.parametrize("name", ["tune", "heldout"])
def test_every_case_is_labelled_with_a_known_ledger(name):
    cases, ledgers = load_corpus(DATA / name)
    assert cases and all(case.label in ("invented", "genuine") and case.ledger in ledgers for case in cases)
    assert all(case.invented for case in cases if case.label == "invented")
