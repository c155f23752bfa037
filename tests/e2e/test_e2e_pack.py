"""The pack in the real Claude Code (every supported version): installed into a project, and as a plugin.

Every assertion reads what the CLI really sent to the (stand-in) model, or its stream-json init event.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_harness import (
    HOOK_CONTEXT_PREFIX,
    REPO_ROOT,
    ClaudeRun,
    copy_repo,
    make_git_project,
    run_claude,
    run_claude_cli,
)

from perfpack.frontmatter import read_frontmatter

pytestmark = pytest.mark.e2e

PACK_AGENTS = ("performance-optimization-specialist", "performance-engineer", "performance-engineering-lead")
TARGET = "checkout latency"  # a user's words; the product never hard-codes it
SLOW_PROMPT = "the dashboard is slow"
UNRELATED_PROMPT = "write a haiku about autumn"


def _split_tools(value: str) -> list[str]:
    """Split a `tools` string on top-level commas: `Agent(a, b)` stays one entry."""
    items, depth, current = [], 0, ""
    for char in value:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current.strip())
    return items


def _expected_agents() -> dict[str, dict]:
    agents = {}
    for path in sorted((REPO_ROOT / "agents").glob("*.md")):
        data = read_frontmatter(path).data or {}
        agents[data.get("name", path.stem)] = data
    assert set(PACK_AGENTS) <= set(agents), (
        f"the pack's agents/ lacks some of {PACK_AGENTS}: {sorted(agents)}"
    )
    return agents


def _perfpack(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfpack", *args],
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _install(project: Path) -> None:
    proc = _perfpack("install", "--project", str(project), cwd=project)
    assert proc.returncode == 0, f"perfpack install failed ({proc.returncode}): {proc.stderr[-2000:]}"


def _add_marker_hook(project: Path, marker: Path) -> None:
    """Append our own UserPromptSubmit hook to the installed settings.json, recording each prompt it sees.

    It proves the CLI loaded that settings.json (an invalid one is ignored whole, silently) and ran its hooks.
    """
    settings_path = project / ".claude" / "settings.json"
    settings = json.loads(settings_path.read_text())
    script = f"import sys, json; open({str(marker)!r}, 'a').write(json.load(sys.stdin)['prompt'] + '\\n')"
    entry = {"hooks": [{"type": "command", "command": f'{sys.executable} -c "{script}"', "timeout": 10}]}
    settings.setdefault("hooks", {}).setdefault("UserPromptSubmit", []).append(entry)
    settings_path.write_text(json.dumps(settings, indent=2))


def _assert_agents_offered(run: ClaudeRun, prefix: str = "") -> None:
    offered = run.agent_lines()
    for name, data in _expected_agents().items():
        shown = prefix + name
        assert shown in run.init["agents"], f"{shown} missing from init agents {run.init['agents']}"
        assert shown in offered, f"{shown} not offered to the model; offered: {sorted(offered)}"
        line = offered[shown]
        description = " ".join(str(data["description"]).split())
        assert " ".join(line.split()).startswith(description), f"{shown}: model sees {line!r}"
        tools_shown = line.rsplit("(Tools: ", 1)[-1].removesuffix(")")
        expected = _split_tools(str(data.get("tools", ""))) or ["*"]  # omitted tools = every tool
        seen = _split_tools(tools_shown)
        # `memory:` makes the CLI append Read/Write/Edit (CL 2.1.33); nothing else may differ.
        allowed_extra = {"Read", "Write", "Edit"} if data.get("memory") else set()
        assert seen[: len(expected)] == expected and set(seen[len(expected) :]) <= allowed_extra, (
            f"{shown}: model sees tools {tools_shown!r}, the file says {expected}"
        )


def _assert_optimize_expanded(run: ClaudeRun, project: Path) -> None:
    assert run.returncode == 0, run.stderr[-2000:]
    user_text = "\n".join(run.texts("user"))  # the expanded command body is the user's turn
    assert TARGET in user_text, user_text[:3000]
    assert "!`" not in user_text, "a `!` line reached the model unexpanded"
    snapshot = _perfpack("snapshot", "--format", "json", cwd=project)
    assert snapshot.returncode == 0, snapshot.stderr
    facts = json.loads(snapshot.stdout)
    heading = _perfpack("snapshot", cwd=project).stdout.splitlines()[0]
    assert heading.lstrip("#").strip() in user_text, f"snapshot heading {heading!r} not in the request"
    cpus = facts["host"]["cpus"]
    assert re.search(rf"CPUs?\b[^\n]*\b{cpus}\b", user_text), f"host CPU count {cpus} not in the request"
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, check=False, capture_output=True, text=True, timeout=30
    ).stdout.strip()
    assert head[:7] in user_text, f"the project's commit {head[:7]} is not in the expanded snapshot"
    assert "<command-args>" + TARGET + "</command-args>" in user_text


@pytest.fixture
def installed_project(tmp_path: Path) -> Path:
    project = make_git_project(tmp_path / "shop")
    _install(project)
    return project


def test_installed_agents_are_offered_with_descriptions_and_tools(
    claude_bin, fake_api, home, installed_project
):
    run = run_claude(claude_bin, fake_api, installed_project, home, "list the files in this project")
    assert run.returncode == 0, run.stderr[-2000:]
    _assert_agents_offered(run)
    assert "optimize" in run.init["slash_commands"]


def test_optimize_expands_with_the_real_snapshot_and_the_target(
    claude_bin, fake_api, home, installed_project
):
    run = run_claude(claude_bin, fake_api, installed_project, home, f"/optimize {TARGET}")
    _assert_optimize_expanded(run, installed_project)


def test_routing_hook_adds_context_for_a_slow_prompt_and_none_otherwise(
    claude_bin, fake_api, home, installed_project, tmp_path
):
    settings = json.loads((installed_project / ".claude" / "settings.json").read_text())
    commands = [
        h.get("command", "") for group in settings["hooks"]["UserPromptSubmit"] for h in group["hooks"]
    ]
    assert any("user-prompt-submit" in c for c in commands), f"install wrote no routing hook: {commands}"
    marker = tmp_path / "prompts-seen.txt"
    _add_marker_hook(installed_project, marker)

    slow = run_claude(claude_bin, fake_api, installed_project, home, SLOW_PROMPT)
    other = run_claude(claude_bin, fake_api, installed_project, home, UNRELATED_PROMPT)

    assert marker.read_text().splitlines() == [SLOW_PROMPT, UNRELATED_PROMPT], (
        "settings.json hooks did not run"
    )
    routed = [line for line in slow.hook_lines() if line.startswith(HOOK_CONTEXT_PREFIX)]
    assert any(agent in line for line in routed for agent in PACK_AGENTS), (
        f"no routing context naming a pack agent for {SLOW_PROMPT!r}; hook lines: {slow.hook_lines()}"
    )
    assert not [
        line for line in other.hook_lines() if "perfpack" in line or any(a in line for a in PACK_AGENTS)
    ], f"perfpack context added to an unrelated prompt: {other.hook_lines()}"


def test_plugin_route_offers_agents_and_expands_optimize(claude_bin, fake_api, home, tmp_path):
    repo = copy_repo(tmp_path / "perfpack-checkout")
    manifest = repo / ".claude-plugin" / "plugin.json"
    marketplace_file = repo / ".claude-plugin" / "marketplace.json"
    assert manifest.is_file() and marketplace_file.is_file(), (
        "the repo does not ship .claude-plugin/ manifests"
    )
    plugin = json.loads(manifest.read_text())["name"]
    marketplace = json.loads(marketplace_file.read_text())["name"]

    added = run_claude_cli(claude_bin, fake_api, home, "plugin", "marketplace", "add", str(repo))
    assert added.returncode == 0, added.stdout + added.stderr
    installed = run_claude_cli(claude_bin, fake_api, home, "plugin", "install", f"{plugin}@{marketplace}")
    assert installed.returncode == 0, installed.stdout + installed.stderr

    project = make_git_project(tmp_path / "shop")
    run = run_claude(claude_bin, fake_api, project, home, f"/{plugin}:optimize {TARGET}")
    # 2.1.332 also lists its own built-in plugins (path "builtin"); ours must be the only other one.
    assert [p["name"] for p in run.init["plugins"] if p.get("path") != "builtin"] == [plugin]
    assert f"{plugin}:optimize" in run.init["slash_commands"]
    _assert_agents_offered(run, prefix=f"{plugin}:")
    _assert_optimize_expanded(run, project)

    slow = run_claude(claude_bin, fake_api, project, home, SLOW_PROMPT)
    routed = [line for line in slow.hook_lines() if line.startswith(HOOK_CONTEXT_PREFIX)]
    assert any(agent in line for line in routed for agent in PACK_AGENTS), (
        f"the plugin's hooks.json gave no routing context for {SLOW_PROMPT!r}: {slow.hook_lines()}"
    )


@pytest.mark.parametrize("target", [".", ".claude-plugin/plugin.json"])
def test_plugin_validate_strict_passes_on_the_repository(claude_bin, fake_api, home, target):
    proc = run_claude_cli(
        claude_bin, fake_api, home, "plugin", "validate", "--strict", str(REPO_ROOT / target)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Validation passed" in proc.stdout
