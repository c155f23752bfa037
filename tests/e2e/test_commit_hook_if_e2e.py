"""Which Bash calls start the PreToolUse commit hook in the real Claude Code CLI (every supported version).

The hook is registered with the `if` filter `Bash(git* commit*)` (hooks/hooks.json; `perfpack install` writes
the same). What the CLI does with that rule, measured on 2.1.197 and 2.1.332 (docs/commits.md): it splits a
compound command (`&&`, `;`, `||`) and matches each part, skipping `VAR=value` prefixes; `*` spans spaces;
a command it cannot read statically (`$(...)`, backticks, `${VAR}`, loops, `{ ...; }`) starts every
`if`-filtered hook once. One `if` holds one rule (`A || B`, `A, B` and `A|B` match nothing), and two entries
whose rules both match start two processes, so one rule is registered: `git commit`, `git -C DIR commit`,
`git -c k=v commit`, `cd DIR && git commit` and `git add ... && git commit` each start one hook process;
ordinary Bash calls, `git status`, `git -C DIR log` and a `git diff` of a path named `commits` start none.

A scripted stand-in model runs each Bash command in turn; a shim in front of the interpreter the hook starts
logs every start, and the starts before each model request tell which command started how many.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_harness import VENV_BIN, copy_repo, make_git_project, path_without_perfpack, run_claude
from fake_api import Block, FakeAnthropicAPI, text_block, tool_use_block

pytestmark = pytest.mark.e2e

ID = "-c user.name=e2e -c user.email=e2e@example.invalid"
COMMITS = [  # each must start the hook exactly once
    f"git {ID} commit --allow-empty -q -m 'plain form'",
    f"git -C src {ID} commit --allow-empty -q -m 'git -C form'",
    f"cd src && git {ID} commit --allow-empty -q -m 'cd form'",
    f"git add -A && git {ID} commit --allow-empty -q -m 'add and commit'",
    f"GIT_AUTHOR_NAME=e2e git {ID} commit --allow-empty -q -m 'env prefix'",
    f"git {ID} commit --allow-empty -q -m \"$(cat <<'EOF'\nheredoc form\nEOF\n)\"",
]
ORDINARY = [  # each must start no process
    "ls",
    "git status --short",
    "git -C src log -1 --format=%s",
    "git diff --stat -- src/commits",
    "cd src && ls",
    "ls | head -1",
    "python3 -c 'print(1)'",
    "echo 'git commit'",
]
COMMANDS = COMMITS + ORDINARY


def _tool_results(body: dict[str, Any]) -> int:
    return sum(
        1
        for message in body.get("messages") or []
        for block in (message.get("content") if isinstance(message.get("content"), list) else [])
        if isinstance(block, dict) and block.get("type") == "tool_result"
    )


class Script:
    """Runs COMMANDS one Bash call per turn and notes the hook starts seen when each next request arrives."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.starts_at: dict[int, int] = {}  # tool results so far -> pre-tool-use starts logged by then

    def starts(self) -> int:
        if not self.log.exists():
            return 0
        return sum("hook.py" in line and "pre-tool-use" in line for line in self.log.read_text().splitlines())

    def __call__(self, body: dict[str, Any]) -> list[Block] | None:
        if not any(isinstance(t, dict) and t.get("name") == "Bash" for t in body.get("tools") or []):
            return None  # a side request (title, quota): the default text
        done = _tool_results(body)
        self.starts_at.setdefault(done, self.starts())
        if done < len(COMMANDS):
            return [tool_use_block("Bash", {"command": COMMANDS[done], "description": f"step {done}"})]
        return [text_block("All steps ran.")]

    def per_command(self) -> dict[str, int]:
        return {command: self.starts_at[i + 1] - self.starts_at[i] for i, command in enumerate(COMMANDS)}


def _shim(path: Path, real: str, log: Path) -> None:
    path.write_text(f"#!/bin/sh\necho \"$*\" >> '{log}'\nexec '{real}' \"$@\"\n")
    path.chmod(0o755)


def _project(base: Path) -> Path:
    project = make_git_project(base / "app")
    (project / "src").mkdir()
    (project / "src" / "shop.py").write_text("PRICE = 1\n")
    return project


@pytest.mark.parametrize("route", ["project", "plugin"])
def test_commit_hook_starts_once_per_commit_form_and_never_for_other_bash_calls(
    claude_bin: Path, cli_version: str, tmp_path: Path, route: str
) -> None:
    project = _project(tmp_path)
    log = tmp_path / "hook-starts.log"
    extra: list[str] = []
    env: dict[str, str] = {}
    if route == "project":
        done = subprocess.run([os.path.join(VENV_BIN, "perfpack"), "install", "--project", str(project)],
                              check=False, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        local_python = project / ".claude" / "perfpack" / "local" / "python"
        real = os.path.realpath(local_python)
        local_python.unlink()
        _shim(local_python, real, log)
    else:  # hooks.json starts `python3 -S .../hook.py EVENT`: a shim first on PATH counts those starts
        extra = ["--plugin-dir", str(copy_repo(tmp_path / "perfpack-plugin"))]
        shims = tmp_path / "shims"
        shims.mkdir()
        bare = path_without_perfpack()
        _shim(shims / "python3", shutil.which("python3", path=bare) or sys.executable, log)
        env = {"PATH": f"{shims}{os.pathsep}{bare}"}
    script = Script(log)
    with FakeAnthropicAPI(script=script) as api:
        run = run_claude(claude_bin, api, project, tmp_path / "home", "run the steps",
                         "--dangerously-skip-permissions", *extra, venv_on_path=False, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(script.starts_at) == len(COMMANDS) + 1, f"the session stopped early: {script.starts_at}"
    assert any("user-prompt-submit" in line for line in log.read_text().splitlines()), "the shim saw no hook"
    per_command = script.per_command()
    assert {c: n for c, n in per_command.items() if c in COMMITS and n != 1} == {}, per_command
    assert {c: n for c, n in per_command.items() if c in ORDINARY and n != 0} == {}, per_command
    commits = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=project, check=True,
                             capture_output=True, text=True).stdout.strip()
    assert int(commits) >= len(COMMITS) + 1, "not every commit form really committed"
