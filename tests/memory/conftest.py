"""Fixtures for memory tests: a fresh project with a real memory database path."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / ".claude").mkdir(parents=True)
    monkeypatch.delenv("PERFPACK_MEMORY_DB", raising=False)
    monkeypatch.delenv("PERFPACK_MEMORY_NO_FTS", raising=False)
    monkeypatch.delenv("PERFPACK_AGENT_MEMORY_DIR", raising=False)
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(root))
    return root


@pytest.fixture
def db(project: Path) -> Path:
    return project / ".claude" / "memory" / "memory.db"
