"""Arbitrary bytes and mangled frontmatter never produce a traceback, in-process or through the CLI."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validate_helpers import run, write_pack

FRAGMENTS = ["---", "name: a-b", "name: [", "description: Use when: x", "tools: Read, Agent(",
             "model: thinking", "skills:", "  - x", "triggers: {keywords: {a: 1}}",
             "allowed-tools: Bash(x:*)", "!`rm -rf /`", "```!", "$ARGUMENTS", "\ufeff", "\r", "\t", ": :",
             "- - -", "&a", "*a", "!!python/object:os.system", "external-agents: [x]", "delegates-to: 3",
             "| Delegate To | When |", "| a-b | c |", "{", "]"]

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes(tmp_path_factory, data):
    pack = write_pack(tmp_path_factory.mktemp("bytes"), {"agents/a.md": data, "commands/c.md": data,
                                                         "hooks/hooks.json": data,
                                                         ".claude-plugin/plugin.json": data})
    for finding in run(pack):
        assert finding.rule.startswith("PP") and finding.line >= 1


@SETTINGS
@given(lines=st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=20), max_size=14))
def test_mangled_frontmatter(tmp_path_factory, lines):
    text = "---\n" + "\n".join(lines) + "\n---\nbody $1 !`echo $ARGUMENTS`\n"
    pack = write_pack(tmp_path_factory.mktemp("fm"), {"agents/a-b.md": text, "commands/c.md": text,
                                                      ".claude/settings.json": "\n".join(lines)})
    for finding in run(pack):  # and no exception escaped
        assert finding.rule.startswith("PP") and finding.line >= 1 and finding.fix


def test_cli_on_garbage_never_tracebacks(tmp_path, perfpack):
    samples = [b"\xff\xfe\x00garbage", b"---\n" + b"a: [" * 5000 + b"\n---\n", b"---\n" + b"x" * 3_000_000,
               b"---\n\xe9\n---\n", b"", b"---\n---\n", "---\nname: é\u2028\n---\n".encode()]
    for index, sample in enumerate(samples):
        write_pack(tmp_path, {f"agents/a{index}.md": sample, f"commands/c{index}.md": sample})
    (tmp_path / "hooks").mkdir()
    (tmp_path / "hooks" / "hooks.json").write_bytes(b"[" * 100000)
    result = perfpack("validate", "--format", "json", str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
