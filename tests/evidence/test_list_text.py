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


ONE_SHAPE = """\
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for n in range(5):
    db.execute("SELECT count(*) FROM t WHERE v = ?", (n,)).fetchall()
"""


def test_list_says_a_captured_total_once_and_labels_the_shapes(tmp_path):
    # corpus7: `total=874 ms, total=874 ms` for explain --capture (the all-statements total and the one
    # shape's, unlabelled and identical)
    import sqlite3

    (tmp_path / ".git").mkdir()
    db = sqlite3.connect(tmp_path / "t.db")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(i, i % 50) for i in range(2000)])
    db.commit()
    db.close()
    (tmp_path / "one.py").write_text(ONE_SHAPE)
    (tmp_path / "two.py").write_text(ONE_SHAPE + 'db.execute("SELECT max(id) FROM t").fetchall()\n')
    for program in ("one.py", "two.py"):
        run = run_perfpack("explain", "--db", "t.db", "--capture", "--", sys.executable, program, "t.db",
                           cwd=tmp_path)
        assert run.returncode in (0, 1), run.stdout + run.stderr
    listed = run_perfpack("evidence", "list", "--kind", "explain", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    one, two = listed.stdout.strip().splitlines()
    assert one.count("total=") == 1 and re.search(r"total=[\d.]+ (ms|µs) \(5 runs, one shape\)$", one), one
    assert re.search(r"total=[\d.]+ (ms|µs) \(6 runs\) \| shapes: [\d.]+ (ms|µs) x5, [\d.]+ (ms|µs) x1$",
                     two), two
