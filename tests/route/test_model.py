"""The second stage: the shipped model is current, loads from the hook's cache, and explains itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from perfpack.route.model import Model, train

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_shipped_model_and_routes_json_are_what_training_gives():
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "train_route_model.py"), "--check"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr


def test_training_learns_a_toy_problem_and_prunes_tiny_weights():
    examples = [({"slow", "page"}, 1), ({"slow", "query"}, 1), ({"hello", "page"}, 0),
                ({"hello", "world"}, 0)] * 5
    document = train(examples, ["none", "agent-a"], epochs=40, min_weight=0.2)
    model = Model(document)
    assert model.probabilities({"slow"})[1] > 0.8 > model.probabilities({"hello"})[1]
    assert all(max(abs(v) for v in row) >= 0.2 for row in document["weights"].values())


def test_a_model_round_trips_through_the_cache_form():
    document = {"version": 1, "classes": ["none", "a"], "bias": [0.1, -0.1], "threshold": 0.5,
                "weights": {"slow": [-1.0, 1.5], "^ sluggish": [0.25, 0.5]}}
    model = Model(document)
    again = Model.from_plain(model.to_plain())
    assert again.probabilities({"slow", "^ sluggish"}) == model.probabilities({"slow", "^ sluggish"})
    probability = again.probabilities({"slow", "^ sluggish"})[1]
    assert again.decide({"slow", "^ sluggish"}) == ("a", pytest.approx(probability), ["slow", "sluggish"])


def test_the_explanation_prefers_phrases_and_trims_fillers():
    document = {"version": 1, "classes": ["none", "a"], "bias": [0.0, 0.0], "threshold": 0.5,
                "weights": {"takes": [-0.5, 1.0], "forever": [-0.5, 1.2], "takes forever": [0.0, 0.3],
                            "the checkout": [0.0, 0.9], "checkout": [0.0, 0.4], "is": [0.0, 2.0]}}
    agent, _, terms = Model(document).decide({"takes", "forever", "takes forever", "the checkout", "checkout",
                                              "is"})
    assert agent == "a" and terms == ["takes forever", "checkout"]


@pytest.mark.parametrize("bad", [{"version": 2}, {"version": 1, "classes": ["a"], "bias": [0], "weights": {},
                                                   "threshold": 0.5},
                                 {"version": 1, "classes": ["none", "a"], "bias": [0], "weights": {},
                                  "threshold": 1}])
def test_broken_models_are_refused(bad):
    with pytest.raises((ValueError, KeyError)):
        Model(bad)
