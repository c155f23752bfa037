"""The quick schema check agrees with jsonschema, and worker processes give the same findings as one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from validate_helpers import write_pack

from perfpack.validate import schemas
from perfpack.validate.engine import Options, validate_paths

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 200), st.floats(allow_nan=False, width=32),
                    st.sampled_from(["sonnet", "thinking", "red", "Red", "a-b", "Read, Grep", "", "./x",
                                     "command", "keyword:slow", "claude-opus-4-1", "fork", "worktree",
                                     "x" * 130]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["keywords", "phrases", "patterns", "threshold", "priority", "exclude", "veto", "summary",
                     "name", "type", "command", "hooks", "matcher", "slow", "timeout"]), inner, max_size=4),
    max_leaves=12)
KEYS = {
    "agent": ["name", "description", "tools", "model", "color", "maxTurns", "skills", "memory", "effort",
              "triggers", "delegates-to", "external-agents", "background", "mcpServers"],
    "command": ["description", "argument-hint", "allowed-tools", "model", "context",
                "disable-model-invocation"],
    "plugin": ["name", "author", "version", "keywords", "hooks", "agents", "commands"],
    "hooks": ["hooks", "description"],
}


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(KEYS)), data=st.data())
def test_quick_check_never_passes_what_jsonschema_rejects(kind, data):
    document = data.draw(st.dictionaries(st.sampled_from(KEYS[kind]), VALUES, max_size=6))
    # the quick check compiled: the comparison below is not vacuous
    assert schemas.quick_valid(kind, {}) is not None
    quick = schemas.quick_valid(kind, document)
    errors = list(schemas.validator(kind).iter_errors(document))
    if quick is not None:
        assert quick == (not errors), (document, [e.message for e in errors])


def test_parallel_and_serial_give_the_same_findings(tmp_path, monkeypatch):
    files = {}
    for i in range(240):
        extra = "model: thinking\n" if i % 7 == 0 else ""
        body = "Delegate to ghost-agent.\n" if i % 11 == 0 else f"Delegate to agent-{(i + 1) % 240}.\n"
        files[f"agents/agent-{i}.md"] = f"---\nname: agent-{i % 230}\ndescription: d\n{extra}---\n{body}"
    write_pack(tmp_path, files)
    monkeypatch.setenv("PERFPACK_VALIDATE_JOBS", "1")
    serial = validate_paths([tmp_path], Options(), cwd=tmp_path).findings
    monkeypatch.setenv("PERFPACK_VALIDATE_JOBS", "2")
    parallel = validate_paths([tmp_path], Options(), cwd=tmp_path).findings
    assert sorted(serial) == sorted(parallel)
    rules = {f.rule for f in serial}
    assert rules == {"PP205", "PP211", "PP204"}


def test_json_position_finds_non_ascii_keys():
    from perfpack.validate.jsonfiles import json_position

    text = '{\n  "a": 1,\n  "café": {\n    "b": 2}}'
    assert json_position(text, ["café", "b"]) == (4, 5)
