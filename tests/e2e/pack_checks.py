"""Checks of the pack as the real CLI shows it, shared by the e2e test modules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from e2e_harness import REPO_ROOT, ClaudeRun

from perfpack.frontmatter import read_frontmatter
from tests.pack.packcheck import split_tools  # the pack tests' reading of a `tools` line

PACK_AGENTS = ("performance-optimization-specialist", "performance-engineer", "performance-engineering-lead")
TARGET = "checkout latency"  # a user's words; the product never hard-codes it


def expected_agents() -> dict[str, dict]:
    agents = {}
    for path in sorted((REPO_ROOT / "agents").glob("*.md")):
        data = read_frontmatter(path).data or {}
        agents[data.get("name", path.stem)] = data
    assert set(PACK_AGENTS) <= set(agents), (
        f"the pack's agents/ lacks some of {PACK_AGENTS}: {sorted(agents)}"
    )
    return agents


def perfpack(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfpack", *args],
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_agents_offered(run: ClaudeRun, prefix: str = "") -> None:
    offered = run.agent_lines()
    for name, data in expected_agents().items():
        shown = prefix + name
        assert shown in run.init["agents"], f"{shown} missing from init agents {run.init['agents']}"
        assert shown in offered, f"{shown} not offered to the model; offered: {sorted(offered)}"
        line = offered[shown]
        description = " ".join(str(data["description"]).split())
        assert " ".join(line.split()).startswith(description), f"{shown}: model sees {line!r}"
        tools_shown = line.rsplit("(Tools: ", 1)[-1].removesuffix(")")
        expected = split_tools(str(data.get("tools", ""))) or ["*"]  # omitted tools = every tool
        seen = split_tools(tools_shown)
        # `memory:` makes the CLI append Read/Write/Edit (CL 2.1.33); nothing else may differ.
        allowed_extra = {"Read", "Write", "Edit"} if data.get("memory") else set()
        assert seen[: len(expected)] == expected and set(seen[len(expected) :]) <= allowed_extra, (
            f"{shown}: model sees tools {tools_shown!r}, the file says {expected}"
        )


def assert_optimize_expanded(run: ClaudeRun, project: Path) -> None:
    assert run.returncode == 0, run.stderr[-2000:]
    user_text = "\n".join(run.texts("user"))  # the expanded command body is the user's turn
    assert TARGET in user_text, user_text[:3000]
    assert "!`" not in user_text, "a `!` line reached the model unexpanded"
    snapshot = perfpack("snapshot", "--format", "json", cwd=project)
    assert snapshot.returncode == 0, snapshot.stderr
    facts = json.loads(snapshot.stdout)
    heading = perfpack("snapshot", cwd=project).stdout.splitlines()[0]
    assert heading.lstrip("#").strip() in user_text, f"snapshot heading {heading!r} not in the request"
    cpus = facts["host"]["cpus"]
    assert re.search(rf"CPUs?\b[^\n]*\b{cpus}\b", user_text), f"host CPU count {cpus} not in the request"
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, check=False, capture_output=True, text=True, timeout=30
    ).stdout.strip()
    assert head[:7] in user_text, f"the project's commit {head[:7]} is not in the expanded snapshot"
    assert "<command-args>" + TARGET + "</command-args>" in user_text
