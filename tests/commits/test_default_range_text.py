"""`perfpack commits check` without RANGE on the default branch itself checks nothing (main..HEAD is
empty): it says so and how to name a range, instead of a bare "no problems found: 0 commit(s)"."""

from __future__ import annotations

import subprocess

from tests.conftest import run_perfpack


def _git(repo, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_nothing_checked_on_the_default_branch_says_why(tmp_path):
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "-c", "user.name=u", "-c", "user.email=u@e", "commit", "-q", "--allow-empty",
         "-m", "start")
    proc = run_perfpack("commits", "check", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "0 commit(s) checked in main..HEAD" in proc.stdout
    assert "HEAD is on main" in proc.stdout and "perfpack commits check HEAD~5..HEAD" in proc.stdout
    named = run_perfpack("commits", "check", "HEAD", cwd=tmp_path)  # a named range: no such hint
    assert "HEAD is on" not in named.stdout and "1 commit(s) checked" in named.stdout
