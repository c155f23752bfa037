"""The scoring engine on hand-made rules: whole words, phrases, exclusions, negation, code and logs."""

from __future__ import annotations

import pytest

from perfpack.fastjson import loads
from perfpack.route.engine import RuleSet, route, strip_code_and_logs, tokenize


def rules(**overrides) -> RuleSet:
    agents = overrides.pop("agents", None) or [
        {"name": "fast-agent", "threshold": 3, "priority": 0, "summary": "code",
         "keywords": {"slow": 3, "api": 3, "query": 1}, "prefixes": {"optimiz": 1},
         "phrases": {"takes * seconds": 3, "memory leak": 4, "slow query": 1}},
        {"name": "load-agent", "threshold": 3, "priority": 1,
         "keywords": {"latency": 3, "p99": 3}, "phrases": {"under load": 3}},
    ]
    return RuleSet({"version": 1, "agents": agents,
                    "exclude": ["slow motion", "profile page", "latency field"],
                    "veto": ["performance review"], **overrides})


def test_tokenize_splits_hyphens_keeps_plus_and_boundaries():
    assert tokenize("Slow-motion N+1, p99_latency!") == ["slow", "motion", "n+1", "|", "p99", "latency", "|"]
    assert tokenize("don’t take 1.5s") == ["don't", "take", "1\u00b75", "seconds"]


def test_tokenize_splits_quantities_into_number_and_one_unit_spelling():
    assert tokenize("800ms, 3 secs, 2s, 10x") == ["800", "ms", "|", "3", "seconds", "|", "2", "seconds", "|",
                                                  "10", "x"]
    # a decade stays
    assert tokenize("the 1990s and 4k screens") == ["the", "1990s", "and", "4", "k", "screens"]
    assert tokenize("v2 and 3d") == ["v2", "and", "3d"]  # unknown suffixes stay whole
    phrase = RuleSet({"version": 1, "agents": [{"name": "a", "threshold": 3,
                                                "phrases": {"takes * seconds": 3}}]})
    assert route("the page takes 4s", phrase).agent == "a"
    assert route("the page takes 4 secs", phrase).agent == "a"
    assert route("the page takes 4 apples", phrase).agent is None


def test_a_field_word_after_a_list_of_terms_names_data():
    assert route("add p95 and p99 columns to the table", rules()).agent is None
    assert route("p95 and p99 doubled under load", rules()).agent == "load-agent"


def test_whole_words_not_substrings():
    assert route("what is the capital of France", rules()).agent is None  # "api" inside "capital"
    assert route("the slowest api", rules()).agent == "fast-agent"  # "api" as a word
    assert route("slowly", rules()).agent is None  # "slow" is a whole word, not a prefix


def test_phrase_with_wildcard_and_prefix_keyword():
    decision = route("login takes 12 seconds", rules())
    assert decision.agent == "fast-agent" and decision.terms == ["takes * seconds"]
    assert route("takes seconds", rules()).agent is None
    assert route("optimizing this query", rules()).score == 2  # optimiz* 1 + query 1, below threshold


def test_exclusion_masks_only_its_words():
    assert route("make a slow-motion video", rules()).agent is None
    assert route("add a latency field to the model", rules()).agent is None
    # the excluded words do not count, the others still do
    decision = route("the profile page is slow", rules())
    assert decision.agent == "fast-agent" and decision.terms == ["slow"]


def test_veto_stops_every_agent():
    decision = route("write a performance review, the employee is slow", rules())
    assert decision.agent is None and decision.vetoed == ["performance review"]


def test_negation_cue_masks_the_clause_up_to_but():
    assert route("this is not about performance or latency, just rename things", rules()).agent is None
    assert route("no need to optimize the slow api", rules()).agent is None
    # "but" ends the negated clause: "the api is slow" counts again
    assert route("no need to optimize, but the api is slow", rules()).agent == "fast-agent"


def test_negation_tail_masks_the_clause_before_it():
    assert route("latency is fine, fix the typo", rules()).agent is None
    assert route("the api is not the problem. p99 is", rules()).agent == "load-agent"


def test_code_blocks_inline_code_and_logs_are_ignored():
    prompt = ("rename `slow_api` please\n```\nslow api latency p99\n```\n"
              "Traceback (most recent call last):\n  File \"x\"\nERROR: slow")
    assert route(prompt, rules()).agent is None
    stripped = strip_code_and_logs("fix this\n    slow()\n2024-01-02 12:00 latency 300ms\n"
                                   "at com.x.Y(Y.java:3)")
    assert "slow" not in stripped and "latency" not in stripped and "fix this" in stripped
    # a normal sentence that starts with "at" is kept
    assert route("at peak the api is slow", rules()).agent == "fast-agent"


def test_priority_breaks_ties_and_higher_score_wins():
    assert route("slow under load", rules()).agent == "load-agent"  # 3 vs 3: priority 1 wins
    assert route("slow api under load", rules()).agent == "fast-agent"  # 6 vs 3


def test_terms_are_ordered_by_weight_and_scores_reported():
    decision = route("memory leak makes the api slow", rules())
    assert decision.terms[0] == "memory leak" and set(decision.terms) == {"memory leak", "api", "slow"}
    assert decision.scores == {"fast-agent": 10, "load-agent": 0}


def test_empty_and_huge_prompts():
    assert route("", rules()).agent is None
    assert route("```only code```", rules()).agent is None
    assert route("slow " * 100_000, rules()).agent == "fast-agent"  # scored on the first 20k characters


def test_patterns_are_regex_on_the_token_text():
    rs = rules(agents=[{"name": "rx", "keywords": {}, "patterns": {r"\bp(50|95|99)\b": 3}}])
    assert route("our P95 doubled", rs).agent == "rx"
    assert route("p9 doubled", rs).agent is None


def test_ruleset_rejects_other_versions_and_loads_parses_json():
    with pytest.raises(ValueError):
        RuleSet({"version": 2, "agents": []})
    assert loads(' {"a": [1, 2.5, "\\u00e9", null, true]} ') == {"a": [1, 2.5, "é", None, True]}
    for bad in ("", "{", '{"a": 1} x', "nope"):
        with pytest.raises(ValueError):
            loads(bad)


def test_a_term_that_names_a_data_field_does_not_count():
    assert route("add a latency_ms column to the table", rules()).agent is None
    assert route("rename the field p99 to pct99", rules()).agent is None
    assert route("p99 doubled after the deploy", rules()).agent == "load-agent"


def test_exception_lines_are_treated_as_log_output():
    stripped = strip_code_and_logs("what is this\nNameError: name 'latency' is not defined")
    assert stripped.split("\n")[0] == "what is this"
    assert "latency" not in strip_code_and_logs("java.lang.OutOfMemoryError: latency p99")
