"""ruff and mypy over the whole repository, as pyproject.toml configures them (versions pinned in the test
extra): any finding fails the suite, so CI (.ci/run runs it) enforces both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)


def _version(tool: str) -> str:
    return _run(tool, "--version").stdout.strip()


def test_ruff_finds_nothing():
    proc = _run("ruff", "check", "--output-format", "concise", ".")
    assert proc.returncode == 0, f"{_version('ruff')}:\n{proc.stdout[-6000:]}{proc.stderr[-2000:]}"


@pytest.mark.slow
def test_mypy_finds_nothing():
    proc = _run("mypy")  # the files and options come from [tool.mypy]
    assert proc.returncode == 0, f"{_version('mypy')}:\n{proc.stdout[-6000:]}{proc.stderr[-2000:]}"
