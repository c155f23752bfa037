"""Property: for any user settings, removing our hooks after merging them gives the user's settings back."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from perfpack.install.settings import created_by_merge, merge_hooks, remove_hooks

COMMANDS = {
    "UserPromptSubmit": "/py '/a b/src/perfpack/hook.py' user-prompt-submit --rules /r.json",
    "PreToolUse": "/py /x/src/perfpack/hook.py pre-tool-use",
}

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
handler = st.fixed_dictionaries(
    {"type": st.just("command"), "command": st.text(max_size=20)}, optional={"timeout": st.integers(1, 60)}
)
group = st.fixed_dictionaries(
    {"hooks": st.lists(handler, max_size=3)}, optional={"matcher": st.text(max_size=6)}
)
events = st.sampled_from(["UserPromptSubmit", "PreToolUse", "Stop", "PostToolUse", "SessionStart"])
hooks = st.dictionaries(events, st.lists(group, max_size=3), max_size=4)
user_settings = st.dictionaries(
    st.text(max_size=8).filter(lambda k: k != "hooks"), values, max_size=5
).flatmap(lambda base: st.one_of(st.just(base), hooks.map(lambda h: {**base, "hooks": h})))


@settings(max_examples=150, deadline=None)
@given(user_settings)
def test_remove_after_merge_is_identity(data: dict) -> None:
    created = created_by_merge(data)
    merged = merge_hooks(data, COMMANDS)
    assert merge_hooks(merged, COMMANDS) == merged  # idempotent
    restored = remove_hooks(merged, created)
    assert json.dumps(restored) == json.dumps(data)  # same content and same key order


def test_attribution_is_ours_only_where_the_user_had_none() -> None:
    from perfpack.install.settings import merge_attribution, remove_attribution

    line = "Assisted-By: <agent>"
    for data in ({}, {"attribution": {"pr": ""}}, {"model": "opus", "attribution": {}}):
        merged, record = merge_attribution(data, line, None)
        assert merged["attribution"]["commit"] == line and record is not None
        assert json.dumps(remove_attribution(merged, record)) == json.dumps(data)
    mine = {"attribution": {"commit": "Signed-off-by: me"}}
    merged, record = merge_attribution(mine, line, None)
    assert merged == mine and record is None  # the user's own value wins
    previous = {"commit": "old", "key": True}
    merged, record = merge_attribution({"attribution": {"commit": "old"}}, line, previous)
    assert merged == {"attribution": {"commit": line}} and record == {"commit": line, "key": True}
    changed = {"attribution": {"commit": "changed"}}
    assert remove_attribution(changed, record) == changed
