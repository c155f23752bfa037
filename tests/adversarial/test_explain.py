"""Hostile input to `perfpack explain`: one clear line, exit 2, never a hang or a traceback."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile import make_hostile


def _db(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "t.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT)")
    conn.executemany("INSERT INTO t (a, b) VALUES (?, ?)", [(i % 997, f"b{i}") for i in range(5000)])
    conn.commit()
    conn.close()
    return path


def _sum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _explain(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "perfpack", "explain", *args], cwd=cwd, capture_output=True,
                          text=True, errors="replace", timeout=timeout)


def _one_line_exit_2(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("perfpack: error: ")
    assert len(proc.stderr.strip().splitlines()) <= 2  # the line, and at most a hint
    assert proc.stdout == ""


def test_fifo_as_sql_file_never_blocks(tmp_path: Path) -> None:
    db = _db(tmp_path / "d")
    fifo = make_hostile(tmp_path / "q.sql", "fifo")
    proc = _explain("--db", str(db), "--sql-file", str(fifo), cwd=tmp_path, timeout=20)
    _one_line_exit_2(proc)
    assert "FIFO" in proc.stderr


def test_fifo_device_and_folder_as_the_database(tmp_path: Path) -> None:
    fifo = make_hostile(tmp_path / "db.fifo", "fifo")
    folder = make_hostile(tmp_path / "db.folder", "folder")
    for target, words in [(fifo, "not a regular file"), (Path("/dev/zero"), "not a regular file"),
                          (tmp_path, "is a folder"), (folder, "is a folder")]:
        proc = _explain("--db", str(target), "--sql", "SELECT 1", cwd=tmp_path, timeout=20)
        _one_line_exit_2(proc)
        assert words in proc.stderr


def test_not_a_database_and_a_truncated_one(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    _one_line_exit_2(_explain("--db", str(junk), "--sql", "SELECT 1", cwd=tmp_path))
    db = _db(tmp_path / "d")
    cut = tmp_path / "cut.db"
    cut.write_bytes(db.read_bytes()[:5000])
    before = _sum(cut)
    proc = _explain("--db", str(cut), "--sql", "SELECT * FROM t WHERE a = 5", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert _sum(cut) == before


def test_non_utf8_and_huge_sql_files(tmp_path: Path) -> None:
    db = _db(tmp_path / "d")
    bad = tmp_path / "bad.sql"
    bad.write_bytes(b"SELECT * FROM t WHERE b = '\xff\xfe'")
    proc = _explain("--db", str(db), "--sql-file", str(bad), cwd=tmp_path)
    _one_line_exit_2(proc)
    assert "UTF-8" in proc.stderr
    bad = make_hostile(tmp_path / "bad2.sql", "not utf-8", b"SELECT * FROM t WHERE b = 'x';\nSELECT 1\n")
    proc = _explain("--db", str(db), "--sql-file", str(bad), cwd=tmp_path)
    _one_line_exit_2(proc)
    assert "UTF-8" in proc.stderr
    huge = tmp_path / "huge.sql"
    with open(huge, "wb") as handle:
        handle.write(b"SELECT 1;" * (1024 * 1024 + 1))  # real statements, just over the cap
    for path in (huge, make_hostile(tmp_path / "sparse.sql", "huge")):
        proc = _explain("--db", str(db), "--sql-file", str(path), cwd=tmp_path)
        _one_line_exit_2(proc)
        assert "too large" in proc.stderr


def test_many_statements_and_a_very_long_one(tmp_path: Path) -> None:
    db = _db(tmp_path / "d")
    many = tmp_path / "many.sql"
    many.write_text(";\n".join(f"SELECT * FROM t WHERE a = {i}" for i in range(5000)))
    proc = _explain("--db", str(db), "--sql-file", str(many), cwd=tmp_path)
    _one_line_exit_2(proc)
    assert "too many statements" in proc.stderr
    long_sql = "SELECT * FROM t WHERE a IN (" + ", ".join(str(i) for i in range(50_000)) + ")"
    big = tmp_path / "long.sql"
    big.write_text(long_sql)
    proc = _explain("--db", str(db), "--sql-file", str(big), "--format", "json", cwd=tmp_path, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr


def test_symlinks(tmp_path: Path) -> None:
    db = _db(tmp_path / "d")
    before = _sum(db)
    link = tmp_path / "link.db"
    link.symlink_to(db)
    proc = _explain("--db", str(link), "--try-indexes", "--sql", "SELECT * FROM t WHERE b = 'b5'",
                    cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # a link to a database is that database, read-only
    assert _sum(db) == before and sorted(p.name for p in db.parent.iterdir()) == ["t.db"]
    sql_link = tmp_path / "q.sql"
    sql_link.symlink_to(make_hostile(tmp_path / "f", "fifo"))
    _one_line_exit_2(_explain("--db", str(db), "--sql-file", str(sql_link), cwd=tmp_path, timeout=20))
    dangling = make_hostile(tmp_path / "gone.db", "dangling symlink", target=tmp_path / "nowhere.db")
    _one_line_exit_2(_explain("--db", str(dangling), "--sql", "SELECT 1", cwd=tmp_path))
    assert not (tmp_path / "nowhere.db").exists()


def test_terminal_escapes_in_sql_and_names_are_shown_escaped(tmp_path: Path) -> None:
    db = _db(tmp_path / "d")
    evil = "SELECT * FROM t WHERE b = '\x1b]0;owned\x07\x1b[2J'"
    proc = _explain("--db", str(db), "--sql", evil, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    proc = _explain("--db", str(db), "--sql", "SELECT * FROM \x1b[31mred", cwd=tmp_path)
    _one_line_exit_2(proc)
    assert "\x1b" not in proc.stderr


def test_statements_that_write_are_never_run(tmp_path: Path) -> None:
    db = _db(tmp_path / "d")
    before = _sum(db)
    for sql in ["DROP TABLE t", "DELETE FROM t", "INSERT INTO t (a) VALUES (1)", "UPDATE t SET a = 0",
                "VACUUM", "PRAGMA journal_mode = WAL", "ATTACH DATABASE 'x.db' AS x", "CREATE TABLE u (a)"]:
        proc = _explain("--db", str(db), "--try-indexes", "--sql", sql, cwd=tmp_path)
        assert proc.returncode in (0, 1, 2) and "Traceback" not in proc.stderr, (sql, proc.stderr)
    assert _sum(db) == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["t.db"]
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("args", [
    ["--sql", "SELECT 1", "--sql-file", "x.sql"],
    ["--capture"],
    ["--sql", "SELECT 1", "--", "true"],
    ["--sql", ""],
    ["--sql", "  ;  -- only a comment"],
])
def test_usage_errors(tmp_path: Path, args: list[str]) -> None:
    db = _db(tmp_path / "d")
    _one_line_exit_2(_explain("--db", str(db), *args, cwd=tmp_path))


def test_postgres_url_garbage(tmp_path: Path) -> None:
    for url in ["postgresql://", "postgresql://u:p@[::1", "postgresql://u:secret@127.0.0.1:0/x",
                "postgres://host:notaport/db"]:
        proc = _explain("--db", url, "--sql", "SELECT 1", cwd=tmp_path, timeout=60)
        assert proc.returncode == 2, (url, proc.stderr)
        assert "Traceback" not in proc.stderr and "secret" not in proc.stderr
