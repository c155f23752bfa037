"""perfpack.fastjson agrees with the json module: what it accepts, what it returns, the text it writes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfpack.fastjson import dumps, loads

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans(), st.booleans())
def test_round_trips_like_json(value, ascii_only, indent):
    text = json.dumps(value, ensure_ascii=ascii_only, indent=2 if indent else None)
    assert loads(text) == json.loads(text)


def test_a_real_payload_with_escapes_and_surrogates():
    payload = {"session_id": "abc", "cwd": "/tmp/x", "prompt": "slow \"API\"\n\t\\ é 😀 \u2028"}
    assert loads(json.dumps(payload)) == payload
    assert loads(json.dumps(payload, ensure_ascii=False)) == payload


@pytest.mark.parametrize("bad", ["", "{", "}", '{"a"}', '{"a":}', '{"a":1,}', "[1,]", '"abc', '"\\x"',
                                 '"\\u12"', "01", "+1", "-", "tru", '{"a":1} 2', "{'a': 1}"])
def test_rejects_what_json_rejects(bad):
    with pytest.raises(ValueError):
        json.loads(bad)
    with pytest.raises(ValueError):
        loads(bad)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_dumps_of_a_string_is_ascii_json(text):
    literal = dumps(text)
    assert literal.isascii() and json.loads(literal) == text


any_floats = st.floats()  # NaN and the infinities too: json writes NaN / Infinity and reads them back


@settings(max_examples=400, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | any_floats | st.text(),
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25),
    st.sampled_from([None, 0, 2, 4]), st.booleans(), st.booleans(),
    st.sampled_from([None, (",", ":"), (", ", ": "), (",", ": ")]))
def test_dumps_writes_exactly_what_json_dumps_writes(value, indent, sort_keys, ensure_ascii, separators):
    kwargs = {"indent": indent, "sort_keys": sort_keys, "ensure_ascii": ensure_ascii,
              "separators": separators}
    assert dumps(value, **kwargs) == json.dumps(value, **kwargs)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans(), st.booleans())
def test_loads_reads_what_json_loads_reads(value, ascii_only, indent):
    text = json.dumps(value, ensure_ascii=ascii_only, indent=2 if indent else None)
    assert loads(text) == json.loads(text)
    assert loads(" \n" + text + "\t\r\n") == value


@pytest.mark.parametrize("bad", ["", " ", "{", '{"a"}', '{"a":1,}', "[1,]", '"abc', '"\\x"', "01", "tru",
                                 '{"a":1} 2', "{'a': 1}", '"tab\there"', "[" * 100_000 + "]" * 100_000])
def test_loads_raises_valueerror_like_json(bad):
    if not bad.startswith("[[["):
        with pytest.raises(ValueError):
            json.loads(bad)
    with pytest.raises(ValueError):
        loads(bad)


@pytest.mark.parametrize("bad", ['{"a": "\\x"}', '"abc', "[1,]", "{'a': 1}", "nul"])
def test_loads_errors_are_json_decode_errors_in_a_fresh_process(bad):
    # the C scanner raises JSONDecodeError only when json.decoder is loaded; fastjson must not rely on it
    import subprocess
    import sys

    code = ("import sys, perfpack.fastjson as f\ntry:\n    f.loads(sys.argv[1])\nexcept ValueError as e:\n"
            "    print(type(e).__name__, e.lineno, e.colno)")
    out = subprocess.run([sys.executable, "-c", code, bad], capture_output=True, text=True, check=True).stdout
    assert out.startswith("JSONDecodeError 1 ")


def test_loads_strict_false_allows_control_characters_like_json():
    assert loads('"tab\there"', strict=False) == json.loads('"tab\there"', strict=False) == "tab\there"


@pytest.mark.parametrize("bad", [{"a": b"bytes"}, {"a": object()}, {"a": {1, 2}}])
def test_dumps_refuses_what_json_refuses(bad):
    with pytest.raises(TypeError):
        json.dumps(bad)
    with pytest.raises(TypeError):
        dumps(bad)


def test_dumps_refuses_keys_that_are_not_strings():
    # json.dumps turns {1: x} into {"1": x}, which does not read back as it was; JSON data never has them
    with pytest.raises(TypeError, match="keys must be str"):
        dumps({1: "int key"})



# --- loads_object: a flat payload read without the C accelerator ------------------------------------------

from perfpack.fastjson import _flat_object, loads_object  # noqa: E402

flat_values = st.none() | st.booleans() | st.text()


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=12), flat_values, max_size=8), st.booleans(),
       st.sampled_from([None, 2]), st.sampled_from([None, (",", ":"), (" , ", " : ")]))
def test_a_flat_object_is_read_in_python_exactly_as_json_reads_it(value, ascii_only, indent, separators):
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent, separators=separators)
    assert _flat_object(text) == json.loads(text)
    assert _flat_object(text) is not None  # the fast path took it
    assert loads_object(text) == value


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(st.text(max_size=6), flat_values, min_size=1, max_size=4), st.booleans(),
       st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(['"', "\\", "u", "\n", "\x01", ",", "}", "{",
                                                                  ":", " ", "1", "t", "\\u", "\\ud83d", "\\"
                                                                  "udc00", "é"])), max_size=3),
       st.lists(st.integers(0, 10**6), max_size=2))
def test_damaged_payloads_are_accepted_and_rejected_exactly_as_json_does(value, ascii_only, inserts, cuts):
    text = json.dumps(value, ensure_ascii=ascii_only)
    for where, piece in inserts:
        where %= len(text) + 1
        text = text[:where] + piece + text[where:]
    for where in cuts:
        if text:
            where %= len(text)
            text = text[:where] + text[where + 1:]
    try:
        expected = json.loads(text)
    except ValueError:
        assert _flat_object(text) is None
        with pytest.raises(ValueError):
            loads_object(text)
    else:
        fast = _flat_object(text)
        assert fast is None or fast == expected
        assert loads_object(text) == expected


@pytest.mark.parametrize("text", ['{"a": 1}', '{"a": [1]}', '{"a": {"b": "c"}}', '[]', '"x"', "null",
                                  '{"a": -Infinity}', '{"a": "\\ud83d\\ude00"}', '{"a": "\\ud83d"}'])
def test_loads_object_reads_anything_else_through_loads(text):
    assert loads_object(text) == json.loads(text)


def test_a_hook_payload_is_read_without_loading_the_c_accelerator():
    payload = {"session_id": "s", "transcript_path": "/t.jsonl", "cwd": "/p",
               "hook_event_name": "SubagentStop", "stop_hook_active": False,
               "agent_type": "performance-engineer",
               "last_assistant_message": "p95 412 ms \u2192 131 ms (\u221268 %)\n\n| a | b |\t\"q\" \\ "
                                         "\U0001F600"}
    code = ("import sys; from perfpack.fastjson import loads_object; "
            f"assert loads_object(sys.stdin.read()) == {payload!r}; print('_json' in sys.modules)")
    import subprocess
    import sys as system

    for text in (json.dumps(payload), json.dumps(payload, ensure_ascii=False, separators=(",", ":"))):
        script = f"import sys; sys.path[:0] = {system.path!r}; {code}"
        done = subprocess.run([system.executable, "-S", "-c", script], input=text, capture_output=True,
                              text=True, check=True)
        assert done.stdout.strip() == "False"
