"""The pack in the real Claude Code (every supported version): installed into a project, and as a plugin.

Every assertion reads what the CLI really sent to the (stand-in) model, or its stream-json init event.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from e2e_harness import (
    HOOK_CONTEXT_PREFIX,
    REPO_ROOT,
    copy_repo,
    make_git_project,
    run_claude,
    run_claude_cli,
    version_key,
)
from pack_checks import PACK_AGENTS, TARGET, assert_agents_offered, assert_optimize_expanded, perfpack

pytestmark = pytest.mark.e2e

SLOW_PROMPT = "the dashboard is slow"
UNRELATED_PROMPT = "write a haiku about autumn"


def _install(project: Path) -> None:
    proc = perfpack("install", "--project", str(project), cwd=project)
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


@pytest.fixture
def installed_project(tmp_path: Path) -> Path:
    project = make_git_project(tmp_path / "shop")
    _install(project)
    return project


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
    # No perfpack on PATH: the installed copy's SessionStart hook puts its libexec/perfpack there (the
    # install keeps the launcher executable), and that runs the plugin's own source for the snapshot.
    run = run_claude(claude_bin, fake_api, project, home, f"/{plugin}:optimize {TARGET}", venv_on_path=False)
    # 2.1.332 also lists its own built-in plugins (path "builtin"); ours must be the only other one.
    assert [p["name"] for p in run.init["plugins"] if p.get("path") != "builtin"] == [plugin]
    assert f"{plugin}:optimize" in run.init["slash_commands"]
    assert_agents_offered(run, prefix=f"{plugin}:")
    assert_optimize_expanded(run, project)

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


# plugin folder -> its files besides an empty bin/: `claude plugin validate` 2.1.337 warns on the first 3
BIN_SHAPES = {
    "file": {"bin/tool": "#!/bin/sh\n"},
    "dotfile": {"bin/.gitkeep": ""},
    "nested": {"bin/sub/tool": "#!/bin/sh\n"},
    "libexec": {"libexec/tool": "#!/bin/sh\n"},
    "empty-bin": {},
}
BIN_WARNING = "claude.ai refuses a plugin with files in its bin/ folder"


def test_plugin_bin_warning_agrees_with_claude_plugin_validate(claude_bin, cli_version, fake_api, home,
                                                               tmp_path):
    """PP411 (plugin-bin-files) fires exactly where this CLI's `claude plugin validate` warns about bin/."""
    for name, files in BIN_SHAPES.items():
        root = tmp_path / name
        (root / ".claude-plugin").mkdir(parents=True)
        (root / ".claude-plugin" / "plugin.json").write_text('{"name": "p", "author": {"name": "a"}}')
        (root / "bin").mkdir()
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        said = run_claude_cli(claude_bin, fake_api, home, "plugin", "validate", str(root))
        assert said.returncode == 0, said.stdout + said.stderr
        cli_warns = BIN_WARNING in said.stdout + said.stderr
        ours = perfpack("validate", "--cli-version", cli_version, "--format", "json", str(root), cwd=tmp_path)
        assert ours.returncode in (0, 1), ours.stdout + ours.stderr
        rules = [f["rule"] for f in json.loads(ours.stdout)["findings"]]
        assert ("PP411" in rules) == cli_warns, f"{cli_version} {name}: the CLI said {said.stdout[-1500:]!r}"
        seen = name in ("file", "dotfile", "nested") and version_key(cli_version) >= (2, 1, 337)
        assert cli_warns == seen, f"{cli_version} {name}: the CLI's bin/ warning changed"
