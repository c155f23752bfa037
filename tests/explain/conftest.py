"""Fixtures for explain: a library database in SQLite, and the same in a throw-away PostgreSQL cluster."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from perfpack.explain import pgtemp

from . import library

PASSWORD = "s3cret-for-tests"


@pytest.fixture(scope="session")
def library_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pristine SQLite file; tests copy it (see `sqlite_db`) so none can change what others see."""
    return library.build_sqlite(tmp_path_factory.mktemp("library") / "library.db")


@pytest.fixture
def sqlite_db(library_db: Path, tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "library.db"  # alone in its folder: tests check nothing appears beside it
    shutil.copyfile(library_db, path)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def pg_cluster():
    """One throw-away cluster for the session: unix socket, plus 127.0.0.1 with a password; stopped at the
    end even when tests fail."""
    reason = pgtemp.missing_reason()
    if reason:
        pytest.skip(reason)
    with pgtemp.ScratchCluster(tcp=True, password=PASSWORD, preload=("pg_stat_statements",)) as cluster:
        with cluster.connect() as conn:
            conn.execute("CREATE DATABASE library")
        with cluster.connect("library") as conn:
            library.build_postgres(conn)
        yield cluster


@pytest.fixture(scope="session")
def hypopg_available(pg_cluster) -> bool:
    with pg_cluster.connect() as conn:
        return bool(conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'").fetchall())


def catalog_state(cluster, dbname: str = "library") -> list[tuple]:
    """Everything a careless tool could leave behind: relations, indexes, extensions, settings, prepared
    transactions."""
    with cluster.connect(dbname) as conn:
        out = conn.execute(
            "SELECT 'rel', relname, relkind::text FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "UNION ALL SELECT 'ext', extname, extversion FROM pg_extension "
            "UNION ALL SELECT 'cfg', coalesce(setdatabase::text, ''), array_to_string(setconfig, ',') "
            "FROM pg_db_role_setting "
            "UNION ALL SELECT 'rows', 'loans', count(*)::text FROM loans "
            "UNION ALL SELECT 'rows', 'members', count(*)::text FROM members ORDER BY 1, 2, 3"
        ).fetchall()
    return out
