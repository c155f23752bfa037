"""Shared test helpers: run the real `perfpack` entry point in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = REPO_ROOT.parent / "shared" / "seeds"

# A test run started in the background by a non-interactive shell (`.ci/run &`, nohup) inherits SIGINT
# *ignored*, and so does every program it starts: Python then installs no KeyboardInterrupt handler and
# the Ctrl-C tests (bench compare --rev, profile) wait for a signal that never arrives. Handle SIGINT in
# this process instead: a handled signal is reset to the default at exec, an ignored one is not, so the
# programs under test start as they would from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def run_perfpack(*args: str, cwd: Path | str | None = None, input: str | bytes | None = None,
                 env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -m perfpack ARGS` as a user would, capturing text output."""
    full_env = {**os.environ, **(env or {})}
    data = input.encode() if isinstance(input, str) else input
    proc = subprocess.run([sys.executable, "-m", "perfpack", *args], cwd=cwd, input=data,
                          capture_output=True, env=full_env, timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode,
                                       proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


@pytest.fixture
def perfpack():
    return run_perfpack
