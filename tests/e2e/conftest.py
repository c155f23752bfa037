"""Fixtures for the end-to-end tests; the machinery lives in e2e_harness.py and fake_api.py."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from e2e_harness import ensure_claude_code
from fake_api import FakeAnthropicAPI


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    """The pinned real `claude`, installed from npm into the cache once per session (skips without Node)."""
    return ensure_claude_code()


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
