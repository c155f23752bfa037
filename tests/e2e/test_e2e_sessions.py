"""Scripted sessions in the real Claude Code, on every supported version and both routes (issue 15).

A scripted stand-in model makes the real CLI start the pack's subagents and run Bash commands, so the tests
see what the CLI really gives a subagent: its tools, its memory, the toolkit on PATH, the hooks it starts.
A few sessions are shared by many assertions (each `claude` run costs seconds):

- project route: the README quick start (`.venv/bin/perfpack install --project APP`, `claude` in APP with the
  venv off PATH). Session 1: a routed prompt; the main model starts the three pack agents in one message;
  each stores an insight with `perfpack memory insight`, the engineer also runs a non-commit Bash command and
  a `git commit`. Session 2: `/optimize checkout latency`; the main model starts four analysis agents in one
  message and consolidates after their hand-backs (in the background on 2.1.198+).
- plugin route (`--plugin-dir` a copy of the repository, no perfpack on PATH either: the plugin's SessionStart
  hook puts its libexec/perfpack on the Bash tool's PATH through CLAUDE_ENV_FILE, and that runs the plugin's
  own source): the same two sessions with the `perfpack:` agents.
- a git clone of the installed project, run where perfpack is absent (no launcher links, nothing on PATH).

Hook processes are counted by a shim in front of the interpreter the hooks start.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from e2e_harness import (
    HOOK_CONTEXT_PREFIX,
    REPO_ROOT,
    VENV_BIN,
    ClaudeRun,
    copy_repo,
    make_git_project,
    newer_than_oldest,
    path_without_perfpack,
    run_claude,
)
from fake_api import Block, FakeAnthropicAPI, text_block, tool_use_block
from pack_checks import assert_agents_offered, assert_optimize_expanded

from perfpack.frontmatter import read_frontmatter

pytestmark = pytest.mark.e2e

PACK_AGENTS = ("performance-engineer", "performance-optimization-specialist", "performance-engineering-lead")
ANALYSTS = ("performance-engineer", "performance-optimization-specialist", "Explore", "general-purpose")
ENGINEER = "performance-engineer"
MAIN_MARK = "MAIN-PROBE"
ROUTED_PROMPT = f"the checkout latency p99 doubled under load, find the bottleneck {MAIN_MARK}"
TARGET = "checkout latency"
NON_COMMIT = "git status --short"
COMMIT = "git commit --allow-empty -q -m 'e2e probe'"
MEMORY_EXTRA = {"Read", "Write", "Edit"}  # what `memory:` adds to an agent's tools (CL 2.1.33)
SYNC = {"CLAUDE_CODE_DISABLE_BACKGROUND_TASKS": "1"}


def insight_text(agent: str) -> str:
    return f"E2E-INSIGHT-{agent} the checkout cache was cold"


def insight_command(agent: str) -> str:
    payload = json.dumps(
        {"area": "caching", "insight": insight_text(agent), "impact": "high", "confidence": 0.9}
    )
    return f"perfpack memory insight {agent} '{payload}'"


# --- the scripted model ---------------------------------------------------------------------------------


def _flat(body: dict[str, Any]) -> str:
    return json.dumps(body.get("messages", []))


def _tool_results(body: dict[str, Any]) -> int:
    return sum(
        1
        for m in body.get("messages", [])
        if isinstance(m.get("content"), list)
        for b in m["content"]
        if isinstance(b, dict) and b.get("type") == "tool_result"
    )


def _brief(agent: str) -> str:
    return f"SUB-{agent}-PROBE: investigate the checkout latency and hand back your findings."


def _is_main(body: dict[str, Any]) -> bool:
    flat = _flat(body)
    return MAIN_MARK in flat or f"<command-args>{TARGET}</command-args>" in flat


def _subagent_of(body: dict[str, Any]) -> str | None:
    """The agent whose brief opens this request's conversation (None: the main thread or a side query)."""
    if _is_main(body):
        return None
    flat = _flat(body)
    return next((a for a in (*PACK_AGENTS, *ANALYSTS) if f"SUB-{a}-PROBE" in flat), None)


