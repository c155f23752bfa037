"""Fixtures for the end-to-end tests; the machinery lives in e2e_harness.py and fake_api.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_harness import ensure_claude_code, selected_versions
from fake_api import FakeAnthropicAPI


@pytest.fixture(scope="session", params=selected_versions())
def cli_version(request: pytest.FixtureRequest) -> str:
    """Each supported Claude Code version (the oldest and the pinned newest): every e2e test runs on both
    ($PERFPACK_E2E_CLI=2.1.197,2.1.340 runs them on other versions instead, e2e_harness.selected_versions)."""
    return str(request.param)


@pytest.fixture(scope="session")
def claude_bin(cli_version: str) -> Path:
    """The real `claude` of `cli_version`, installed from npm into the cache once (skips without Node)."""
    return ensure_claude_code(cli_version)


@pytest.fixture
def fake_api() -> Iterator[FakeAnthropicAPI]:
    with FakeAnthropicAPI() as api:
        yield api


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh HOME per test: no user settings, plugins or credentials leak in."""
    path = tmp_path / "home"
    path.mkdir()
    return path
