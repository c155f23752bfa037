"""What a statement asks of each table, and the candidate indexes built from it."""

from __future__ import annotations

import pytest

from perfpack.explain.sqlinfo import SqlError, analyse, candidates

SCHEMA = {
    "members": {"id", "name", "city", "email", "joined"},
    "books": {"id", "title", "author", "isbn", "year", "genre"},
    "loans": {"id", "member_id", "book_id", "loaned", "returned", "fee"},
}


def cols(table: str) -> set[str]:
    return SCHEMA.get(table.rpartition(".")[2].lower(), set())


def uses(sql: str, engine: str = "sqlite"):
    return {u.alias: u for u in analyse(sql, engine, cols).uses}


def labels(sql: str, alias: str, engine: str = "sqlite") -> list[str]:
    return [c.label() for c in candidates(uses(sql, engine)[alias], engine, lambda c: c == "id")]


def test_equality_then_range_then_order() -> None:
    sql = "SELECT * FROM loans WHERE member_id = 5 AND loaned >= '2023-05-01' ORDER BY loaned DESC LIMIT 3"
    use = uses(sql)["loans"]
    assert (
        use.eq == ["member_id"] and use.range == ["loaned"] and use.order == [("loaned", True)] and use.limit
    )
    assert labels(sql, "loans")[0] == "loans(member_id, loaned)"


def test_two_equalities_make_a_composite() -> None:
    sql = "SELECT * FROM books WHERE genre = 'art' AND year = 1999"
    assert labels(sql, "books")[0] == "books(genre, year)"


def test_join_columns_and_aliases() -> None:
    sql = (
        "SELECT m.name, b.title FROM loans l JOIN members m ON m.id = l.member_id "
        "JOIN books b ON b.id = l.book_id WHERE m.city = 'city3'"
    )
    found = uses(sql)
    assert found["l"].join == ["member_id", "book_id"]
    assert found["m"].eq == ["city"] and found["m"].join == ["id"]
    assert "members(city)" in labels(sql, "m")


def test_correlated_subquery_column_is_a_constant_inside() -> None:
    sql = (
        "SELECT * FROM members m WHERE EXISTS (SELECT 1 FROM loans l WHERE l.member_id = m.id AND l.fee > 4)"
    )
    found = uses(sql)
    assert found["l"].eq == ["member_id"] and found["l"].range == ["fee"]
    assert labels(sql, "l")[0] == "loans(member_id, fee)"


@pytest.mark.parametrize(
    "where",
    [
        "lower(email) = 'x'",
        "length(name) * 2 > 3",
        "name LIKE '%son'",
        "city <> 'x'",
        "NOT (city = 'x')",
        "substr(email, 1, 2) = 'ab'",
        "city = 'a' OR name = 'b'",
        "coalesce(joined, '') = ''",
    ],
)
def test_expressions_no_index_can_serve(where: str) -> None:
    use = uses(f"SELECT * FROM members WHERE {where}")["members"]
    assert not use.searchable() and use.opaque
    assert labels(f"SELECT * FROM members WHERE {where}", "members") == []


def test_prefix_like_gets_the_index_each_engine_can_use() -> None:
    sql = "SELECT * FROM members WHERE email LIKE 'm12%'"
    assert labels(sql, "members") == ["members(email COLLATE NOCASE)"]
    assert labels(sql, "members", "postgresql") == ["members(email)", "members(email text_pattern_ops)"]


def test_in_list_or_of_equalities_and_is_null_are_equality() -> None:
    assert uses("SELECT * FROM loans WHERE returned IS NULL")["loans"].eq == ["returned"]
    assert uses("SELECT * FROM loans WHERE fee IN (1, 2)")["loans"].eq == ["fee"]
    assert uses("SELECT * FROM loans WHERE (fee = 1 OR fee = 2)")["loans"].eq == ["fee"]


def test_update_and_delete_are_timed_as_the_select_that_finds_their_rows() -> None:
    info = analyse("UPDATE loans SET fee = 0 WHERE member_id = 3", "sqlite", cols)
    assert info.kind == "update" and info.timing_sql == "SELECT * FROM loans WHERE member_id = 3"
    info = analyse("DELETE FROM loans WHERE loaned < '2023-02-01'", "sqlite", cols)
    assert info.kind == "delete" and info.uses[0].range == ["loaned"]
    info = analyse("INSERT INTO loans (member_id) VALUES (1)", "sqlite", cols)
    assert info.kind == "insert" and info.timing_sql is None


def test_postgres_folds_bare_names() -> None:
    found = uses("SELECT * FROM Members WHERE City = 'x'", "postgresql")
    assert found["members"].eq == ["city"]


def test_unparseable_sql_is_an_error() -> None:
    with pytest.raises(SqlError):
        analyse("SELECT FROM WHERE (", "sqlite", cols)
