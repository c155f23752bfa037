"""Hostile input for `perfpack commits` and its PreToolUse hook (issue 13: items 2, 6, 12, 14)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile import make_hostile

REPO = Path(__file__).resolve().parents[2]
HOOK = Path(os.environ.get("PERFPACK_TEST_HOOK") or REPO / "src" / "perfpack" / "hook.py")
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}


def _git(path: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})


def _repo(path: Path) -> Path:
    path.mkdir(parents=True)
    _git(path, "init", "-q")
    (path / "a.txt").write_text("a\n")
    _git(path, "add", "a.txt")
    _git(path, "commit", "-q", "-m", "Start\n\nSigned-off-by: t <t@t>")
    return path


def _hook(command: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    payload = json.dumps({"session_id": "s", "transcript_path": "/dev/null", "cwd": str(cwd),
                          "hook_event_name": "PreToolUse", "tool_name": "Bash",
                          "tool_input": {"command": command}})
    run_env = {k: v for k, v in os.environ.items() if k != "CLAUDE_PROJECT_DIR"}
    return subprocess.run([sys.executable, "-S", str(HOOK), "pre-tool-use"], input=payload.encode(),
                          capture_output=True, timeout=30, env={**run_env, **(env or {})})


def _evil_repo(path: Path, marker: Path) -> Path:
    """A repository whose config runs a command whenever git looks at its work tree."""
    _repo(path)
    for n in range(7):
        (path / f"f{n}.txt").write_text("x\n")
    _git(path, "add", "-A")
    hook = path.parent / f"{path.name}-fsmonitor.sh"  # outside the work tree: staging stays as it is
    hook.write_text(f"#!/bin/sh\ntouch {marker}\necho 0\n")
    hook.chmod(0o755)
    _git(path, "config", "core.fsmonitor", str(hook))
    _git(path, "config", "diff.external", str(hook))
    assert not marker.exists()
    return path


@pytest.mark.parametrize("shape", ["git -C {evil} commit -m x", "cd {evil} && git commit -am x",
                                   "git --git-dir={evil}/.git --work-tree={evil} commit -m x",
                                   "cd {evil}; git add -A && git commit -m x"])
def test_the_hook_never_runs_git_in_a_repository_the_command_names(tmp_path, shape):
    project = _repo(tmp_path / "project")
    marker = tmp_path / "pwned"
    evil = _evil_repo(tmp_path / "evil", marker)
    proc = _hook(shape.format(evil=evil), project)
    assert proc.returncode == 0
    assert not marker.exists(), "the hook ran git in the other repository: its config executed"


def test_a_nested_repository_inside_the_project_is_not_the_project(tmp_path):
    project = _repo(tmp_path / "project")
    marker = tmp_path / "pwned"
    _evil_repo(project / "vendor" / "evil", marker)
    proc = _hook("cd vendor/evil && git commit -m 'x'", project)
    assert proc.returncode == 0 and not marker.exists()


def test_the_session_project_is_still_checked_with_fsmonitor_off(tmp_path):
    marker = tmp_path / "pwned"
    project = _evil_repo(tmp_path / "project", marker)  # the user's own repo, with an fsmonitor set
    proc = _hook("git commit -m 'Add seven files'", project)
    assert proc.returncode == 0 and b"PC101" in proc.stdout  # 7 files > 5: still checked
    assert not marker.exists(), "fsmonitor/diff.external ran although the hook disables them"


@pytest.mark.parametrize("command", [
    "git commit -m x\n" + "".join(f"echo a <<E{i} b\n" for i in range(5000)),  # unterminated headers
    "".join(f"cat <<'EOF{i}' > f{i}\n" + "text line\n" * 30 + f"EOF{i}\n" for i in range(400))
    + "git commit -m x",
    "git commit -m \"$(cat <<'EOF'\n" + "cout << x << y;\n" * 8000 + "EOF\n)\"",
    "git commit -m '" + "<<A " * 30000 + "'",
])
def test_many_heredocs_are_read_in_linear_time(tmp_path, command):
    # The quadratic reader took 17 s on 41 KB; linear takes milliseconds.
    _assert_hook_cpu_bounded(tmp_path, command)


@pytest.mark.parametrize("command", [
    "git " * 10_000 + "xcommit",  # the 'git ... commit' test regex was quadratic: 51 s on 40 KB
    "git commit -m '" + "a" * 900_000 + "'",  # shlex builds a token by concatenation: minutes on 900 KB
    'git commit -m "' + "a" * 300_000 + '"',
    "git commit -m " + "$(" * 100_000,
    "git commit -m x " + "a " * 200_000,
])
def test_long_commands_are_read_in_bounded_time(tmp_path, command):
    _assert_hook_cpu_bounded(tmp_path, command)


def _assert_hook_cpu_bounded(tmp_path, command: str) -> None:
    """The PreToolUse hook reads `command` (exit 0) in under 1.5 s of CPU, in process: a loaded machine does
    not make it flaky."""
    from perfpack.commits.hook import handle

    project = _repo(tmp_path / "project")
    payload = json.dumps({"cwd": str(project), "tool_name": "Bash", "tool_input": {"command": command}})
    started = time.process_time()
    code, _ = handle(["pre-tool-use"], payload.encode())
    elapsed = time.process_time() - started
    assert code == 0
    assert elapsed < 1.5, f"{len(command):,} bytes took {elapsed:.2f} s of CPU"


def test_commit_msg_on_a_fifo_does_not_hang(tmp_path):
    project = _repo(tmp_path / "project")
    fifo = make_hostile(tmp_path / "MSG", "fifo")
    proc = subprocess.run([sys.executable, "-m", "perfpack", "commits", "msg", str(fifo)], cwd=project,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "FIFO" in proc.stderr and "Traceback" not in proc.stderr


def test_text_output_cannot_forge_lines_or_escape_the_terminal(tmp_path):
    project = _repo(tmp_path / "project")
    names = [f"\x1b]0;pwned\x07f{n}\n::error file=x::forged.txt" for n in range(6)]
    for name in names:
        (project / name).write_text("x\n")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "Add files\n\nSigned-off-by: t <t@t>")
    for fmt in ("text", "github"):
        argv = [sys.executable, "-m", "perfpack", "commits", "check", "HEAD^!", "--format", fmt]
        proc = subprocess.run(argv, cwd=project, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 1, proc.stderr
        assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
        assert not any(line.startswith("::error file=x") for line in proc.stdout.splitlines())


def test_the_hook_never_blocks_on_a_fifo_message_file_or_untracked_link(tmp_path):
    project = _repo(tmp_path / "project")
    make_hostile(project / "MSG", "fifo")
    make_hostile(project / "zero", "device")
    started = time.monotonic()
    proc = _hook("git add -A && git commit -F MSG", project)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr
    assert time.monotonic() - started < 10