@dataclass
class SessionScript:
    """Main thread: start AGENTS (under PREFIX) in one message; consolidate once every hand-back is in.
    Subagent A: run BASH[A] one command per turn, then hand back `HANDBACK-A`."""

    agents: tuple[str, ...]
    prefix: str = ""
    bash: dict[str, list[str]] = field(default_factory=dict)

    def __call__(self, body: dict[str, Any]) -> list[Block] | None:
        agent = _subagent_of(body)
        if agent is not None:
            step = _tool_results(body)
            commands = self.bash.get(agent, [])
            if step < len(commands):
                return [tool_use_block("Bash", {"command": commands[step], "description": "e2e step"})]
            return [text_block(f"HANDBACK-{agent}: the cache is cold.")]
        if not _is_main(body):
            return None
        if _tool_results(body) == 0:
            return [
                tool_use_block(
                    "Agent",
                    {"subagent_type": self._type(a), "description": f"analyse {a}", "prompt": _brief(a)},
                )
                for a in self.agents
            ]
        flat = _flat(body)
        missing = [a for a in self.agents if f"HANDBACK-{a}" not in flat]
        return [
            text_block(
                f"CONSOLIDATED {len(self.agents)} hand-backs"
                if not missing
                else f"waiting for {len(missing)} agents"
            )
        ]

    def _type(self, agent: str) -> str:
        return self.prefix + agent if agent in PACK_AGENTS else agent


# --- what the requests show ------------------------------------------------------------------------------


def main_requests(run: ClaudeRun) -> list[dict[str, Any]]:
    return [r for r in run.requests if _is_main(r)]


def subagent_requests(run: ClaudeRun, agent: str) -> list[dict[str, Any]]:
    return [r for r in run.requests if _subagent_of(r) == agent]


def system_text(body: dict[str, Any]) -> str:
    system = body.get("system", "")
    return system if isinstance(system, str) else "\n".join(b.get("text", "") for b in system)


