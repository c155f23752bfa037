"""Fixtures for the commit-check tests: real git repositories in temp dirs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from commits_helpers import Repo, git_env


@pytest.fixture
def make_repo(tmp_path):
    counter = [0]

    def make(name: str | None = None, branch: str = "main") -> Repo:
        counter[0] += 1
        home = tmp_path / f"home{counter[0]}"
        home.mkdir()
        path = tmp_path / (name or f"repo{counter[0]}")
        path.mkdir()
        repo = Repo(path, git_env(home))
        repo.git("init", "-q", "-b", branch)
        return repo

    return make


@pytest.fixture
def repo(make_repo) -> Repo:
    return make_repo()
