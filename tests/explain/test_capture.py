"""`--capture -- CMD`: real Python programs against a real SQLite file; N+1 loops counted right."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from .conftest import digest

PROGRAM = """
import sqlite3, sys, threading
db = sqlite3.connect(sys.argv[1])

def report(first):                                      # an N+1 inside a "request"
    loans = db.execute("SELECT id, book_id FROM loans WHERE member_id BETWEEN ? AND ?",
                       (first, first + 4)).fetchall()
    for _id, book in loans:
        db.execute("SELECT title FROM books WHERE id = ?", (book,)).fetchone()   # LINE_BOOKS
    return len(loans)

n = report(10)
m = report(20)
print(n, m)
# a loop over a list, with a second statement in the body; the lookup by email needs an index
for i in range(25):
    cur = db.cursor()
    cur.execute("SELECT name FROM members WHERE email = 'm%d@mail.test'" % (i + 1))   # LINE_EMAIL
    row = cur.fetchone()
    db.execute("SELECT count(*) FROM genres").fetchone()
# not N+1: each returns many rows; and a batched IN query
for year in (1990, 1991, 1992, 1993, 1994, 1995):
    list(db.execute("SELECT * FROM books WHERE year = ?", (year,)))
db.execute("SELECT * FROM books WHERE id IN (1, 2, 3, 4)").fetchall()
# executemany and executescript
db.execute("CREATE TEMP TABLE t (a)")
db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(50)])
db.executescript("SELECT 1; SELECT 2;")
# another thread, its own connection
def worker():
    c = sqlite3.connect(sys.argv[1])
    for k in range(7):
        c.execute("SELECT name FROM members WHERE id = ?", (k + 1,)).fetchone()
