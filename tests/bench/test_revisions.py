"""`perfpack compare --rev A --rev B -- CMD` on a real repository with a planted slowdown; the temporary
worktrees are gone afterwards, also after Ctrl-C and SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.slow  # real git worktrees and interleaved runs: ~30 s


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Three commits: fast, the same again (a docs change), then a planted 2x slowdown in app/work.sh."""
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    # A post-checkout hook that would leave a mark: worktrees of perfpack must not run the repo's hooks.
    hook = repo / ".git/hooks/post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path}/hook-ran\n")
    hook.chmod(0o755)
    (repo / "app/work.sh").write_text("sleep 0.03\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "fast")
    (repo / "README").write_text("docs\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "docs only")
    (repo / "app/work.sh").write_text("sleep 0.06\n")
    _git(repo, "commit", "-qam", "make work slower")
    return repo


def _env(tmp_path: Path) -> dict[str, str]:
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(scratch)}


def _worktrees(repo: Path) -> list[str]:
    return [
        line
        for line in _git(repo, "worktree", "list", "--porcelain").splitlines()
        if line.startswith("worktree ")
    ]


def test_a_planted_slowdown_between_two_commits_is_found(repo, tmp_path):
    env = _env(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "perfpack",
        "compare",
        "--rev",
        "HEAD~1",
        "--rev",
        "HEAD",
        "--runs",
        "15",
        "--name",
        "work",
        "--format",
        "json",
        "--",
        "sh",
        "app/work.sh",
    ]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["mode"] == "revisions" and data["verdict"]["verdict"] == "slower", data["verdict"]
    assert 1.3 < data["verdict"]["ratio"] < 2.5
    assert (
        data["revisions"]["a"]["subject"] == "docs only"
        and data["revisions"]["b"]["subject"] == "make work slower"
    )
    assert data["before"]["commit"] == _git(repo, "rev-parse", "HEAD~1").strip()
    assert len(_worktrees(repo)) == 1 and list((tmp_path / "tmp").iterdir()) == []
    assert not (tmp_path / "hook-ran").exists()
    same = subprocess.run(
        [*cmd[:5], "HEAD~2", "--rev", "HEAD~1", *cmd[8:]],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["verdict"]["verdict"] in ("same", "inconclusive")
    report = subprocess.run(
        [sys.executable, "-m", "perfpack", "report"], cwd=repo, capture_output=True, text=True, env=env
    ).stdout
    assert "(revisions)" in report and "work" in report


def test_bad_revisions_are_one_line_errors(repo, tmp_path):
    env = _env(tmp_path)
    base = [sys.executable, "-m", "perfpack", "compare", "--runs", "3"]
    for args, needle in (
        (["--rev", "nope", "--rev", "HEAD"], "unknown revision 'nope'"),
        (["--rev", "HEAD"], "exactly two revisions"),
        (["--rev", "--upload-pack=x", "--rev", "HEAD"], "invalid revision"),
    ):
        proc = subprocess.run([*base, *args, "--", "true"], cwd=repo, capture_output=True, text=True, env=env)
        assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    outside = subprocess.run(
        [*base, "--rev", "A", "--rev", "B", "--", "true"],
        cwd=tmp_path / "tmp",
        capture_output=True,
        text=True,
        env=env,
    )
    assert outside.returncode == 2 and "not inside a git repository" in outside.stderr
    failing = subprocess.run(
        [*base, "--rev", "HEAD~1", "--rev", "HEAD", "--setup", "echo broken >&2; exit 4", "--", "true"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
    )
    assert (
        failing.returncode == 2 and "--setup exited with 4" in failing.stderr and "| broken" in failing.stderr
    )
    assert len(_worktrees(repo)) == 1 and list((tmp_path / "tmp").iterdir()) == []


def test_an_untracked_input_missing_from_the_checkouts_gets_a_hint_that_says_so(repo, tmp_path):
    """A git-ignored data file given by relative path is not in a revision's fresh checkout: the hint says
    where the command runs, not "--ignore-failure" (which would only measure the failure)."""
    env = _env(tmp_path)
    (repo / ".gitignore").write_text("data.txt\n")
    (repo / "data.txt").write_text("rows\n")
    command = [sys.executable, "-m", "perfpack", "compare", "--runs", "3", "--rev", "HEAD~1", "--rev", "HEAD",
               "--", "cat", "data.txt"]
    proc = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "fresh checkout of HEAD~1" in proc.stderr and "absolute path" in proc.stderr, proc.stderr
    assert "--ignore-failure" not in proc.stderr
    assert "--runs 3 is under the 5 pairs a verdict needs" in proc.stderr  # said before the runs
    assert len(_worktrees(repo)) == 1


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_worktrees_and_commands_are_cleaned_up_when_interrupted(repo, tmp_path, signum):
    env = _env(tmp_path)
    (repo / "slow.sh").write_text("sleep 30\n")
    _git(repo, "add", "slow.sh")
    _git(repo, "commit", "-qm", "slow")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perfpack",
            "compare",
            "--rev",
            "HEAD~1",
            "--rev",
            "HEAD",
            "--runs",
            "3",
            "--warmup",
            "0",
            "--",
            "sh",
            "-c",
            "sleep 30",
        ],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        children: list[psutil.Process] = []
        while time.monotonic() < deadline:
            children = [c for c in psutil.Process(proc.pid).children(recursive=True) if "sleep" in c.name()]
            if len(_worktrees(repo)) == 3 and children:
                break
            time.sleep(0.1)
        assert len(_worktrees(repo)) == 3 and children, "the comparison never started"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if signum == signal.SIGTERM:
        assert proc.returncode == -signal.SIGTERM, (proc.returncode, err)  # still ends by the signal
    else:
        assert proc.returncode == 130, (proc.returncode, err)  # ExitCode.INTERRUPTED
    assert "Traceback" not in err
    assert len(_worktrees(repo)) == 1, _worktrees(repo)
    assert list((tmp_path / "tmp").iterdir()) == []
    time.sleep(0.2)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
