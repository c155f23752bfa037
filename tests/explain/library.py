"""A lending-library database for explain's tests (deliberately not the benchmark's schema).

members 20k, books 20k, loans 60k rows; genres is small (12 rows). Indexed already: loans(book_id),
books(isbn). The same data is built in SQLite and in PostgreSQL.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

MEMBERS = 20_000
BOOKS = 20_000
LOANS = 60_000

SCHEMA = """
CREATE TABLE members (id INTEGER PRIMARY KEY, name TEXT, city TEXT, email TEXT, joined TEXT);
CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT, author TEXT, isbn TEXT, year INTEGER, genre TEXT);
CREATE TABLE loans (id INTEGER PRIMARY KEY, member_id INTEGER, book_id INTEGER, loaned TEXT, returned TEXT,
                    fee REAL);
CREATE TABLE genres (code TEXT PRIMARY KEY, label TEXT);
CREATE INDEX loans_book ON loans (book_id);
CREATE INDEX books_isbn ON books (isbn);
"""

GENRES = [
    "crime",
    "poetry",
    "travel",
    "history",
    "science",
    "fantasy",
    "cooking",
    "drama",
    "sport",
    "art",
    "music",
    "law",
]


def rows(seed: int = 7) -> dict[str, list[tuple[Any, ...]]]:
    rnd = random.Random(seed)
    cities = [f"city{i}" for i in range(300)]
    members = [
        (i, f"member {i}", rnd.choice(cities), f"m{i}@mail.test", f"20{10 + i % 14}-{1 + i % 12:02d}-01")
        for i in range(1, MEMBERS + 1)
    ]
    books = [
        (
            i,
            f"title {rnd.randrange(10**6)}",
            f"author{rnd.randrange(5000)}",
            f"isbn-{i:07d}",
            1900 + rnd.randrange(124),
            rnd.choice(GENRES),
        )
        for i in range(1, BOOKS + 1)
    ]
    loans = []
    for i in range(1, LOANS + 1):
        day = f"2023-{1 + rnd.randrange(12):02d}-{1 + rnd.randrange(28):02d}"
        loans.append(
            (
                i,
                rnd.randrange(1, MEMBERS + 1),
                rnd.randrange(1, BOOKS + 1),
                day,
                None if rnd.random() < 0.02 else day,
                round(rnd.random() * 5, 2),
            )
        )
    genres = [(g, g.title()) for g in GENRES]
    return {"members": members, "books": books, "loans": loans, "genres": genres}


def build_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    for table, data in rows().items():
        marks = ", ".join("?" * len(data[0]))
        conn.executemany(f"INSERT INTO {table} VALUES ({marks})", data)
    conn.commit()
    conn.close()
    return path


def build_postgres(conn: Any) -> None:
    """`conn`: an autocommit psycopg connection to an empty database."""
    conn.execute(SCHEMA.replace("REAL", "DOUBLE PRECISION"))
    for table, data in rows().items():
        with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
    conn.execute("ANALYZE")
