"""`perfpack memory ...` as an agent calls it from Bash: real processes, real files, every malformed input."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from perfpack.memory.store import MemoryStore
from tests.conftest import run_perfpack

PE = "performance-engineer"
INSIGHT = '{"area": "db", "insight": "index orders.user_id", "impact": "high", "confidence": 0.9}'


def mem(*args: str, input: str | bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return run_perfpack("memory", *args, input=input, cwd=cwd)


def test_every_subcommand_on_a_project(project: Path) -> None:
    env_db = project / ".claude" / "memory" / "memory.db"
    out = mem("insight", PE, INSIGHT)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["kind"] == "insight" and env_db.is_file()
    out = mem("task", PE, input='{"task_description": "found slow query", "outcome": "success"}')
    assert out.returncode == 0 and json.loads(out.stdout)["kind"] == "task"
    out = mem("collab", PE, "database-specialist", "--success", "--task-type", "query")
    assert json.loads(out.stdout)["successes"] == 1
    out = mem("collab", PE, "database-specialist", "--failure", "--task-type=query")
    assert json.loads(out.stdout)["failures"] == 1
    out = mem("message", PE, '{"type": "insight", "content": "orders index added", "target_agents": []}')
    assert json.loads(out.stdout)["broadcast"] is True
    assert [m["content"] for m in json.loads(mem("unread", "ml-orchestrator", "--peek").stdout)] == [
        "orders index added"
    ]
    assert len(json.loads(mem("unread", "ml-orchestrator").stdout)) == 1
    assert json.loads(mem("unread", "ml-orchestrator").stdout) == []
    found = json.loads(mem("search", "orders").stdout)
    assert {f["kind"] for f in found} == {"insight", "message"}
    assert json.loads(mem("search", "orders", "--no-fts", "--kind", "insight").stdout)[0][
        "insight"
    ].startswith("index")
    loaded = json.loads(mem("load", PE).stdout)
    assert loaded["optimization_insights"][0]["impact"] == "high" and loaded["version"] == 0
    loaded["state"] = {"next": "look at caching"}
    saved = mem("save", PE, input=json.dumps(loaded))
    assert json.loads(saved.stdout)["version"] == 1
    stale = mem("save", PE, input=json.dumps(loaded))
    assert (
        stale.returncode == 2 and "saved by someone else" in stale.stderr and "Traceback" not in stale.stderr
    )
    assert json.loads(mem("shared").stdout)["agents"] == [PE]
    text = mem("load", PE, "--format", "text")
    assert "index orders.user_id" in text.stdout
    exported = mem("export")
    assert json.loads(exported.stdout)["format"] == "perfpack-memory"
    assert "## performance-engineer" in mem("export", "--format", "markdown").stdout
    other = project / "copy.db"
    imported = mem("--db", str(other), "import", input=exported.stdout)
    assert json.loads(imported.stdout)["imported"]["insights"] == 1
    assert json.loads(mem("--db", str(other), "export").stdout) == json.loads(exported.stdout)
    assert json.loads(mem("compact").stdout)["insights"] == 1
    assert (project / ".claude" / "agent-memory" / PE / "MEMORY.md").is_file()


def test_a_write_from_a_subdirectory_uses_the_project_database_and_digest(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / ".git").mkdir(parents=True)
    (project / "sub").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERFPACK_", "CLAUDE_PROJECT_DIR"))}
    insight = '{"area": "x", "insight": "cache the parsed config", "impact": "low", "confidence": 0.5}'
    out = subprocess.run([sys.executable, "-m", "perfpack", "memory", "insight", "perf-agent", insight],
                         cwd=project / "sub", env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    digest = project / ".claude" / "agent-memory" / "perf-agent" / "MEMORY.md"
    assert json.loads(out.stdout)["digest"] == str(digest)
    assert "cache the parsed config" in digest.read_text()
    with MemoryStore.open(project / ".claude" / "memory" / "memory.db", create=False) as store:
        assert [i["insight"] for i in store.top_insights("perf-agent", 5)] == ["cache the parsed config"]
    out = subprocess.run([sys.executable, "-m", "perfpack", "memory", "--db", str(tmp_path / "other.db"),
                          "task", "perf-agent", '{"task_description": "t", "outcome": "success"}'],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and json.loads(out.stdout)["id"] == 1, out.stderr


def test_help_and_the_click_entry_agree(project: Path) -> None:
    top = mem("--help")
    assert top.returncode == 0 and "Commands:" in top.stdout and "compact" in top.stdout
    sub = mem("insight", "--help")
    assert sub.returncode == 0 and "impact" in sub.stdout
    # the click command registered in COMMANDS forwards to the same implementation
    code = (
        "import sys; from perfpack.memory.cli import memory; "
        "sys.exit(memory.main(sys.argv[1:], standalone_mode=False))"
    )
    via_click = subprocess.run(
        [sys.executable, "-c", code, "insight", "--help"], capture_output=True, text=True
    )
    assert via_click.returncode == 0 and via_click.stdout == sub.stdout
    assert mem().returncode == 2


def test_the_installed_script_works(project: Path) -> None:
    script = Path(sys.executable).with_name("perfpack")
    if not script.exists():
        pytest.skip("no console script next to the interpreter")
    out = subprocess.run(
        [str(script), "memory", "insight", PE, INSIGHT],
        capture_output=True,
        text=True,
        env={**os.environ, "CLAUDE_PROJECT_DIR": str(project)},
    )
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["insight", PE, "{not json"], None, "not valid JSON"),
        (["insight", PE], b"", "empty"),
        (["insight", PE], b"   \n", "empty"),
        (["insight", PE], b'{"insight": "\xff\xfe", "impact": "low"}', "not UTF-8"),
        (["insight", PE], b"\x00\x01binary\x02" * 10, "not valid JSON"),
        (["insight", PE, "[1, 2]"], None, "expects a JSON object"),
        (["insight", PE, '{"insight": "x", "impact": "colossal"}'], None, "impact must be one of"),
        (["insight", PE, json.dumps({"insight": "x" * 17000, "impact": "low"})], None, "too large"),
        (["insight", PE], b'{"insight": "' + b"x" * (1024 * 1024 + 10) + b'"}', "larger than"),
        (["insight", "../../etc/passwd", INSIGHT], None, "invalid agent name"),
        (["insight", "Bad_Name", INSIGHT], None, "invalid agent name"),
        (["task", PE, '{"task_description": "x", "outcome": "meh"}'], None, "outcome must be one of"),
        (["message", PE, '{"content": "x", "target_agents": ["../x"]}'], None, "invalid target agent name"),
        (["message", PE, '{"content": "x", "bogus": 1}'], None, "unknown message field"),
        (["collab", PE, "database-specialist"], None, "exactly one of --success or --failure"),
        (["collab", PE], None, "needs AGENT and COLLABORATOR"),
        (["search"], None, "needs a QUERY"),
        (["load", PE, "--budget", "lots"], None, "whole number"),
        (["load", PE, "--budget", "5"], None, "budget must be"),
        (["load", PE, "--bogus"], None, "unknown option --bogus"),
        (["unread"], None, "needs AGENT"),
        (["frobnicate"], None, "unknown memory command"),
        (["export", "--format", "pdf"], None, "must be one of"),
        (["import"], b'{"format": "other"}', "not a perfpack memory export"),
        (["import", "/nonexistent/file.json"], None, "cannot read"),
        (["load", PE, "--format", "yaml"], None, "must be one of"),
    ],
)
def test_malformed_input_is_one_clear_line_and_exit_2(
    project: Path, args: list[str], stdin: bytes | None, message: str
) -> None:
    out = mem(*args, input=stdin if stdin is not None else b"")
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert message in out.stderr and "Traceback" not in out.stderr
    assert out.stderr.startswith("perfpack: error:")
    db = project / ".claude" / "memory" / "memory.db"
    if db.exists():
        conn = sqlite3.connect(db)
        assert conn.execute("SELECT count(*) FROM insights").fetchone()[0] == 0


def test_non_utf8_argument(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "perfpack", "memory", "insight", PE, b'{"insight": "\xff"}'],
        capture_output=True,
        env={**os.environ, "CLAUDE_PROJECT_DIR": str(project)},
    )
    assert proc.returncode == 2 and b"not valid UTF-8" in proc.stderr


@pytest.mark.parametrize("content", [os.urandom(8192), b"SQLite format 3\x00" + b"\x00" * 200])
def test_corrupt_database_gives_exit_2_and_stays_untouched(project: Path, content: bytes) -> None:
    db = project / ".claude" / "memory" / "memory.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(content)
    for args in (["insight", PE, INSIGHT], ["load", PE], ["search", "x"], ["export"], ["compact"]):
        out = mem(*args)
        assert out.returncode == 2 and "Traceback" not in out.stderr and str(db) in out.stderr, (
            args,
            out.stderr,
        )
    assert db.read_bytes() == content


def test_damaged_pages_behind_a_valid_header_give_exit_2(project: Path) -> None:
    db = project / ".claude" / "memory" / "memory.db"
    for n in range(40):
        record = {"insight": f"{n} " + "x" * 600, "impact": "high"}
        assert mem("insight", PE, json.dumps(record)).returncode == 0
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with db.open("r+b") as handle:  # overwrite one b-tree page in the middle of the file
        handle.seek(4096 * 5)
        handle.write(b"\xff" * 4096)
    out = mem("insight", PE, INSIGHT)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and str(db) in out.stderr and "damaged" in out.stderr


def test_db_option_and_environment_override(tmp_path: Path, project: Path) -> None:
    # --db stays inside the project (issue 13: /optimize pre-approves `perfpack memory`); the
    # environment variable, which an agent's approved command line cannot set, may point anywhere.
    inside = project / "elsewhere" / "m.db"
    assert mem("--db", str(inside), "insight", PE, INSIGHT).returncode == 0
    assert inside.is_file() and not (project / ".claude" / "memory").exists()
    target = tmp_path / "elsewhere" / "m.db"
    refused = mem("--db", str(target), "insight", PE, INSIGHT)
    assert refused.returncode == 2 and "outside the project" in refused.stderr and not target.exists()
    env = {"PERFPACK_MEMORY_DB": str(target)}
    assert run_perfpack("memory", "insight", PE, INSIGHT, env=env).returncode == 0
    out = run_perfpack("memory", "load", PE, env={"PERFPACK_MEMORY_DB": str(target)})
    assert json.loads(out.stdout)["optimization_insights"]


def test_each_cli_write_leaves_the_wal_bounded_and_every_record_readable(project: Path, db: Path) -> None:
    # `perfpack memory` ends with os._exit and leaves its committed WAL to the next process instead of
    # paying a checkpoint per write (MemoryStore.leave_open_at_exit); the WAL must stay bounded anyway.
    from perfpack.memory.database import WAL_LEFT_LIMIT

    wal = db.with_name("memory.db-wal")
    sizes = []
    for i in range(30):
        task = {"task_description": f"task {i} " + "x" * 2000, "outcome": "success"}
        out = mem("task", PE, json.dumps(task))
        assert out.returncode == 0, out.stderr
        sizes.append(wal.stat().st_size)
    assert sizes[0] > 0  # left, not checkpointed away
    assert max(sizes) <= WAL_LEFT_LIMIT + 256 * 1024, sizes  # one write's frames past the limit at most
    assert min(sizes[15:]) < max(sizes), sizes  # it was truncated along the way
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM tasks").fetchone()[0] == 30
    finally:
        conn.close()
    loaded = json.loads(mem("load", PE).stdout)
    assert loaded["task_history"][0]["task_description"].startswith("task 29 ")


def test_in_process_calls_close_the_database(project: Path, db: Path) -> None:
    # only a process that ends with os._exit (perfpack.cli.run) may leave the database open
    from perfpack.cli import main

    assert main(["memory", "task", PE, '{"task_description": "t", "outcome": "success"}']) == 0
    assert not db.with_name("memory.db-wal").exists()  # the last close checkpointed and removed it


def test_export_outside_the_project_hints_at_stdout_not_at_the_database_variable(
    tmp_path: Path, project: Path
) -> None:
    # the --out refusal used to suggest PERFPACK_MEMORY_DB, which moves the database, not the export
    assert mem("insight", PE, INSIGHT).returncode == 0
    target = tmp_path / "elsewhere.json"
    refused = mem("export", "--out", str(target))
    assert refused.returncode == 2 and "outside the project" in refused.stderr and not target.exists()
    assert "PERFPACK_MEMORY_DB" not in refused.stderr and "leave --out out" in refused.stderr
    db = mem("--db", str(tmp_path / "m.db"), "insight", PE, INSIGHT)
    assert db.returncode == 2 and "PERFPACK_MEMORY_DB" in db.stderr
