"""The hook's small JSON reader agrees with the json module on what it accepts and what it returns."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfpack.route.engine import parse_payload

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans(), st.booleans())
def test_round_trips_like_json(value, ascii_only, indent):
    text = json.dumps(value, ensure_ascii=ascii_only, indent=2 if indent else None)
    assert parse_payload(text) == json.loads(text)


def test_a_real_payload_with_escapes_and_surrogates():
    payload = {"session_id": "abc", "cwd": "/tmp/x", "prompt": "slow \"API\"\n\t\\ é 😀 \u2028"}
    assert parse_payload(json.dumps(payload)) == payload
    assert parse_payload(json.dumps(payload, ensure_ascii=False)) == payload


@pytest.mark.parametrize("bad", ["", "{", "}", '{"a"}', '{"a":}', '{"a":1,}', "[1,]", '"abc', '"\\x"', '"\\u12"',
                                 "01", "+1", "-", "tru", '{"a":1} 2', "[" * 300 + "]" * 300, "{'a': 1}"])
def test_rejects_what_json_rejects(bad):
    if not bad.startswith("[["):  # json accepts deep nesting; the hook refuses it (bounded recursion)
        with pytest.raises(ValueError):
            json.loads(bad)
    with pytest.raises(ValueError):
        parse_payload(bad)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_dumps_string_is_valid_json(text):
    from perfpack.route.engine import dumps_string

    literal = dumps_string(text)
    assert literal.isascii() and json.loads(literal) == text
