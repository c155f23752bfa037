"""Routing quality floors on the labelled corpora (engine in-process, fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfpack.route.compile import compile_agents
from perfpack.route.engine import RuleSet
from perfpack.route.quality import evaluate, load_corpus

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
AGENTS = {"performance-optimization-specialist", "performance-engineer", "performance-engineering-lead", None}


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet(compile_agents(REPO / "agents"))


@pytest.mark.parametrize("name, minimum", [("route_corpus", 300), ("route_heldout", 80), ("route_heldout_v5", 150)])
def test_corpora_are_well_formed(name, minimum):
    rows = load_corpus(DATA / f"{name}.jsonl")
    assert len(rows) >= minimum
    assert all(row["expected"] in AGENTS and row.get("category") for row in rows)
    assert len({row["prompt"] for row in rows}) == len(rows)
    negatives = sum(row["expected"] is None for row in rows)
    assert negatives >= len(rows) * 0.3  # hard negatives are a real share, not a token few


@pytest.mark.parametrize("name", ["route_heldout", "route_heldout_v5"])
def test_heldout_never_overlaps_the_tuning_corpus(name):
    tuned = {row["prompt"].lower() for row in load_corpus(DATA / "route_corpus.jsonl")}
    assert not [row for row in load_corpus(DATA / f"{name}.jsonl") if row["prompt"].lower() in tuned]


def test_quality_floor_on_the_corpus(rules):
    result = evaluate(load_corpus(DATA / "route_corpus.jsonl"), rules)
    assert result["precision"] >= 0.95, result["mistakes"]
    assert result["recall"] >= 0.90, result["mistakes"]
    assert result["top1_accuracy"] >= 0.90, result["mistakes"]


def test_regression_floor_on_the_heldout_set(rules):
    # The held-out set was written after tuning and is never tuned on; its figures are lower than the
    # corpus's (see docs/routing.md). This floor only catches a rules change that makes it worse.
    result = evaluate(load_corpus(DATA / "route_heldout.jsonl"), rules)
    assert result["precision"] >= 0.88 and result["recall"] >= 0.82, result["mistakes"]  # reached 0.930 / 0.870


def test_regression_floor_on_the_heldout_v5_set(rules):
    # v5 (151 prompts) was written before its author read the triggers or the corpus and is never tuned on.
    # Reached 0.944 precision / 0.807 recall after round 5; the floor keeps a margin for noise-free regressions.
    result = evaluate(load_corpus(DATA / "route_heldout_v5.jsonl"), rules)
    assert result["precision"] >= 0.90 and result["recall"] >= 0.76, result["mistakes"]
