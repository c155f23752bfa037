"""The evidence hooks in the real Claude Code CLI (every supported version), installed by `perfpack install`.

A scripted stand-in model makes the main session start the pack's performance-engineer; the subagent ends
with a figure the project's ledger does not hold; the SubagentStop hook sends it back with the reason; the
reason reaches the subagent's next model request; its next final message (measured figures only) ends it.
The same for /optimize's final report and the Stop hook. Every assertion reads what the CLI really sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_harness import copy_repo, make_git_project, run_claude
from fake_api import FakeAnthropicAPI, text_block, tool_use_block

from perfpack import ledger

pytestmark = pytest.mark.e2e

AGENT = "performance-engineer"
AGENT_MARKER = "# Performance Engineer"  # the agent file's body: the subagent's system prompt
INVENTED = "Checkout p95 went from 1.64 s to 670 ms, and p99 is now 2.9 s."
MEASURED = "Checkout p95 went from 1.64 s to 670 ms (2.4x faster); p99 was not measured."
REASON_MARK = "perfpack evidence check"  # the first words of the hook's reason


def _system(body: dict[str, Any]) -> str:
    system = body.get("system")
    if isinstance(system, list):
        return "\n".join(str(block.get("text", "")) for block in system if isinstance(block, dict))
    return str(system or "")


def _texts(message: dict[str, Any]) -> list[str]:
    """Every text in one API message (tool results' text too)."""
    content = message.get("content")
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    for block in content or []:
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str):
            out.append(block["text"])
        inner = block.get("content")
        if isinstance(inner, str):
            out.append(inner)
        elif isinstance(inner, list):
            out += [b["text"] for b in inner if isinstance(b, dict) and isinstance(b.get("text"), str)]
    return out


def _where(body: dict[str, Any], needle: str) -> list[str]:
    """JSON paths in a request body whose text holds `needle` ("messages[3].content[1].text")."""
    found = []
    for i, message in enumerate(body.get("messages", [])):
        content = message.get("content")
        if isinstance(content, str):
            if needle in content:
                found.append(f"messages[{i}].content ({message.get('role')})")
            continue
        for j, block in enumerate(content or []):
            if isinstance(block, dict) and needle in json.dumps(block, ensure_ascii=False):
                found.append(f"messages[{i}].content[{j}] ({message.get('role')}, {block.get('type')})")
    return found


def _agent_tool(body: dict[str, Any]) -> str | None:
    names = [tool.get("name") for tool in body.get("tools") or [] if isinstance(tool, dict)]
    return next((name for name in ("Agent", "Task") if name in names), None)


def _subagent_script(body: dict[str, Any], agent: str = AGENT) -> list[dict[str, Any]] | None:
    """Main session: start the performance-engineer, then finish. The subagent: invent, then withdraw."""
    messages = body.get("messages") or []
    if AGENT_MARKER in _system(body) or any(AGENT_MARKER in t for m in messages[:1] for t in _texts(m)):
        last = messages[-1] if messages else {}
        if any(REASON_MARK in text for text in _texts(last)):
            return [text_block(MEASURED)]
        return [text_block(INVENTED)]
    tool = _agent_tool(body)
    if tool is None:
        return None  # a side request (title, quota): the default text
    if any(isinstance(b, dict) and b.get("type") == "tool_result"
           for m in messages for b in (m.get("content") if isinstance(m.get("content"), list) else [])):
        return [text_block("The performance-engineer reported its measured result.")]
    return [tool_use_block(tool, {"subagent_type": agent, "description": "Measure checkout",
                                  "prompt": "Measure the checkout latency and report the figures."})]


