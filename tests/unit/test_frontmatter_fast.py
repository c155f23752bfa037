"""The flat-frontmatter fast path gives exactly what PyYAML gives (data, positions, duplicates, errors)."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from perfpack import frontmatter
from perfpack.frontmatter import parse_frontmatter_text

ROOT = Path(__file__).resolve().parents[2]


def _same(text: str) -> bool:
    """Assert fast and reference agree; True when the fast path took the text."""
    fast = parse_frontmatter_text(text)
    slow = parse_frontmatter_text(text, fast=False)
    assert (fast.data, fast.positions, fast.duplicate_keys, fast.error, fast.lenient_data) == (
        slow.data,
        slow.positions,
        slow.duplicate_keys,
        slow.error,
        slow.lenient_data,
    ), text
    if slow.data is not None and fast.data is not None:
        assert [type(v) for v in fast.data.values()] == [type(v) for v in slow.data.values()], text
    probe = frontmatter.Frontmatter(path=Path("x"), yaml_text=slow.yaml_text, yaml_start_line=2)
    return frontmatter._fast_parse(probe)


def test_common_shapes_take_the_fast_path_and_agree() -> None:
    texts = [
        "---\nname: a-b\ndescription: Use PROACTIVELY when slow, e.g. p9\ntools: Read, Agent(x, y)\n---\nb\n",
        "---\nname: \"quoted\"\ndescription: 'single quoted: with colon'\nmodel: sonnet\n---\n",
        "---\nname: x\nskills:\n  - profiling\n  - 'quoted'\nmaxTurns: 12\nbackground: true\n---\n",
        "---\nname: x\nskills:\n- a\n- b\ntools: [Read, Grep]\nempty: []\n---\n",
        "# a comment\n---\n",
        "---\n# comment\nname:   spaced\ncolor: cyan   \n\ndescription: C# and R&D ok\n---\n",
        "---\nname: x\nmaxTurns: 0\nmemory: null\nflag: False\n---\n",
    ]
    taken = [_same(t) for t in texts]
    assert taken[:4] == [True] * 4 and taken[5:] == [True] * 2


def test_other_shapes_fall_back_and_agree() -> None:
    yamls = [
        "name: x\nname: y",
        "description: Use when: slow",
        "a: 012\nb: 0x1F\nc: 1.5",
        "a: ~\nb: =\nc: <<",
        "a: &x 1\nb: *x",
        "a: !tag v",
        "a: |\n  x",
        "a: x # comment",
        'a: "esc\\n"',
        "a:\n  b: 1",
        "a: x\n  more",
        "a:",
        "true: 1",
        "a: x\u2028y",
        "a:\tx",
        "a: [x, [y]]",
        "a: [x, y,]",
        "a: -1",
        "a: - x",
        "- a",
        "a: 'it''s'",
        "a:\n  - x\n    - y",
        "a:\n  - x\n - y",
        "a: x:",
        "a: [a: b]",
    ]
    for yaml_text in yamls:
        text = f"---\n{yaml_text}\n---\n"
        assert not _same(text), text


WORDS = st.sampled_from(
    [
        "a",
        "b-c",
        "Read",
        "Agent(x, y)",
        "1",
        "0",
        "007",
        "true",
        "NULL",
        "~",
        "x: y",
        "x #y",
        "C#",
        "'q'",
        '"q"',
        "[a, b]",
        "[]",
        "-",
        "- x",
        "&a",
        "*a",
        "!t",
        "|",
        ">",
        "%",
        "@",
        "é",
        "a:",
        "=",
        "<<",
        "1.5",
        "+1",
        ".5",
        "{a: 1}",
        "",
        " ",
        "\t",
        "it's",
        'say "hi"',
        "`x`",
    ]
)
KEYS = st.sampled_from(["name", "description", "tools", "skills", "true", "Null", "a_b", "x-y", "k"])


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            KEYS,
            st.sampled_from([": ", ":", ":  ", ": \n  - ", ":\n- ", ":\n  - "]),
            st.lists(WORDS, min_size=1, max_size=3),
        ),
        max_size=6,
    )
)
def test_generated_frontmatter_agrees(entries) -> None:
    lines = [
        key + sep + (" " if sep.endswith(": ") else "\n  - " if "-" in sep else " ").join(words)
        for key, sep, words in entries
    ]
    _same("---\n" + "\n".join(lines) + "\n---\nbody\n")


def test_every_oracle_case_and_fixture_agrees() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "oracle"))
    from cases import generate

    count = 0
    for case in generate():
        for rel, text in case.files.items():
            if rel.endswith(".md"):
                _same(text.replace("\r\n", "\n"))
                count += 1
    for path in sorted((ROOT / "tests").rglob("*.md")) + sorted((ROOT / "agents").rglob("*.md")):
        _same(path.read_text(encoding="utf-8", errors="replace"))
        count += 1
    assert count > 700
