"""The repository as a Claude Code plugin: manifests in the shape the real CLI accepts, hooks that run."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLAUDE = next(
    (
        c
        for c in (
            os.environ.get("PERFPACK_CLAUDE_BIN"),
            "/tmp/cc197/node_modules/.bin/claude",
            shutil.which("claude"),
        )
        if c and Path(c).is_file()
    ),
    None,
)


def load(rel: str) -> dict:
    return json.loads((ROOT / rel).read_text(encoding="utf-8"))


def test_plugin_json() -> None:
    plugin = load(".claude-plugin/plugin.json")
    assert plugin["name"] == "perfpack"
    assert isinstance(plugin["author"], dict) and plugin["author"]["name"]
    for key in ("version", "description", "repository", "license", "keywords"):
        assert plugin.get(key), key
    # hooks/hooks.json loads by itself; naming it again is a "Duplicate hooks file" failure.
    assert "hooks" not in plugin


def test_marketplace_json() -> None:
    market = load(".claude-plugin/marketplace.json")
    assert market["owner"]["name"] and market["name"] == "perfpack-marketplace"
    assert [p["name"] for p in market["plugins"]] == ["perfpack"]
    assert market["plugins"][0]["source"] == "./"


def test_plugin_hooks_run_the_real_entry_point() -> None:
    hooks = load("hooks/hooks.json")["hooks"]
    assert set(hooks) == {"UserPromptSubmit", "PreToolUse"}
    assert hooks["PreToolUse"][0]["matcher"] == "Bash"
    for event, arg in (("UserPromptSubmit", "user-prompt-submit"), ("PreToolUse", "pre-tool-use")):
        command = hooks[event][0]["hooks"][0]["command"]
        expanded = command.replace("${CLAUDE_PLUGIN_ROOT}", str(ROOT))
        argv = shlex.split(expanded)
        assert argv[0] == "python3" and Path(argv[1]) == ROOT / "src" / "perfpack" / "hook.py"
        assert argv[2] == arg
        payload = json.dumps(
            {
                "hook_event_name": event,
                "prompt": "hello",
                "cwd": str(ROOT),
                "tool_name": "Bash",
                "tool_input": {"command": "ls"},
            }
        )
        # Run as Claude Code would, but with this interpreter in place of the `python3` on PATH.
        done = subprocess.run(
            [sys.executable, *argv[1:]],
            input=payload,
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "CLAUDE_PLUGIN_ROOT": str(ROOT)},
        )
        assert done.returncode == 0, done.stderr


@pytest.mark.skipif(CLAUDE is None, reason="the Claude Code CLI is not installed (set PERFPACK_CLAUDE_BIN)")
@pytest.mark.parametrize("target", [".", ".claude-plugin/plugin.json"])
def test_real_cli_validates_strict(target: str) -> None:
    done = subprocess.run(
        [CLAUDE, "plugin", "validate", "--strict", str(ROOT / target)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation passed" in done.stdout