t = threading.Thread(target=worker); t.start(); t.join()
"""


def _write(tmp_path: Path, source: str, name: str = "app.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def _line(source: str, marker: str) -> int:
    return next(i for i, line in enumerate(textwrap.dedent(source).splitlines(), 1) if marker in line)


def test_capture_counts_shapes_and_finds_the_n_plus_one_loops(
    perfpack, sqlite_db: Path, tmp_path: Path
) -> None:
    app = _write(tmp_path, PROGRAM)
    before = digest(sqlite_db)
    proc = perfpack(
        "explain",
        "--db",
        str(sqlite_db),
        "--format",
        "json",
        "--capture",
        "--",
        sys.executable,
        str(app),
        str(sqlite_db),
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    by_sql = {s["sql"]: s for s in data["statements"]}
    loans = by_sql["SELECT id, book_id FROM loans WHERE member_id BETWEEN ? AND ?"]
    assert loans["count"] == 2 and loans["total_ms"] > 0
    assert loans["suggestion"] is not None and loans["suggestion"]["tables"] == ["loans"]
    books = by_sql["SELECT title FROM books WHERE id = ?"]
    # the program's own answer says how many book lookups each request made
    program_log = (tmp_path / ".claude/perfpack/explain/program.log").read_text().split()
    n, m = int(program_log[0]), int(program_log[1])
    assert books["count"] == n + m
    assert by_sql["SELECT name FROM members WHERE email = ?"]["count"] == 25
    assert by_sql["SELECT name FROM members WHERE email = ?"]["suggestion"]["tables"] == ["members"]
    assert by_sql["INSERT INTO t VALUES (?)"]["count"] == 50
    assert by_sql["SELECT * FROM books WHERE year = ?"]["count"] == 6
    assert "SELECT ?" in by_sql and by_sql["SELECT ?"]["count"] == 2
    loops = {(x["sql"], x["site"]): x for x in data["n_plus_one"]}
    book_loop = loops[("SELECT title FROM books WHERE id = ?", f"app.py:{_line(PROGRAM, 'LINE_BOOKS')}")]
    assert n >= 5 and m >= 5 and book_loop["count"] == n + m and book_loop["loops"] == 2
    assert book_loop["sizes"] == [n, m]
    email_loop = loops[("SELECT name FROM members WHERE email = ?", f"app.py:{_line(PROGRAM, 'LINE_EMAIL')}")]
    assert email_loop["count"] == 25
    thread_loop = [x for x in data["n_plus_one"] if x["sql"] == "SELECT name FROM members WHERE id = ?"]
    assert thread_loop and thread_loop[0]["count"] == 7
    assert not any("year" in x["sql"] or "genres" in x["sql"] for x in data["n_plus_one"])
    assert data["capture"]["method"] == "python"
    assert digest(sqlite_db) == before


def test_other_databases_and_memory_are_left_out(perfpack, sqlite_db: Path, tmp_path: Path) -> None:
    app = _write(
        tmp_path,
        """
        import sqlite3, sys
        other = sqlite3.connect(sys.argv[2])
        other.execute("CREATE TABLE IF NOT EXISTS x (a)")
        sqlite3.connect(":memory:").execute("SELECT 42").fetchall()
        sqlite3.connect(sys.argv[1]).execute("SELECT * FROM genres").fetchall()
    """,
    )
    proc = perfpack(
        "explain",
        "--db",
        str(sqlite_db),
        "--format",
        "json",
        "--capture",
        "--",
        sys.executable,
        str(app),
        str(sqlite_db),
        str(tmp_path / "other.db"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [s["sql"] for s in data["statements"]] == ["SELECT * FROM genres"]
    assert data["capture"]["elsewhere"] >= 2


def test_a_crashing_program_is_one_line_exit_2(perfpack, sqlite_db: Path, tmp_path: Path) -> None:
    app = _write(
        tmp_path,
        """
        import sqlite3, sys
        sqlite3.connect(sys.argv[1]).execute("SELECT * FROM loans WHERE member_id = 3").fetchall()
        raise SystemExit("boom: the program failed")
    """,
    )
    before = digest(sqlite_db)
    proc = perfpack(
        "explain",
        "--db",
        str(sqlite_db),
        "--capture",
        "--",
        sys.executable,
        str(app),
        str(sqlite_db),
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "exited with status 1" in lines[0] and "boom" in lines[0]
    assert digest(sqlite_db) == before


def test_a_killed_program_and_a_missing_program(perfpack, sqlite_db: Path, tmp_path: Path) -> None:
    app = _write(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    proc = perfpack(
        "explain", "--db", str(sqlite_db), "--capture", "--", sys.executable, str(app), cwd=tmp_path
    )
    assert proc.returncode == 2 and "killed by SIGSEGV" in proc.stderr
    proc = perfpack("explain", "--db", str(sqlite_db), "--capture", "--", "no-such-program-xyz", cwd=tmp_path)
    assert proc.returncode == 2 and "program not found" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_program_that_hangs_is_stopped(perfpack, sqlite_db: Path, tmp_path: Path) -> None:
    app = _write(
        tmp_path,
        "import time, subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\ntime.sleep(60)\n",
    )
    proc = perfpack(
        "explain",
        "--db",
        str(sqlite_db),
        "--timeout",
        "1",
        "--capture",
        "--",
        sys.executable,
        str(app),
        cwd=tmp_path,
        timeout=30,
    )
    assert proc.returncode == 2 and "did not finish within 1 s" in proc.stderr


def test_the_programs_own_sitecustomize_still_runs(perfpack, sqlite_db: Path, tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "sitecustomize.py").write_text("import builtins\nbuiltins.OWN_SITECUSTOMIZE = 'yes'\n")
    app = _write(
        tmp_path,
        """
        import sqlite3, sys
        print(OWN_SITECUSTOMIZE)
        sqlite3.connect(sys.argv[1]).execute("SELECT * FROM genres").fetchall()
    """,
    )
    proc = perfpack(
        "explain",
        "--db",
        str(sqlite_db),
        "--show-output",
        "--format",
        "json",
        "--capture",
        "--",
        sys.executable,
        str(app),
        str(sqlite_db),
        cwd=tmp_path,
        env={"PYTHONPATH": str(own)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "yes" in proc.stderr  # --show-output: the program's output went to stderr, not into the report
    assert json.loads(proc.stdout)["statements"][0]["count"] == 1


def test_a_program_with_no_statements(perfpack, sqlite_db: Path, tmp_path: Path) -> None:
    proc = perfpack("explain", "--db", str(sqlite_db), "--capture", "--", "true", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "no statement to this database was recorded" in proc.stdout


def test_forked_children_are_recorded_once(perfpack, sqlite_db: Path, tmp_path: Path) -> None:
    app = _write(
        tmp_path,
        """
        import os, sqlite3, sys
        db = sqlite3.connect(sys.argv[1])
        db.execute("SELECT * FROM genres WHERE code = 'art'").fetchall()
        pid = os.fork()
        if pid == 0:
            c = sqlite3.connect(sys.argv[1])
            for i in range(3):
                c.execute("SELECT * FROM genres WHERE code = 'law'").fetchall()
            os._exit(0) if False else sys.exit(0)
        os.waitpid(pid, 0)
    """,
    )
    proc = perfpack(
        "explain",
        "--db",
        str(sqlite_db),
        "--format",
        "json",
        "--capture",
        "--",
        sys.executable,
        str(app),
        str(sqlite_db),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [s["count"] for s in data["statements"] if s["sql"] == "SELECT * FROM genres WHERE code = ?"] == [
        4
    ]


def test_text_keeps_an_n_plus_one_next_to_the_missing_indexes_within_2_kb(
    perfpack, sqlite_db: Path, tmp_path: Path
) -> None:
    """More findings than 2 KB holds: the text still shows the N+1 loop (not only the costliest indexes),
    and says where the rest are."""
    from .test_sqlite import FINE, NEEDS

    slow = ("UPDATE", "SELECT count(*) FROM members m")  # a write, and a correlated scan of every member
    statements = [s for s in [*NEEDS, *FINE] if not s.startswith(slow)]
    app = _write(
        tmp_path,
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1])\n"
        f"for sql in {statements!r}:\n"
        "    db.execute(sql).fetchall()\n"
        "for book in range(1, 40):\n"
        "    db.execute('SELECT title FROM books WHERE id = ?', (book,)).fetchone()\n",
    )
    proc = perfpack(
        "explain", "--db", str(sqlite_db), "--capture", "--", sys.executable, str(app), str(sqlite_db),
        cwd=tmp_path, timeout=600,
    )
    assert proc.returncode == 1, proc.stderr
    assert len(proc.stdout.encode()) <= 2048
    assert "more finding(s) in the details file" in proc.stdout, proc.stdout
    assert proc.stdout.count("PX101(missing-index)") >= 2, proc.stdout
    loop = "PX102(n-plus-one): `SELECT title FROM books WHERE id = ?` ran 39 times"
    assert loop in proc.stdout, proc.stdout