def tool_results(body: dict[str, Any]) -> list[str]:
    out = []
    for message in body.get("messages", []):
        for block in message.get("content") if isinstance(message.get("content"), list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                content = block.get("content")
                out.append(content if isinstance(content, str) else json.dumps(content))
    return out


def declared_tools(agent: str) -> set[str]:
    data = read_frontmatter(REPO_ROOT / "agents" / f"{agent}.md").data or {}
    names = re.sub(r"\([^)]*\)", "", str(data.get("tools", ""))).split(",")
    return {name.strip() for name in names if name.strip()}


def pack_files_warned(debug_log: Path) -> list[str]:
    """`[WARN]`/`[ERROR]` lines of a --debug-file log that name a file of the pack."""
    names = [f"{a}.md" for a in PACK_AGENTS] + ["optimize.md", "hooks.json", "perfpack.toml", "perfpack/"]
    lines = debug_log.read_text(errors="replace").splitlines()
    return [
        line for line in lines if ("[WARN]" in line or "[ERROR]" in line) and any(n in line for n in names)
    ]


# --- sessions --------------------------------------------------------------------------------------------


@dataclass
class Sessions:
    route: str
    version: str
    project: Path
    prefix: str
    first: ClaudeRun
    second: ClaudeRun
    debug_logs: list[Path]
    hook_log: Path

    def hook_starts(self, event: str) -> int:
        if not self.hook_log.exists():
            return 0
        return sum("hook.py" in line and event in line for line in self.hook_log.read_text().splitlines())


def _shim(path: Path, real: str, log: Path) -> None:
    """An executable at PATH that records its arguments, then runs REAL with them."""
    path.write_text(f"#!/bin/sh\necho \"$*\" >> '{log}'\nexec '{real}' \"$@\"\n")
    path.chmod(0o755)


def _sessions(route: str, version: str, claude: Path, base: Path, setup, env: dict[str, str] | None = None
              ) -> Sessions:
    """Sessions 1 and 2 (module docstring) in a fresh project; SETUP(project) -> (args, venv, prefix, log)."""
    project = make_git_project(base / "app")
    extra, venv_on_path, prefix, hook_log = setup(project)
    bash = {a: [insight_command(a)] for a in PACK_AGENTS} | {ENGINEER: [insight_command(ENGINEER), NON_COMMIT,
                                                                        COMMIT]}
    plan = [(ROUTED_PROMPT, SessionScript(PACK_AGENTS, prefix, bash), SYNC),
            (f"/{'perfpack:' if prefix else ''}optimize {TARGET}", SessionScript(ANALYSTS, prefix), {})]
    runs, logs = [], []
    for index, (prompt, script, run_env) in enumerate(plan, start=1):
        log = base / f"debug-{index}.log"
        with FakeAnthropicAPI(script=script) as api:
            runs.append(run_claude(claude, api, project, base / "home", prompt, "--debug-file", str(log),
                                   "--dangerously-skip-permissions", *extra, venv_on_path=venv_on_path,
                                   env={**(env or {}), **run_env}, timeout=240))
        logs.append(log)
    return Sessions(route, version, project, prefix, runs[0], runs[1], logs, hook_log)


@pytest.fixture(scope="module")
def project_route(claude_bin: Path, cli_version: str, tmp_path_factory: pytest.TempPathFactory) -> Sessions:
    base = tmp_path_factory.mktemp(f"project-{cli_version}")
    hook_log = base / "hook-starts.log"

    def setup(project: Path) -> tuple[list[str], bool, str, Path]:
        # The README's quick start: the venv's perfpack installs, then the venv is not on PATH.
        done = subprocess.run(
            [os.path.join(VENV_BIN, "perfpack"), "install", "--project", str(project)],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        git = ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.invalid"]
        subprocess.run([*git, "add", "-A"], cwd=project, check=True, timeout=60)
        subprocess.run([*git, "commit", "-q", "-m", "perfpack install"], cwd=project, check=True, timeout=60)
        local_python = project / ".claude" / "perfpack" / "local" / "python"
        real = os.path.realpath(local_python)
        local_python.unlink()
        _shim(local_python, real, hook_log)  # git-ignored, like everything in local/
        return [], False, "", hook_log

    return _sessions("project", cli_version, claude_bin, base, setup)


@pytest.fixture(scope="module")
def plugin_route(claude_bin: Path, cli_version: str, tmp_path_factory: pytest.TempPathFactory) -> Sessions:
    base = tmp_path_factory.mktemp(f"plugin-{cli_version}")
    hook_log = base / "hook-starts.log"
    plugin = copy_repo(base / "perfpack-plugin")

    def setup(project: Path) -> tuple[list[str], bool, str, Path]:
        return ["--plugin-dir", str(plugin)], False, "perfpack:", hook_log

    # No perfpack on PATH: the plugin's libexec/perfpack (on the Bash tool's PATH by the plugin's SessionStart
    # hook, hooks/plugin-path.sh, through CLAUDE_ENV_FILE) runs its source with the first python3. hooks.json
    # starts `python3 -S .../hook.py EVENT`: a shim first on PATH counts those starts.
    shims = base / "shims"
    shims.mkdir()
    bare = path_without_perfpack()
    _shim(shims / "python3", shutil.which("python3", path=bare) or sys.executable, hook_log)
    return _sessions("plugin", cli_version, claude_bin, base, setup, {"PATH": f"{shims}{os.pathsep}{bare}"})


@pytest.fixture(params=["project", "plugin"])
def route(request: pytest.FixtureRequest, project_route: Sessions, plugin_route: Sessions) -> Sessions:
    return project_route if request.param == "project" else plugin_route


# --- the assertions --------------------------------------------------------------------------------------


def test_sessions_ran_every_subagent_and_its_commands(route: Sessions):
    for run in (route.first, route.second):
        assert run.returncode == 0, run.stderr[-2000:]
        assert main_requests(run), f"the main thread never reached the model: {run.stderr[-2000:]}"
    for agent in PACK_AGENTS:
        assert subagent_requests(route.first, agent), f"{route.prefix}{agent} was never started"
    engineer = subagent_requests(route.first, ENGINEER)[-1]
    assert len(tool_results(engineer)) == 3, tool_results(engineer)


def test_agents_are_offered_with_their_descriptions_and_tools(route: Sessions):
    assert_agents_offered(route.first, prefix=route.prefix)
    assert f"{route.prefix}optimize" in route.first.init["slash_commands"]


def test_optimize_expands_with_the_real_snapshot_and_the_target(route: Sessions):
    assert_optimize_expanded(route.second, route.project)


def test_no_cli_warning_names_a_pack_file(route: Sessions):
    for log in route.debug_logs:
        assert log.is_file(), f"--debug-file wrote no {log}"
        assert pack_files_warned(log) == [], f"{route.route} route, {log.name}"


def test_each_agent_is_given_exactly_its_declared_tools(route: Sessions, request):
    for agent in PACK_AGENTS:
        request = subagent_requests(route.first, agent)[0]
        offered = {tool["name"] for tool in request.get("tools", [])}
        declared = declared_tools(agent)
        data = read_frontmatter(REPO_ROOT / "agents" / f"{agent}.md").data or {}
        extra = MEMORY_EXTRA if data.get("memory") else set()
        assert declared <= offered and offered <= declared | extra, (
            f"{route.prefix}{agent} on {route.version}: declares {sorted(declared)}, the CLI gives "
            f"{sorted(offered)} (not given: {sorted(declared - offered)})"
        )


def test_a_started_subagent_reaches_the_toolkit_and_stores_its_insight(route: Sessions):
    """No perfpack on PATH. Installed: only install's launcher links (on PATH by its SessionStart hook) help;
    as a plugin, the plugin's libexec/perfpack (on PATH by the plugin's SessionStart hook)."""
    for agent in PACK_AGENTS:
        result = tool_results(subagent_requests(route.first, agent)[-1])[0]
        assert "command not found" not in result and '"kind": "insight"' in result, f"{agent}: {result[:500]}"
    database = route.project / ".claude" / "memory" / "memory.db"
    found = subprocess.run(
        [sys.executable, "-m", "perfpack", "memory", "search", "E2E-INSIGHT", "--kind", "insight"],
        cwd=route.project,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert database.is_file() and found.returncode == 0, found.stderr
    assert {item["agent"] for item in json.loads(found.stdout)} == set(PACK_AGENTS)


def test_memory_of_session_one_is_in_the_subagents_system_prompt_in_session_two(route: Sessions):
    folder = f"perfpack-{ENGINEER}" if route.prefix else ENGINEER
    digest = route.project / ".claude" / "agent-memory" / folder / "MEMORY.md"
    assert digest.is_file() and insight_text(ENGINEER) in digest.read_text(), (
        f"no digest where {route.version} reads {route.prefix}{ENGINEER}'s memory: "
        f"{sorted(p.name for p in (route.project / '.claude' / 'agent-memory').iterdir())}"
    )
    prompt = system_text(subagent_requests(route.second, ENGINEER)[0])
    assert str(digest.parent) in prompt, "the CLI names another memory folder for the agent"
    assert insight_text(ENGINEER) in prompt


def test_pre_tool_use_hook_starts_only_for_git_commit(route: Sessions, request):
    """Session 1 ran 3 insight commands, one `git status` and one `git commit`: one PreToolUse start."""
    assert route.hook_starts("user-prompt-submit") >= 2, "the shim saw no UserPromptSubmit hook: not counting"
    assert route.hook_starts("pre-tool-use") == 1, route.hook_log.read_text()


def test_subagent_stop_hook_starts_only_for_the_pack_agents(route: Sessions, request):
    """Session 1 stopped the three pack agents; session 2 two pack agents, Explore and general-purpose. The
    SubagentStop matcher (hooks.json, copied by install) starts the evidence hook for the five pack stops
    only: other subagents' stops cost no process."""
    pack_stops = len(PACK_AGENTS) + len([a for a in ANALYSTS if a in PACK_AGENTS])
    assert route.hook_starts("subagent-stop") == pack_stops, route.hook_log.read_text()


def test_routed_prompt_gets_short_context_and_a_slash_command_none(route: Sessions, request):
    routed = [line for line in route.first.hook_lines() if line.startswith(HOOK_CONTEXT_PREFIX)]
    assert routed and any(agent in line for line in routed for agent in PACK_AGENTS), route.first.hook_lines()
    context = "".join(line.removeprefix(HOOK_CONTEXT_PREFIX).strip() for line in routed)
    assert len(context) <= 300, f"{len(context)} characters of routing context: {context}"
    # Nothing for the slash command, nor for the hand-back notifications after it (2.1.332 runs
    # UserPromptSubmit hooks on those too): the last main request holds every hook line of the session.
    final = main_requests(route.second)[-1]
    last = "\n".join(_user_texts(final) + _system_role_texts(final))
    hooked = [line for line in last.splitlines() if line.startswith(HOOK_CONTEXT_PREFIX)]
    assert not [line for line in hooked if any(a in line for a in PACK_AGENTS)], f"routing context: {hooked}"


def _system_role_texts(body: dict[str, Any]) -> list[str]:
    out = []
    for message in body.get("messages", []):
        if message.get("role") == "system":
            content = message.get("content")
            for block in [content] if isinstance(content, str) else content or []:
                out.append(block if isinstance(block, str) else str(block.get("text", "")))
    return out


def test_optimize_expands_and_consolidates_after_every_hand_back(route: Sessions):
    run = route.second
    first = main_requests(run)[0]
    expansion = "\n".join(_user_texts(first))
    assert f"<command-args>{TARGET}</command-args>" in expansion and "!`" not in expansion
    snapshot = subprocess.run(
        [sys.executable, "-m", "perfpack", "snapshot"],
        cwd=route.project,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.splitlines()[0]
    assert snapshot.lstrip("#").strip() in expansion, f"snapshot heading {snapshot!r} not in the expansion"
    launched = main_requests(run)[1]
    results = tool_results(launched)
    assert len(results) == len(ANALYSTS), results
    if newer_than_oldest(route.version):  # 2.1.198+: subagents run in the background by default
        assert all("Async agent launched" in r for r in results), results
    last = main_requests(run)[-1]
    assert all(f"HANDBACK-{a}" in _flat(last) for a in ANALYSTS), "a hand-back never reached the main thread"
    final = [e for e in run.events if e.get("type") == "assistant"]
    said = json.dumps(final)
    assert f"CONSOLIDATED {len(ANALYSTS)} hand-backs" in said, "the main thread never consolidated"


def _user_texts(body: dict[str, Any]) -> list[str]:
    out = []
    for message in body.get("messages", []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        for block in [content] if isinstance(content, str) else content or []:
            if isinstance(block, str):
                out.append(block)
            elif isinstance(block, dict) and isinstance(block.get("text"), str):
                out.append(block["text"])
    return out


def test_commit_convention_replaces_the_co_authored_by_reminder(project_route: Sessions):
    """install merges agents/perfpack.toml [commits] attribution into settings.json; the CLI puts it where its
    own Co-Authored-By line would be: 2.1.332 in the attribution reminder, 2.1.197 in the Bash tool."""
    meta = tomllib.loads((REPO_ROOT / "agents" / "perfpack.toml").read_text())
    attribution = meta["commits"]["attribution"]
    assert "Assisted-By:" in attribution and "Signed-off-by:" in attribution
    settings = json.loads((project_route.project / ".claude" / "settings.json").read_text())
    assert settings["attribution"]["commit"] == attribution
    for body in [main_requests(project_route.first)[0], subagent_requests(project_route.first, ENGINEER)[0]]:
        flat = json.dumps(body)
        assert json.dumps(attribution)[1:-1] in flat, "the pack's attribution is not in the request"
        assert "Co-Authored-By" not in flat


# --- nothing machine-specific; a clone without perfpack ---------------------------------------------------


def test_committed_files_hold_no_path_of_this_machine(project_route: Sessions):
    machine = {
        str(project_route.project),
        VENV_BIN,
        sys.executable,
        str(Path.home()),
        str(REPO_ROOT),
        os.path.realpath(sys.executable),
    }
    committed = subprocess.run(
        ["git", "ls-files", ".claude"],
        cwd=project_route.project,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.split()
    checked = [
        f
        for f in committed
        if f == ".claude/settings.json" or f.startswith((".claude/agents/", ".claude/commands/"))
    ]
    assert ".claude/settings.json" in checked and len(checked) >= 5, committed
    for name in checked:
        text = (project_route.project / name).read_text()
        assert not [m for m in machine if m in text], f"{name} names a path of this machine"


@pytest.fixture(scope="module")
def clone_runs(project_route: Sessions, claude_bin: Path, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp(f"clone-{project_route.version}")
    clone = base / "teammate-app"
    subprocess.run(["git", "clone", "-q", str(project_route.project), str(clone)], check=True, timeout=60)
    assert not (clone / ".claude" / "perfpack" / "local").exists()
    runs = []
    for index, prompt in enumerate([f"/optimize {TARGET}", "the dashboard is slow"], start=1):
        log = base / f"debug-{index}.log"
        with FakeAnthropicAPI() as api:
            run = run_claude(
                claude_bin, api, clone, base / "home", prompt, "--debug-file", str(log), venv_on_path=False
            )
        runs.append((run, log))
    return runs


def test_a_clone_without_perfpack_stays_silent(clone_runs, project_route: Sessions):
    for run, log in clone_runs:
        # 2.1.332 logs each hook's exit status: the pack's hooks ran in the clone, and exited 0
        statuses = re.findall(r"perfpack/local/.*finished with status (\d+)", log.read_text(errors="replace"))
        if newer_than_oldest(project_route.version):
            assert statuses and set(statuses) == {"0"}, statuses
        assert run.returncode == 0 and run.stderr.strip() == "", run.stderr[-2000:]
        # (an aborted /optimize sends nothing: the next test catches that)
        assert not run.requests or not run.hook_lines(), run.hook_lines()
        noisy = [
            line
            for line in log.read_text(errors="replace").splitlines()
            if ("[WARN]" in line or "[ERROR]" in line) and ("hook" in line.lower() or "perfpack" in line)
            and "telemetry" not in line  # 2.1.197: "[3P telemetry] Event dropped ...: hook_execution_start"
        ]
        assert noisy == [], noisy


def test_optimize_in_a_clone_without_perfpack_says_how_to_get_it(clone_runs, project_route: Sessions,
                                                                  request):
    run = clone_runs[0][0]
    expansion = "\n".join(_user_texts(run.first_request))  # fails when the command was aborted
    assert f"<command-args>{TARGET}</command-args>" in expansion
    usual = set("\n".join(_user_texts(main_requests(project_route.second)[0])).splitlines())
    new_lines = [line for line in expansion.splitlines() if line not in usual and line.strip()]
    how = [line for line in new_lines if re.search(r"perfpack", line) and re.search(r"install", line)]
    assert len(how) >= 1, f"no line on how to get the toolkit among the clone-only lines: {new_lines[:20]}"


def test_commit_advice_of_the_pre_tool_use_hook_reaches_the_subagent(route: Sessions):
    """2.1.332: its own system-role message; 2.1.197: a <system-reminder> after the tool result."""
    last = subagent_requests(route.first, ENGINEER)[-1]
    where = _system_role_texts(last) if newer_than_oldest(route.version) else _user_texts(last)
    advice = [t for t in where if "PreToolUse:Bash hook additional context:" in t and "Signed-off-by" in t]
    assert advice, f"no commit advice for `{COMMIT}` in the {route.prefix}{ENGINEER} request"
