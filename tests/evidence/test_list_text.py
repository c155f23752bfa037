"""`perfpack evidence list` as people read it: figures in the units perfpack printed them in (not
`median=0.03588520949779195s` or `samples=53samples`), and a --kind with no records says so instead of
calling a full ledger empty."""

from __future__ import annotations

import re
import sys

from tests.conftest import run_perfpack


def test_list_shows_readable_figures_and_names_the_kinds_it_has(tmp_path):
    (tmp_path / ".git").mkdir()
    bench = run_perfpack("bench", "--runs", "3", "--name", "nap", "--", sys.executable, "-c", "pass",
                         cwd=tmp_path)
    assert bench.returncode == 0, bench.stderr
    listed = run_perfpack("evidence", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    line = listed.stdout.strip().splitlines()[-1]
    assert re.search(r"median=\d+(\.\d+)? (ms|s|µs)\b", line), line
    assert not re.search(r"\d\.\d{5,}", line), line  # no raw float of 16 digits
    other = run_perfpack("evidence", "list", "--kind", "load", cwd=tmp_path)
    assert other.returncode == 0
    assert "no measurement of kind 'load'" in other.stdout and "bench" in other.stdout
    assert "empty" not in other.stdout
