"""The memory write spells paths as strings: they agree with pathlib's.

What the write imports is checked by tests/unit/test_startup_contract.py."""

from __future__ import annotations

import os
from pathlib import Path

from perfpack.fsutil import atomic_write_text
from perfpack.memory import AgentMemoryManager
from perfpack.memory.api import resolve_db
from perfpack.memory.database import default_db_path
from perfpack.memory.store import MemoryStore
from perfpack.project import find_project_root, find_project_root_str


def test_public_paths_keep_their_types(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PERFPACK_MEMORY_DB", raising=False)
    assert default_db_path(tmp_path) == tmp_path / ".claude" / "memory" / "memory.db"
    assert resolve_db(str(tmp_path / "a.db")) == tmp_path / "a.db"
    with AgentMemoryManager(tmp_path / "b.db", digest=False) as manager:
        assert manager.db_path == tmp_path / "b.db"
        assert isinstance(manager.db_path, Path)
        assert manager.store.path == tmp_path / "b.db"
    # spelt as Path spells it, in messages and in .path
    with MemoryStore.open(f"{tmp_path}//c.db/") as store:
        assert store.file == str(tmp_path / "c.db")


def test_project_root_string_matches_path(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "p" / "pyproject.toml").parent.mkdir()
    (tmp_path / "p" / "pyproject.toml").write_text("")
    deep = tmp_path / "p" / "a" / "b"
    deep.mkdir(parents=True)
    (deep / "f.txt").write_text("x")
    for start in (deep, str(deep), deep / "f.txt", str(deep) + "/"):
        assert find_project_root_str(start) == str(tmp_path / "p")
        assert find_project_root(start) == tmp_path / "p"
    monkeypatch.chdir(deep)
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    assert find_project_root() == (tmp_path / "p").resolve()


def test_atomic_write_accepts_pathlike_and_trailing_slash(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "new" / "f.txt", "one")
    assert (tmp_path / "new" / "f.txt").read_text() == "one"
    os.chmod(tmp_path / "new" / "f.txt", 0o640)
    atomic_write_text(str(tmp_path / "new" / "f.txt") + "/", "two")  # Path("x/") names "x"
    assert (tmp_path / "new" / "f.txt").read_text() == "two"
    assert (tmp_path / "new" / "f.txt").stat().st_mode & 0o777 == 0o640  # mode kept
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["f.txt"]  # no temp file left
