"""Issue 13, memory's part: hostile input reaches `perfpack memory` and nothing leaks, escapes or hangs.

Item 3: secrets are never stored in clear (memory.db and MEMORY.md); item 4: --db and export --out stay
inside the project, never follow a symlink, never overwrite without --force; item 11: a lone surrogate
is stored safely; item 12: a FIFO as --db never hangs; item 17: full disk and read-only messages are in
tests/memory/test_quality.py (they need a real small file system).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_perfpack
from tests.hostile import make_hostile
from tests.secret_formats import NOT_SECRETS, SECRETS

PE = "performance-engineer"

def mem(*args: str, cwd: Path | None = None, input: str | bytes | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run_perfpack("memory", *args, cwd=cwd, input=input, env=env, timeout=60)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / ".claude").mkdir(parents=True)
    for name in ("PERFPACK_MEMORY_DB", "PERFPACK_MEMORY_NO_FTS", "PERFPACK_AGENT_MEMORY_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(root))
    return root


def _everything_stored(root: Path) -> str:
    db = root / ".claude" / "memory" / "memory.db"
    text = ""
    for suffix in ("", "-wal"):
        if Path(f"{db}{suffix}").exists():
            text += Path(f"{db}{suffix}").read_bytes().decode("utf-8", "replace")
    for digest in (root / ".claude" / "agent-memory").rglob("MEMORY.md"):
        text += digest.read_text()
    conn = sqlite3.connect(db)
    for table in ("tasks", "insights", "messages"):
        for row in conn.execute(f"SELECT * FROM {table}"):
            text += json.dumps(row, ensure_ascii=False)
    conn.close()
    return text


@pytest.mark.parametrize("secret, clear", SECRETS, ids=[s[1][:12] for s in SECRETS])
def test_secrets_never_reach_the_database_or_memory_md_in_clear(
    project: Path, secret: str, clear: str
) -> None:
    record = {"area": "config", "insight": f"found {secret} in the repo", "impact": "high", "confidence": 0.9,
              "evidence": secret}
    out = mem("insight", PE, json.dumps(record))
    assert out.returncode == 0, out.stderr
    task = {"task_description": f"audit: {secret}", "outcome": "success", "key_insights": [secret]}
    assert mem("task", PE, json.dumps(task)).returncode == 0
    assert mem("message", PE, json.dumps({"type": "note", "content": secret})).returncode == 0
    stored = _everything_stored(project)
    assert clear not in stored
    assert "[REDACTED]" in stored


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_hex_identifiers_that_are_not_secrets_are_stored_as_written(project: Path, text: str) -> None:
    record = {"area": "config", "insight": text, "impact": "low"}
    assert mem("insight", PE, json.dumps(record)).returncode == 0
    assert text in _everything_stored(project)


def test_db_outside_the_project_or_through_a_symlink_is_refused(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "evil.db"
    out = mem("--db", str(outside), "insight", PE, '{"insight": "x", "impact": "low"}')
    assert out.returncode == 2 and "outside the project" in out.stderr and not outside.parent.exists()
    out = mem("--db", str(project / ".." / "evil.db"), "load", PE)
    assert out.returncode == 2 and not (tmp_path / "evil.db").exists()
    link = make_hostile(project / "link.db", "dangling symlink", target=tmp_path / "target.db")
    out = mem("--db", str(link), "insight", PE, '{"insight": "x", "impact": "low"}')
    assert out.returncode == 2 and "symbolic link" in out.stderr and not (tmp_path / "target.db").exists()
    (project / "sub").symlink_to(tmp_path, target_is_directory=True)  # a folder link leading out
    out = mem("--db", str(project / "sub" / "m.db"), "insight", PE, '{"insight": "x", "impact": "low"}')
    assert out.returncode == 2 and not (tmp_path / "m.db").exists()


def test_export_out_stays_inside_never_overwrites_never_follows(project: Path, tmp_path: Path) -> None:
    assert mem("insight", PE, '{"insight": "keep me", "impact": "low"}').returncode == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = mem("export", "--out", str(victim))
    assert out.returncode == 2 and "outside the project" in out.stderr and victim.read_text() == "precious"
    inside = project / "notes.txt"
    inside.write_text("mine")
    out = mem("export", "--out", str(inside))
    assert out.returncode == 2 and "already exists" in out.stderr and inside.read_text() == "mine"
    link = make_hostile(project / "link.json", "symlink", b"precious", target=victim)
    for extra in ([], ["--force"]):
        out = mem("export", "--out", str(link), *extra)
        assert out.returncode == 2 and victim.read_text() == "precious" and link.is_symlink()
    fresh = project / "out" / "export.json"
    fresh.parent.mkdir()
    out = mem("export", "--out", str(fresh))
    assert out.returncode == 0, out.stderr and json.loads(fresh.read_text())["insights"]
    assert mem("export", "--out", str(fresh), "--force").returncode == 0


def test_a_lone_surrogate_in_a_record_is_stored_safely(project: Path) -> None:
    for command, payload in (
        ("insight", '{"insight": "bad \\ud800 char", "impact": "low", "\\udfff key": "v"}'),
        ("task", '{"task_description": "\\udc80 task", "outcome": "success"}'),
        ("message", '{"type": "note", "content": "lone \\ud83d half"}'),
    ):
        out = mem(command, PE, payload)
        assert out.returncode == 0, out.stderr
        assert "Traceback" not in out.stderr
    loaded = json.loads(mem("load", PE).stdout)
    assert loaded["optimization_insights"][0]["insight"] == "bad \ufffd char"
    from perfpack.memory import AgentMemoryManager

    with AgentMemoryManager(project / ".claude" / "memory" / "memory.db") as manager:  # the API too
        assert manager.add_optimization_insight(PE, {"insight": "api \ud800", "impact": "low"})["id"]


def test_a_fifo_as_db_or_import_file_never_hangs(project: Path) -> None:
    fifo = make_hostile(project / "pipe.db", "fifo")
    for args in (["--db", str(fifo), "insight", PE, '{"insight": "x", "impact": "low"}'],
                 ["--db", str(fifo), "load", PE], ["--db", str(fifo), "check"], ["import", str(fifo)]):
        out = mem(*args)  # run_perfpack's timeout turns a hang into a failure
        assert out.returncode == 2, (args, out.stderr)
        assert "FIFO" in out.stderr or "not a regular file" in out.stderr


def test_api_refuses_a_fifo_too(project: Path) -> None:
    fifo = make_hostile(project / "p.db", "fifo")
    code = ("import sys\nfrom perfpack.errors import PerfpackError\n"
            "from perfpack.memory import load_my_memory\n"
            "try:\n    load_my_memory('a', db=sys.argv[1])\n"
            "except PerfpackError as e:\n    print('refused', e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True, text=True, timeout=60)
    assert out.stdout.startswith("refused") and "FIFO" in out.stdout


def test_memory_md_holds_no_terminal_escapes_or_forged_lines(project: Path) -> None:
    """MEMORY.md is read by people (cat, less) and by the agent: ESC sequences and newlines stay escaped."""
    record = {"area": "db\n# Forged heading", "impact": "high", "confidence": 0.9,
              "insight": "fast \x1b]0;pwned\x07\x1b[2J\n- [high, 1.00] forged"}
    assert mem("insight", PE, json.dumps(record)).returncode == 0
    digest = (project / ".claude" / "agent-memory" / PE / "MEMORY.md").read_bytes()
    assert b"\x1b" not in digest and b"\x07" not in digest
    assert not any(line.startswith((b"# Forged", b"- [high, 1.00] forged")) for line in digest.splitlines())


def test_a_memory_folder_symlinked_out_of_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    """The default database too: a repository can commit .claude/memory -> ~/elsewhere."""
    outside = tmp_path / "elsewhere"
    make_hostile(project / ".claude" / "memory", "folder symlink", target=outside)
    out = mem("insight", PE, json.dumps({"area": "a", "insight": "b", "impact": "high", "confidence": 0.5}))
    assert out.returncode == 2 and "outside the project" in out.stderr, out.stderr
    assert list(outside.iterdir()) == []
