"""The harness itself, on a throwaway agent/command/hook: where each supported Claude Code puts each of them.

If the pinned CLI's request format moved, these fail first and say so, instead of the pack tests failing
for a confusing reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_harness import HOOK_CONTEXT_PREFIX, make_git_project, newer_than_oldest, run_claude
from fake_api import FakeAnthropicAPI, text_block, tool_use_block

pytestmark = pytest.mark.e2e

TOY_AGENT = """---
name: quokka-auditor
description: Use PROACTIVELY when quokka ledgers drift.
tools: Read, Grep
model: haiku
color: cyan
---
You audit quokka ledgers.
"""

TOY_COMMAND = """---
description: Tally quokkas
allowed-tools: Bash(echo:*)
---
Tally for: $ARGUMENTS
!`echo QUOKKA-TALLY-RAN`
"""

REFUSED_COMMAND = """---
description: A command whose shell line is not allowed
---
Refused for: $ARGUMENTS
!`touch should-not-exist`
"""


def _toy_project(tmp_path: Path) -> Path:
    project = make_git_project(tmp_path / "project")
    (project / ".claude" / "agents").mkdir(parents=True)
    (project / ".claude" / "commands").mkdir()
    (project / ".claude" / "agents" / "quokka-auditor.md").write_text(TOY_AGENT)
    (project / ".claude" / "commands" / "tally.md").write_text(TOY_COMMAND)
    (project / ".claude" / "commands" / "refused.md").write_text(REFUSED_COMMAND)
    hook_out = json.dumps(
        {
            "hookSpecificOutput": {
                "hookEventName": "UserPromptSubmit",
                "additionalContext": "QUOKKA-HOOK-CONTEXT",
            }
        }
    )
    settings = {
        "hooks": {
            "UserPromptSubmit": [
                {"hooks": [{"type": "command", "command": f"echo '{hook_out}'", "timeout": 10}]}
            ]
        }
    }
    (project / ".claude" / "settings.json").write_text(json.dumps(settings))
    return project


def test_agent_list_command_expansion_and_hook_context_reach_the_model(
    claude_bin, cli_version, fake_api, home, tmp_path
):
    project = _toy_project(tmp_path)
    run = run_claude(claude_bin, fake_api, project, home, "/tally eleven quokkas")

    assert run.returncode == 0, run.stderr[-2000:]
    assert "quokka-auditor" in run.init["agents"]
    assert "tally" in run.init["slash_commands"]
    assert run.init["claude_code_version"] == cli_version
    assert run.result is not None and run.result.get("is_error") is False

    body = run.first_request
    assert body["stream"] is True
    # Agent list: a role "system" message, one line per agent with its tools.
    assert (
        run.agent_lines()["quokka-auditor"]
        == "Use PROACTIVELY when quokka ledgers drift. (Tools: Read, Grep)"
    )
    # Command expansion: the user's message holds the body with $ARGUMENTS and the `!` output substituted.
    user_text = "\n".join(run.texts("user"))
    assert "Tally for: eleven quokkas" in user_text
    assert "QUOKKA-TALLY-RAN" in user_text and "!`echo" not in user_text
    # Hook context: appended to the same system message, prefixed by the CLI.
    assert f"{HOOK_CONTEXT_PREFIX} QUOKKA-HOOK-CONTEXT" in run.hook_lines()


def test_a_refused_shell_line_aborts_the_command_silently(claude_bin, fake_api, home, tmp_path):
    """The failure mode the /optimize tests guard against: nothing reaches the model, yet exit code 0."""
    project = _toy_project(tmp_path)
    run = run_claude(claude_bin, fake_api, project, home, "/refused anything")

    assert run.returncode == 0
    assert run.requests == []
    assert not (project / "should-not-exist").exists()


PRE_TOOL_USE_HOOK = """import json, sys
command = json.load(sys.stdin)["tool_input"]["command"]
if "forbidden" in command:
    decision = {"permissionDecision": "deny", "permissionDecisionReason": "QUOKKA-DENIED"}
else:
    decision = {"additionalContext": "QUOKKA-ADVICE"}
print(json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse", **decision}}))
"""


def test_pre_tool_use_context_and_deny_reason_reach_the_model(claude_bin, cli_version, home, tmp_path):
    """Where each version puts a PreToolUse hook's additionalContext and its deny reason (docs/e2e.md)."""
    project = make_git_project(tmp_path / "project")
    (project / ".claude").mkdir()
    hook = tmp_path / "pre_tool_use.py"
    hook.write_text(PRE_TOOL_USE_HOOK)
    settings = {"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [
        {"type": "command", "command": f"python3 {hook}", "timeout": 10}]}]}}
    (project / ".claude" / "settings.json").write_text(json.dumps(settings))
    commands = ["echo allowed-one", "echo forbidden-two"]

    def script(body):
        done = json.dumps(body.get("messages", [])).count('"tool_result"')
        if done < len(commands):
            return [tool_use_block("Bash", {"command": commands[done], "description": "probe"})]
        return [text_block("done")]

    with FakeAnthropicAPI(script=script) as api:
        run = run_claude(claude_bin, api, project, home, "run the probes", "--dangerously-skip-permissions")
    assert run.returncode == 0, run.stderr[-2000:]
    last = run.requests[-1]["messages"]
    results = [b for m in last if isinstance(m.get("content"), list) for b in m["content"]
               if b.get("type") == "tool_result"]
    assert "allowed-one" in json.dumps(results[0]["content"])
    denied = json.dumps(results[1]["content"])
    assert "QUOKKA-DENIED" in denied and "forbidden-two" not in denied.replace("echo forbidden-two", "")
    if newer_than_oldest(cli_version):
        assert "PreToolUse:Bash hook error:" in denied, denied
        system = [m for m in last if m.get("role") == "system" and "QUOKKA-ADVICE" in json.dumps(m)]
        assert system, "2.1.332 puts PreToolUse context in its own system-role message"
    advice = json.dumps(last)
    assert "PreToolUse:Bash hook additional context: QUOKKA-ADVICE" in advice
