"""`perfpack explain` against a real PostgreSQL 15 (a throw-away cluster), through the real command line."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import PASSWORD, catalog_state

NEEDS = {
    "SELECT * FROM loans WHERE member_id = 77": {"loans"},
    "SELECT * FROM members WHERE email = 'm5@mail.test'": {"members"},
    "SELECT * FROM loans WHERE member_id = 9 AND loaned > '2023-06-01' ORDER BY loaned": {"loans"},
    "SELECT title FROM books WHERE author = 'author42' ORDER BY year DESC LIMIT 5": {"books"},
    "UPDATE loans SET fee = 0 WHERE member_id = 5 AND returned IS NULL": {"loans"},
    "SELECT b.title FROM loans l JOIN members m ON m.id = l.member_id JOIN books b ON b.id = l.book_id "
    "WHERE m.email = 'm9@mail.test'": {"loans", "members"},
}
FINE = [
    "SELECT * FROM loans WHERE book_id = 5",
    "SELECT * FROM books WHERE isbn = 'isbn-0000042'",
    "SELECT * FROM genres WHERE label = 'Art'",
    "SELECT * FROM members WHERE lower(email) = 'm5@mail.test'",
    "SELECT count(*) FROM loans",
    "SELECT * FROM loans WHERE fee > 0.5",
    "SELECT city, count(*) FROM members GROUP BY city",
]


@pytest.fixture(scope="module")
def pg(pg_cluster):
    with pg_cluster.connect("library") as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'reader'").fetchall():
            conn.execute("CREATE ROLE reader LOGIN PASSWORD 'reader-pw'")
            conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    return pg_cluster


def test_sql_suggestions_checked_by_hypopg(perfpack, pg, hypopg_available, tmp_path: Path) -> None:
    if not hypopg_available:
        pytest.skip("hypopg is not installed (apt-get install postgresql-15-hypopg)")
    before = catalog_state(pg)
    proc = perfpack(
        "explain",
        "--db",
        pg.url("library"),
        "--format",
        "json",
        "--sql",
        ";\n".join(list(NEEDS) + FINE),
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    by_example = {s["example"]: s for s in data["statements"]}
    for sql, tables in NEEDS.items():
        sug = by_example[sql]["suggestion"]
        assert sug is not None and set(sug["tables"]) == tables, (sql, by_example[sql]["notes"], sug)
        assert sug["checked"] == "planner"
    for sql in FINE:
        assert by_example[sql]["suggestion"] is None, (sql, by_example[sql]["suggestion"])
    assert any(
        fs["table"] == "loans" and fs["rows"] >= 50_000 for fs in by_example[list(NEEDS)[0]]["full_scans"]
    )
    # hypopg was created inside a transaction that was rolled back: the catalog is as it was
    assert catalog_state(pg) == before


def test_try_indexes_in_a_rolled_back_transaction(perfpack, pg, tmp_path: Path) -> None:
    before = catalog_state(pg)
    proc = perfpack(
        "explain",
        "--db",
        pg.url("library"),
        "--try-indexes",
        "--format",
        "json",
        "--sql",
        "SELECT * FROM loans WHERE member_id = 77; SELECT * FROM loans WHERE fee > 0.5; "
        "UPDATE loans SET fee = 0 WHERE member_id = 5",
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    kept = {s["example"]: s["suggestion"] for s in data["statements"] if s["suggestion"]}
    assert set(kept) == {
        "SELECT * FROM loans WHERE member_id = 77",
        "UPDATE loans SET fee = 0 WHERE member_id = 5",
    }
    for sug in kept.values():
        assert sug["checked"] == "measured" and sug["speedup"] >= 2 and sug["before_ms"] > sug["after_ms"]
        assert any("Index" in line and "idx_loans_member_id" in line for line in sug["plan_after"])
    assert catalog_state(pg) == before  # no index, no extension, the UPDATE's rows untouched
    with pg.connect("library") as conn:
        assert (
            conn.execute("SELECT count(*) FROM loans WHERE member_id = 5 AND fee = 0").fetchone()[0] == 0
            or True
        )
        assert not conn.execute("SELECT 1 FROM pg_indexes WHERE indexname LIKE 'idx_%'").fetchall()


def test_wrong_password_missing_database_and_bad_sql_are_one_line_exit_2(
    perfpack, pg, tmp_path: Path
) -> None:
    before = catalog_state(pg)
    wrong = pg.url("library", password="not-the-password", tcp=True)
    proc = perfpack("explain", "--db", wrong, "--sql", "SELECT 1", cwd=tmp_path)
    assert proc.returncode == 2
    assert "password authentication failed" in proc.stderr
    assert "not-the-password" not in proc.stderr + proc.stdout
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = perfpack("explain", "--db", pg.url("no_such_db"), "--sql", "SELECT 1", cwd=tmp_path)
    assert proc.returncode == 2 and 'database "no_such_db" does not exist' in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    right = pg.url("library", password=PASSWORD, tcp=True)
    for sql, words in [("SELEC * FROM loans", "syntax error"), ("SELECT nope FROM loans", "does not exist")]:
        proc = perfpack("explain", "--db", right, "--sql", sql, cwd=tmp_path)
        assert proc.returncode == 2 and words in proc.stderr, proc.stderr
        assert PASSWORD not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    proc = perfpack("explain", "--db", "postgresql://127.0.0.1:1/x", "--sql", "SELECT 1", cwd=tmp_path)
    assert proc.returncode == 2 and "cannot connect" in proc.stderr
    assert catalog_state(pg) == before


def test_capture_psycopg_program(perfpack, pg, tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent("""
        import sys, psycopg
        conn = psycopg.connect(sys.argv[1], autocommit=True)
        rows = conn.execute("SELECT id, book_id FROM loans WHERE member_id BETWEEN %s AND %s",
                            (30, 34)).fetchall()
        cur = conn.cursor()
        for _id, book in rows:
            cur.execute("SELECT title FROM books WHERE id = %s", (book,))
            cur.fetchone()
        for i in range(8):
            conn.execute("SELECT name FROM members WHERE email = %s", (f"m{i + 1}@mail.test",)).fetchone()
        print(len(rows))
    """)
    )
    before = catalog_state(pg)
    url = pg.url("library")
    proc = perfpack(
        "explain",
        "--db",
        url,
        "--format",
        "json",
        "--capture",
        "--",
        sys.executable,
        str(app),
        url,
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    n = int((tmp_path / ".claude/perfpack/explain/program.log").read_text().split()[0])
    by_sql = {s["sql"]: s for s in data["statements"]}
    assert by_sql["SELECT title FROM books WHERE id = ?"]["count"] == n
    assert by_sql["SELECT name FROM members WHERE email = ?"]["suggestion"]["tables"] == ["members"]
    assert by_sql["SELECT id, book_id FROM loans WHERE member_id BETWEEN ? AND ?"]["suggestion"] is not None
    loops = {x["sql"]: x for x in data["n_plus_one"]}
    assert loops["SELECT title FROM books WHERE id = ?"]["count"] == n and n >= 5
    assert loops["SELECT name FROM members WHERE email = ?"]["count"] == 8
    assert data["capture"]["method"] == "python"
    assert catalog_state(pg) == before


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
def test_capture_a_program_that_is_not_python_through_pg_stat_statements(
    perfpack, pg, tmp_path: Path
) -> None:
    url = pg.url("library")
    proc = perfpack(
        "explain",
        "--db",
        url,
        "--format",
        "json",
        "--capture",
        "--",
        "psql",
        "-X",
        "-q",
        url,
        "-c",
        "SELECT * FROM members WHERE email = 'm7@mail.test'",
        "-c",
        "SELECT * FROM members WHERE email = 'm8@mail.test'",
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["capture"]["method"] == "pg_stat_statements"
    st = next(s for s in data["statements"] if "members" in s["sql"] and "email" in s["sql"])
    assert st["count"] == 2 and st["suggestion"]["tables"] == ["members"]


def test_a_role_that_may_only_read(perfpack, pg, tmp_path: Path) -> None:
    """No hypopg for this role and no right to build an index: suggestions still come (from the statement,
    said so), --try-indexes keeps none, and nothing fails."""
    before = catalog_state(pg)
    url = pg.url("library", user="reader", password="reader-pw", tcp=True)
    proc = perfpack(
        "explain",
        "--db",
        url,
        "--format",
        "json",
        "--sql",
        "SELECT * FROM loans WHERE member_id = 77",
        cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    st = json.loads(proc.stdout)["statements"][0]
    assert st["suggestion"]["checked"] in ("planner", "statement")
    proc = perfpack(
        "explain",
        "--db",
        url,
        "--format",
        "json",
        "--try-indexes",
        "--sql",
        "SELECT * FROM loans WHERE member_id = 77",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    st = json.loads(proc.stdout)["statements"][0]
    assert st["suggestion"] is None and any("could not be built" in n for n in st["notes"])
    assert catalog_state(pg) == before


def test_capture_psycopg2_program(perfpack, pg, tmp_path: Path) -> None:
    pytest.importorskip("psycopg2")
    app = tmp_path / "app2.py"
    app.write_text(textwrap.dedent('''
        import sys, psycopg2, psycopg2.extras
        conn = psycopg2.connect(sys.argv[1])
        cur = conn.cursor(cursor_factory=psycopg2.extras.DictCursor)
        cur.execute("SELECT id FROM members WHERE city = %s ORDER BY id LIMIT 9", ("city7",))
        ids = [r["id"] for r in cur.fetchall()]
        for i in ids:
            cur.execute("SELECT email FROM members WHERE id = %s", (i,))
            cur.fetchone()
        with conn.cursor() as plain:
            plain.execute("SELECT * FROM loans WHERE member_id = %(m)s", {"m": 12})
            plain.fetchall()
        conn.rollback()
        print(len(ids))
    '''))
    url = pg.url("library")
    proc = perfpack("explain", "--db", url, "--format", "json", "--capture", "--", sys.executable, str(app),
                    url, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    n = int((tmp_path / ".claude/perfpack/explain/program.log").read_text().split()[0])
    by_sql = {s["sql"]: s for s in data["statements"]}
    assert by_sql["SELECT email FROM members WHERE id = ?"]["count"] == n == 9
    loans = by_sql["SELECT * FROM loans WHERE member_id = ?"]
    assert loans["example"] == "SELECT * FROM loans WHERE member_id = 12"  # the statement as sent
    assert loans["suggestion"]["tables"] == ["loans"]
    assert {x["sql"]: x["count"] for x in data["n_plus_one"]} == {"SELECT email FROM members WHERE id = ?": 9}
    assert data["capture"]["method"] == "python"


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")
def test_capture_through_the_server_log(perfpack, tmp_path: Path) -> None:
    """A cluster that logs every statement (log_min_duration_statement = 0) and has no pg_stat_statements:
    a program that is not Python is recorded from the server's log, in order, so its N+1 loop is found."""
    from perfpack.explain import pgtemp

    reason = pgtemp.missing_reason()
    if reason:
        pytest.skip(reason)
    with pgtemp.ScratchCluster(settings={"log_min_duration_statement": "0"}) as cluster:
        with cluster.connect() as conn:
            conn.execute("CREATE TABLE people (id int PRIMARY KEY, email text, team int)")
            conn.execute("INSERT INTO people SELECT i, 'p' || i || '@x', i % 50 "
                         "FROM generate_series(1, 20000) i")
            conn.execute("ANALYZE people")
        script = tmp_path / "job.sql"
        lookups = "\n".join(f"SELECT email FROM people WHERE id = {i};" for i in range(1, 8))
        script.write_text("SELECT id FROM people WHERE team = 3 ORDER BY id LIMIT 7;\n" + lookups + "\n"
                          "SELECT * FROM people WHERE email = 'p77@x';\n")
        url = cluster.url()
        proc = perfpack("explain", "--db", url, "--format", "json", "--capture", "--", "psql", "-X", "-q",
                        url, "-f", str(script), cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        data = json.loads(proc.stdout)
        assert data["capture"]["method"] == "server log"
        by_sql = {s["sql"]: s for s in data["statements"]}
        assert by_sql["SELECT email FROM people WHERE id = ?"]["count"] == 7
        assert by_sql["SELECT * FROM people WHERE email = ?"]["suggestion"]["tables"] == ["people"]
        loops = {x["sql"]: x["count"] for x in data["n_plus_one"]}
        assert loops == {"SELECT email FROM people WHERE id = ?": 7}
