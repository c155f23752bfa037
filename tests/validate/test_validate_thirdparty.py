"""Well-formed third-party style agents and commands produce no findings at all."""

from __future__ import annotations

from validate_helpers import FIXTURES, run


def test_thirdparty_pack_is_clean():
    findings = run(FIXTURES / "thirdparty")
    # one true warning: TodoWrite is not given to subagents (the oracle, both CLI versions)
    assert [f.rule for f in findings] == ["PP207"], [(f.location, f.rule, f.message) for f in findings]


def test_thirdparty_each_file_alone_is_clean():
    for path in sorted((FIXTURES / "thirdparty").rglob("*.md")):
        if path.name == "orchestrator.md":
            continue  # names code-reviewer, which is only in the tree when the folder is validated
        assert run([path]) == [], path
