"""The per-action memory write stays light: no pathlib/typing on its import path, same paths as before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from perfpack.fsutil import atomic_write_text
from perfpack.memory import AgentMemoryManager
from perfpack.memory.api import resolve_db
from perfpack.memory.store import MemoryStore, default_db_path
from perfpack.project import find_project_root, find_project_root_str

INSIGHT = '{"area": "x", "insight": "cache the parsed config", "impact": "low", "confidence": 0.5}'

# Runs one `perfpack memory insight` in a fresh interpreter and lists the heavy modules it imported.
PROBE = """
import json, sys
from perfpack.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("pathlib", "typing", "urllib", "urllib.parse", "ipaddress", "shutil", "tempfile",
                           "click", "yaml", "sqlite3", "datetime") if m in sys.modules)
sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "heavy": heavy}) + "\\n")
"""


def _probe(args: list[str], cwd: Path) -> tuple[dict, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERFPACK_", "CLAUDE_PROJECT_DIR"))}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    probe = json.loads(proc.stderr.rsplit("PROBE ", 1)[1])
    return probe, json.loads(proc.stdout)


def test_insight_write_imports_no_pathlib_or_typing(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    (project / "sub").mkdir()
    # no --db: the project root is found from the cwd and the MEMORY.md digest is refreshed
    probe, out = _probe(["memory", "insight", "perf-agent", INSIGHT], project / "sub")
    assert probe == {"code": 0, "heavy": []}
    digest = project / ".claude" / "agent-memory" / "perf-agent" / "MEMORY.md"
    assert out["digest"] == str(digest)
    assert "cache the parsed config" in digest.read_text()
    with MemoryStore.open(project / ".claude" / "memory" / "memory.db", create=False) as store:
        assert [i["insight"] for i in store.top_insights("perf-agent", 5)] == ["cache the parsed config"]

    probe, out = _probe(["memory", "--db", str(tmp_path / "other.db"), "task", "perf-agent",
                         '{"task_description": "t", "outcome": "success"}'], tmp_path)
    assert probe == {"code": 0, "heavy": []}
    assert out["id"] == 1


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
