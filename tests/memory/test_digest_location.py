"""Where the MEMORY.md digest lands: the folder Claude Code reads for the agent's real name, on both routes.

An installed agent reads `.claude/agent-memory/<agent>/`, the plugin's `perfpack:<agent>` reads
`.claude/agent-memory/perfpack-<agent>/` (seen on 2.1.197 and 2.1.332; the e2e tests prove it end to end).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_perfpack

PE = "performance-engineer"
INSIGHT = '{"area": "db", "insight": "index orders.user_id", "impact": "high", "confidence": 0.9}'


def _insight(project: Path, agent: str = PE) -> dict:
    out = run_perfpack("memory", "insight", agent, INSIGHT, cwd=project)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_no_folder_yet_the_installed_name_gets_it(project: Path) -> None:
    result = _insight(project)
    memory = project / ".claude" / "agent-memory"
    assert result["digest"] == str(memory / PE / "MEMORY.md")
    assert sorted(p.name for p in memory.iterdir()) == [PE]


def test_the_plugin_folder_claude_code_made_gets_it(project: Path) -> None:
    plugin_folder = project / ".claude" / "agent-memory" / f"perfpack-{PE}"
    plugin_folder.mkdir(parents=True)  # the CLI makes it when it first starts perfpack:performance-engineer
    result = _insight(project)
    assert result["digest"] == str(plugin_folder / "MEMORY.md")
    assert "index orders.user_id" in (plugin_folder / "MEMORY.md").read_text()
    assert not (project / ".claude" / "agent-memory" / PE).exists()


def test_both_routes_in_one_project_get_the_same_digest(project: Path) -> None:
    memory = project / ".claude" / "agent-memory"
    (memory / PE).mkdir(parents=True)
    (memory / f"perfpack-{PE}").mkdir()
    result = _insight(project)
    assert result["digest"] == str(memory / PE / "MEMORY.md")
    assert (memory / PE / "MEMORY.md").read_text() == (memory / f"perfpack-{PE}" / "MEMORY.md").read_text()
