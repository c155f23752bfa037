"""The repository as a Claude Code plugin: manifests in the shape the real CLI accepts, hooks that run."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from perfpack.install.core import HOOK_PYTHON_FLAGS

ROOT = Path(__file__).resolve().parents[2]


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
    # SessionStart is the plugin's PATH hook (a shell script; tests/install/test_plugin_launcher.py).
    assert set(hooks) == {"SessionStart", "UserPromptSubmit", "PreToolUse", "SubagentStop", "Stop"}
    assert hooks["PreToolUse"][0]["matcher"] == "Bash"
    for event, arg in (("UserPromptSubmit", "user-prompt-submit"), ("PreToolUse", "pre-tool-use"),
                       ("SubagentStop", "subagent-stop"), ("Stop", "stop")):
        command = hooks[event][0]["hooks"][0]["command"]
        expanded = command.replace("${CLAUDE_PLUGIN_ROOT}", str(ROOT))
        argv = shlex.split(expanded)
        flags = len(HOOK_PYTHON_FLAGS)
        assert argv[:1 + flags] == ["python3", *HOOK_PYTHON_FLAGS]
        assert Path(argv[1 + flags]) == ROOT / "src" / "perfpack" / "hook.py"
        assert argv[2 + flags] == arg
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
