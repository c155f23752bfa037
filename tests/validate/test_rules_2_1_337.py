"""What Claude Code 2.1.337 changed in the oracle's verdicts. A CRLF agent file with `key: a: b` (case
a100): 2.1.197 and 2.1.332 drop the agent (no lenient re-read in a CRLF file), 2.1.337 re-reads it leniently
and loads it, as in an LF file."""

from __future__ import annotations

from pathlib import Path

from validate_helpers import run, write_pack

AGENT = "---\r\nname: crlf-agent\r\ndescription: Use when: x\r\n---\r\nBody.\r\n"


def test_crlf_colon_description_drops_the_agent_before_2_1_337_only(tmp_path: Path) -> None:
    root = write_pack(tmp_path, {".claude/agents/crlf-agent.md": AGENT})
    for version, dropped in (("2.1.197", True), ("2.1.332", True), ("2.1.337", False)):
        findings = run(root, cli_version=version)
        errors = [f.rule for f in findings if f.severity == "error"]
        assert bool(errors) == dropped, (version, [(f.rule, f.message) for f in findings])
        assert "PP103" in {f.rule for f in findings}  # CRLF stays a warning on every version


def test_agent_beside_other_tools_is_not_called_unknown(tmp_path: Path) -> None:
    """Oracle cases a159/a161: 2.1.197 never gives `Agent` to a subagent, 2.1.332 only when it is listed alone
    (a real tool, not an unknown one: no "did you mean `Agent`?"); 2.1.337 gives it beside other tools."""
    agent = "---\nname: a\ndescription: d\ntools: Read, Agent\n---\nx\n"
    root = write_pack(tmp_path, {".claude/agents/a.md": agent})
    for version, fix in (("2.1.197", "remove it"), ("2.1.332", "remove it, or list it alone")):
        (hit,) = run(root, cli_version=version)
        assert hit.rule == "PP207" and "did you mean" not in hit.message and "`Agent`" in hit.message
        assert hit.fix == fix
    assert run(root, cli_version="2.1.337") == []
