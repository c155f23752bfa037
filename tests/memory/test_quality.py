"""Issue 14 items 3-6: merged repeats, forget, ranking by value, a search index that never fails a write,
`memory check --repair` on a database damaged as the torture run damaged it, and honest errors."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perfpack.memory import AgentMemoryManager, forget, load_my_memory, top_insights
from tests.conftest import run_perfpack

PE = "performance-engineer"


def mem(
    *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return run_perfpack("memory", *args, input=input, env=env)


def _insight(text: str, impact: str = "low", confidence: float = 0.5, area: str = "timing") -> dict:
    return {"area": area, "insight": text, "impact": impact, "confidence": confidence}


def test_the_same_insight_twice_is_merged_with_count_and_last_seen(db: Path) -> None:
    with AgentMemoryManager(db) as m:
        first = m.add_optimization_insight(PE, _insight("timing probe is flaky"))
        time.sleep(1.1)
        again = m.add_optimization_insight(PE, _insight("  timing\tprobe   is flaky \n"))
        other_agent = m.add_optimization_insight("database-specialist", _insight("timing probe is flaky"))
        other_area = m.add_optimization_insight(PE, _insight("timing probe is flaky", area="ci"))
    assert again["id"] == first["id"] and again["merged"] is True and again["count"] == 2
    assert len({first["id"], other_agent["id"], other_area["id"]}) == 3
    loaded = load_my_memory(PE, db=db)["optimization_insights"]
    merged = [i for i in loaded if i["area"] == "timing"]
    assert len(merged) == 1 and merged[0]["count"] == 2 and merged[0]["last_seen"] > merged[0]["created_at"]
    digest = (db.parent.parent / "agent-memory" / PE / "MEMORY.md").read_text()
    assert digest.count("timing probe is flaky") == 2  # once per area, not once per call
    assert json.loads(mem("insight", PE, json.dumps(_insight("timing probe is flaky"))).stdout)["count"] == 3


def test_load_and_snapshot_rank_by_value_not_recency(db: Path, project: Path) -> None:
    with AgentMemoryManager(db, digest=False) as m:
        m.add_optimization_insight(PE, _insight("old but valuable", "high", 0.9))
        for i in range(8):
            m.add_optimization_insight(PE, _insight(f"new trivia {i}", "low", 0.3))
        m.add_optimization_insight(PE, _insight("equal value, newer", "high", 0.9))
    ranked = [i["insight"] for i in load_my_memory(PE, db=db)["optimization_insights"]]
    assert ranked[:2] == ["equal value, newer", "old but valuable"]  # value first, recency breaks the tie
    assert [i["insight"] for i in top_insights(project, 2)] == ranked[:2]
    from perfpack.snapshot.collect import take_snapshot
    from perfpack.snapshot.render import to_markdown

    snap = take_snapshot(project, only=["insights", "memory"])
    assert [i["insight"] for i in snap.sections["insights"]][:2] == ranked[:2]
    assert snap.sections["memory"]["sqlite_version"] == sqlite3.sqlite_version
    assert f"SQLite {sqlite3.sqlite_version}" in to_markdown(snap)


def test_forget_by_id_and_by_words_is_a_dry_run_until_yes(db: Path) -> None:
    with AgentMemoryManager(db) as m:
        keep = m.add_optimization_insight(PE, _insight("keep the connection pool at 20", "high", 0.9))
        probe = m.add_optimization_insight(PE, _insight("timing probe run 1"))
        m.add_optimization_insight(PE, _insight("timing probe run 2"))
        m.add_optimization_insight("database-specialist", _insight("timing probe run 3"))
    digest = db.parent.parent / "agent-memory" / PE / "MEMORY.md"
    assert "timing probe run 1" in digest.read_text()

    dry = json.loads(mem("forget", "--match", "timing probe", "--agent", PE).stdout)
    assert dry["applied"] is False and dry["count"] == 2 and "--yes" in dry["hint"]
    assert len(load_my_memory(PE, db=db)["optimization_insights"]) == 3  # nothing removed

    done = mem("forget", "--match", "timing probe", "--agent", PE, "--yes")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["count"] == 2
    left = [i["insight"] for i in load_my_memory(PE, db=db)["optimization_insights"]]
    assert left == ["keep the connection pool at 20"]
    assert "timing probe" not in digest.read_text()  # MEMORY.md follows
    assert AgentMemoryManager(db).search("probe", agent=PE) == []  # and the search index
    assert [i["insight"] for i in AgentMemoryManager(db).search("probe")] == ["timing probe run 3"]

    out = json.loads(mem("forget", str(keep["id"]), str(probe["id"])).stdout)
    assert out["applied"] is False and [r["id"] for r in out["records"]] == [keep["id"]]
    assert forget([keep["id"]], apply=True, db=db)["count"] == 1
    assert load_my_memory(PE, db=db)["optimization_insights"] == []
    assert mem("forget").returncode == 2 and mem("forget", "x1").returncode == 2


def test_a_broken_search_index_never_fails_a_write_and_search_degrades(db: Path) -> None:
    with AgentMemoryManager(db, digest=False) as m:
        m.add_optimization_insight(PE, _insight("alpha beta"))
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM search_index_data")  # the FTS5 index's own pages: inserting now fails
    conn.commit()
    conn.close()
    with AgentMemoryManager(db, digest=False) as m:
        written = m.add_optimization_insight(PE, _insight("gamma delta"))
        task = m.add_task_to_history(PE, {"task_description": "gamma task", "outcome": "success"})
        assert written["id"] == 2 and task["id"] == 1
        assert {i["kind"] for i in m.search("gamma")} == {"insight", "task"}  # the plain scan answered
    check = _check(db)
    assert check["problems_left"] is True and any("search index" in p for p in check["problems"])
    repaired = _check(db, repair=True)
    assert repaired["problems_left"] is False and any("search index" in r for r in repaired["repaired"])
    with AgentMemoryManager(db, digest=False) as m:
        assert m.store.search_index_usable()
        assert [i["insight"] for i in m.search("gamma", kind="insight")] == ["gamma delta"]


def _check(db: Path, repair: bool = False) -> dict:
    from perfpack.memory.check import check_database

    return check_database(str(db), repair=repair)


def damage_like_the_torture(db: Path) -> None:
    """Index entries out of step with their table, as when the WAL was deleted under a writer: hide an
    index from the schema, change the table behind its back, put the index back (PRAGMA writable_schema)."""
    conn = sqlite3.connect(db, isolation_level=None)
    names = ("insights_agent_created", "insights_value")
    hidden = conn.execute(
        f"SELECT type, name, tbl_name, rootpage, sql FROM sqlite_master WHERE name IN {names}"
    ).fetchall()
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(f"DELETE FROM sqlite_master WHERE name IN {names}")
    conn.close()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DELETE FROM insights WHERE id IN (2, 3)")  # the indexes still name them: lost records
    conn.execute(
        "INSERT INTO insights (uid, agent, created, area, insight, impact, confidence, norm, last_seen) "
        "VALUES ('u-late', ?, 5, 'a', 'late row', 'low', 0.5, 'late row', 5)", (PE,)
    )  # a row the two indexes miss
    conn.execute("PRAGMA writable_schema = ON")
    conn.executemany("INSERT INTO sqlite_master VALUES (?, ?, ?, ?, ?)", hidden)
    conn.close()


def test_check_and_repair_a_database_damaged_like_the_torture_run(db: Path) -> None:
    with AgentMemoryManager(db, digest=False) as m:
        for i in range(5):
            m.add_optimization_insight(PE, _insight(f"insight {i}"))
    damage_like_the_torture(db)
    conn = sqlite3.connect(db)
    found = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    conn.close()
    assert any("missing from index insights_agent_created" in f for f in found)
    assert any("wrong # of entries in index" in f for f in found)

    out = mem("check")
    assert out.returncode == 1, out.stderr  # problems found, none repaired
    report = json.loads(out.stdout)
    assert report["ok"] is False and report["sqlite_version"] == sqlite3.sqlite_version
    assert any("missing from index" in p for p in report["problems"])
    lost = [(x["kind"], x["id"], x["agent"]) for x in report["lost"]]
    assert lost == [("insight", 2, PE), ("insight", 3, PE)]

    out = mem("check", "--repair")
    assert out.returncode == 0, out.stdout + out.stderr
    repaired = json.loads(out.stdout)
    assert repaired["problems_left"] is False and [x["id"] for x in repaired["lost"]] == [2, 3]
    assert Path(repaired["backup"]).is_file() and "REINDEX" in " ".join(repaired["repaired"])
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert json.loads(mem("check").stdout)["ok"] is True
    texts = {i["insight"] for i in load_my_memory(PE, db=db, budget=20_000)["optimization_insights"]}
    assert texts == {"insight 0", "insight 3", "insight 4", "late row"}
    assert json.loads(mem("export").stdout)["insights"]  # export works again


# -- honest errors: full disk, read-only, locked, damaged ---------------------------------------------------
@pytest.fixture
def small_fs(tmp_path: Path):
    """A real 1 MB tmpfs (we run as root; skipped where mounting is not allowed)."""
    mount = tmp_path / "small"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> None:
    for name, block in (("filler", 65536), ("filler2", 512)):  # then the last few blocks too
        try:
            with open(folder / name, "wb") as handle:
                while True:
                    handle.write(b"\0" * block)
                    handle.flush()
        except OSError:
            pass


def _project_on(mount: Path) -> tuple[Path, dict[str, str]]:
    root = mount / "proj"
    (root / ".claude").mkdir(parents=True)
    return root, {"CLAUDE_PROJECT_DIR": str(root), "PERFPACK_MEMORY_DB": ""}


def test_full_disk_says_so_and_keeps_the_database(small_fs: Path) -> None:
    root, env = _project_on(small_fs)
    assert mem("insight", PE, json.dumps(_insight("before the disk filled")), env=env).returncode == 0
    _fill(small_fs)
    out = mem("insight", PE, json.dumps(_insight("x" * 8000 + " after")), env=env)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "disk is full" in out.stderr and "damaged" not in out.stderr and "move it away" not in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 2  # one line (+ its hint)
    (small_fs / "filler").unlink()
    loaded = json.loads(mem("load", PE, env=env).stdout)["optimization_insights"]
    assert [i["insight"] for i in loaded] == ["before the disk filled"]
    assert json.loads(mem("check", env=env).stdout)["ok"] is True


def test_read_only_file_system_says_so(small_fs: Path) -> None:
    root, env = _project_on(small_fs)
    assert mem("insight", PE, json.dumps(_insight("stored before remount")), env=env).returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    out = mem("insight", PE, json.dumps(_insight("refused")), env=env)
    assert out.returncode == 2
    assert "read-only" in out.stderr and "damaged" not in out.stderr and "move it away" not in out.stderr
    subprocess.run(["mount", "-o", "remount,rw", str(small_fs)], check=True)
    loaded = json.loads(mem("load", PE, env=env).stdout)["optimization_insights"]
    assert [i["insight"] for i in loaded] == ["stored before remount"]


def test_a_locked_database_says_locked(db: Path) -> None:
    AgentMemoryManager(db, digest=False).add_optimization_insight(PE, _insight("first"))
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
         " c.execute('BEGIN EXCLUSIVE'); print('held', flush=True); time.sleep(30)", str(db)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        env = {"PERFPACK_MEMORY_BUSY_TIMEOUT_MS": "300"}
        out = mem("insight", PE, json.dumps(_insight("second")), env=env)
    finally:
        holder.kill()
        holder.wait()
    assert out.returncode == 2
    assert "locked by another process" in out.stderr and "damaged" not in out.stderr


def test_only_a_damaged_file_is_called_damaged(db: Path) -> None:
    AgentMemoryManager(db, digest=False).add_optimization_insight(PE, _insight("x"))
    size = os.path.getsize(db)
    with open(db, "r+b") as handle:  # destroy the insights table's pages, keep the header
        handle.seek(4096 * 2)
        handle.write(os.urandom(size - 4096 * 2))
    out = mem("load", PE)
    assert out.returncode == 2 and "damaged" in out.stderr and "check --repair" in out.stderr
