"""Statement shapes: literals and parameters become ?, nothing else changes."""

from __future__ import annotations

import pytest

from perfpack.explain.shape import first_word, shape, split_statements


@pytest.mark.parametrize(
    "sql, expected",
    [
        ("SELECT * FROM t WHERE id = 42", "SELECT * FROM t WHERE id = ?"),
        (
            "select a from t where x in (1, 2,3) and y = -5 and z='it''s'",
            "select a from t where x in (?) and y = ? and z=?",
        ),
        (
            "SELECT * FROM t WHERE a = $1 AND b = %s AND c = :name AND d = ? AND e = %(x)s",
            "SELECT * FROM t WHERE a = ? AND b = ? AND c = ? AND d = ? AND e = ?",
        ),
        ("SELECT x-1, -2 FROM t LIMIT 10 OFFSET 5", "SELECT x-?, ? FROM t LIMIT ? OFFSET ?"),
        ("SELECT 1.5e3, 0x1F, .5", "SELECT ?, ?, ?"),
        ("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", "INSERT INTO t (a, b) VALUES (?, ?)"),
        (
            'SELECT "weird ? name", `b` FROM t -- id = 5\n WHERE /* 7 */ c = 8',
            'SELECT "weird ? name", `b` FROM t WHERE c = ?',
        ),
        ("select E'a\\'' || $$dollar ' quoted$$ || $tag$x$tag$", "select ? || ? || ?"),
        ("SELECT  *\n\tFROM   t ;", "SELECT * FROM t"),
        ("SELECT x::int FROM t WHERE d > '2024-01-01'::date", "SELECT x::int FROM t WHERE d > ?::date"),
        ("SELECT * FROM t WHERE id IN ( ? , ? ,? )", "SELECT * FROM t WHERE id IN (?)"),
        # a VALUES row keeps its columns (an executemany of four columns is not a one-column insert)
        ("INSERT INTO items VALUES (?, ?, ?, ?)", "INSERT INTO items VALUES (?, ?, ?, ?)"),
        ("insert into t values(?,?) , (?,?)", "insert into t values(?, ?)"),
    ],
)
def test_shape(sql: str, expected: str) -> None:
    assert shape(sql) == expected


def test_same_shape_for_different_values() -> None:
    assert shape("SELECT name FROM c WHERE id = 1") == shape("SELECT name FROM c WHERE id = 99999")
    assert shape("SELECT * FROM t WHERE k IN (1)") == shape("SELECT * FROM t WHERE k IN (1, 2, 3, 4)")
    assert shape("SELECT * FROM t WHERE a = 1") != shape("SELECT * FROM t WHERE b = 1")


def test_unterminated_things_do_not_hang_or_raise() -> None:
    for text in [
        "SELECT 'open",
        'SELECT "open',
        "/* open",
        "SELECT $$ open",
        "SELECT `x",
        "x" * 100_000 + "'",
    ]:
        assert isinstance(shape(text), str)


def test_split_statements_respects_quotes_and_comments() -> None:
    script = "SELECT ';' FROM t; -- a ; comment\nUPDATE t SET a = 1;;  /* ; */ DELETE FROM t WHERE b = 'x;y'"
    assert split_statements(script) == [
        "SELECT ';' FROM t",
        "-- a ; comment\nUPDATE t SET a = 1",
        "/* ; */ DELETE FROM t WHERE b = 'x;y'",
    ]
    assert split_statements(" ; -- nothing\n ;") == []


def test_first_word() -> None:
    assert first_word("  -- c\n /* d */ with x as (select 1) select * from x") == "WITH"
    assert first_word("(select 1)") == ""
    assert first_word("") == ""