def _project(tmp_path: Path) -> Path:
    project = make_git_project(tmp_path / "shop")
    proc = subprocess.run([sys.executable, "-m", "perfpack", "install", "--project", str(project)],
                          cwd=project, check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    for event, arg in (("SubagentStop", "subagent-stop"), ("Stop", "stop")):
        commands = [h["command"] for g in settings["hooks"][event] for h in g["hooks"]]
        assert any(command.endswith(f"hook.py\" {arg}") for command in commands), commands
    ledger.record(project, kind="bench", name="checkout", command=["python", "app.py"],
                  figures=[ledger.figure("p95", 1643.2, "ms", side="before"),
                           ledger.figure("p95", 672.9, "ms", side="after")])
    return project


def _check(project: Path, message: str) -> int:
    (project / "final.txt").write_text(message)
    return subprocess.run([sys.executable, "-m", "perfpack", "evidence", "check", "--message", "final.txt"],
                          cwd=project, check=False, capture_output=True, timeout=60).returncode


def _plugin_project(tmp_path: Path) -> tuple[Path, list[str]]:
    """A project without perfpack installed, and the CLI arguments that load this repository as a plugin."""
    repo = copy_repo(tmp_path / "perfpack-checkout")
    project = make_git_project(tmp_path / "shop")
    ledger.record(project, kind="bench", name="checkout", command=["python", "app.py"],
                  figures=[ledger.figure("p95", 1643.2, "ms", side="before"),
                           ledger.figure("p95", 672.9, "ms", side="after")])
    return project, ["--plugin-dir", str(repo)]


@pytest.mark.parametrize("route", ["install", "plugin"])
def test_subagent_with_an_invented_figure_is_sent_back_once_and_its_next_answer_ends_it(
    claude_bin, home, tmp_path, route
):
    if route == "install":
        project, extra, agent = _project(tmp_path), [], AGENT
    else:  # hooks/hooks.json, the agent namespaced by the plugin
        (project, extra), agent = _plugin_project(tmp_path), f"perfpack:{AGENT}"
    with FakeAnthropicAPI(script=lambda body: _subagent_script(body, agent)) as api:
        run = run_claude(claude_bin, api, project, home, "make checkout faster", *extra)
        requests = api.messages()
    assert run.returncode == 0, run.stderr[-2000:]
    agent_turns = [body for body in requests if AGENT_MARKER in _system(body)
                   or any(AGENT_MARKER in t for m in (body.get("messages") or [])[:1] for t in _texts(m))]
    assert len(agent_turns) == 2, f"the subagent ran {len(agent_turns)} model turns; expected 2 (block once)"
    first, second = agent_turns
    assert not _where(first, REASON_MARK)
    where = _where(second, REASON_MARK)
    assert where, "the hook's reason did not reach the subagent's next request"
    # the reason names the unverified figure and the command that would measure it, and nothing measured
    reason = next(t for t in _texts(second["messages"][-1]) if REASON_MARK in t)
    assert "2.9 s (p99)" in reason and "perfpack bench" in reason
    assert "1.64 s" not in reason.split("\n", 2)[-1]
    assert where[-1].startswith(f"messages[{len(second['messages']) - 1}]"), where  # the newest user turn
    # the subagent's next final message passes: no third turn, the main session got it, the CLI check agrees
    main_after = [b for b in requests if _agent_tool(b) and AGENT_MARKER not in _system(b)][-1]
    assert any(MEASURED in text for m in main_after["messages"] for text in _texts(m))
    assert not any(INVENTED in text for m in main_after["messages"] for text in _texts(m))
    assert _check(project, INVENTED) == 1 and _check(project, MEASURED) == 0
    print(f"reason reached the subagent at {where} of its request {requests.index(second) + 1}")


def _optimize_script(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    messages = body.get("messages") or []
    if not any("<command-name>/optimize</command-name>" in t for m in messages for t in _texts(m)):
        return None
    if any(REASON_MARK in t for t in _texts(messages[-1])):
        return [text_block("## Final report\n" + MEASURED)]
    return [text_block("## Final report\n" + INVENTED)]


def test_optimize_final_report_with_an_invented_figure_is_sent_back_once(claude_bin, home, tmp_path):
    project = _project(tmp_path)
    with FakeAnthropicAPI(script=_optimize_script) as api:
        run = run_claude(claude_bin, api, project, home, "/optimize checkout latency")
        requests = api.messages()
    assert run.returncode == 0, run.stderr[-2000:]
    turns = [b for b in requests if any("<command-name>/optimize</command-name>" in t
                                        for m in b.get("messages", []) for t in _texts(m))]
    assert len(turns) == 2, f"/optimize ran {len(turns)} model turns; expected 2 (block once)"
    assert _where(turns[1], REASON_MARK) and not _where(turns[0], REASON_MARK)
    assert run.result is not None and MEASURED in str(run.result.get("result"))


def test_an_ordinary_prompt_is_never_checked(claude_bin, home, tmp_path):
    project = _project(tmp_path)

    def script(body: dict[str, Any]) -> list[dict[str, Any]] | None:
        return [text_block(INVENTED)] if body.get("tools") else None

    with FakeAnthropicAPI(script=script) as api:
        run = run_claude(claude_bin, api, project, home, "how fast is checkout?")
        requests = api.messages()
    assert run.returncode == 0, run.stderr[-2000:]
    assert not [b for b in requests if _where(b, REASON_MARK)]
