"""`perfpack route --compile` without --agents compiles the pack's triggers. A user who edited the
installed copy (.claude/agents/perfpack.toml) is told so, and how to compile theirs."""

from __future__ import annotations

import shutil

from perfpack.resources import pack_root
from tests.conftest import run_perfpack


def test_compile_says_when_the_projects_edited_triggers_were_not_used(tmp_path):
    (tmp_path / ".git").mkdir()
    agents = tmp_path / ".claude" / "agents"
    agents.mkdir(parents=True)
    shutil.copyfile(pack_root() / "agents" / "perfpack.toml", agents / "perfpack.toml")
    same = run_perfpack("route", "--compile", "--out", "r.json", cwd=tmp_path)
    assert same.returncode == 0 and "note:" not in same.stdout, same.stdout + same.stderr
    with (agents / "perfpack.toml").open("a") as f:
        f.write("\n# my own trigger edits\n")
    edited = run_perfpack("route", "--compile", "--out", "r.json", cwd=tmp_path)
    assert edited.returncode == 0
    assert "differs" in edited.stdout and "--agents .claude/agents" in edited.stdout
