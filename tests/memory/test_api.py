"""The Python API on real SQLite files: record shapes, constraints, versions, budgets, search, digest."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from perfpack.errors import PerfpackError
from perfpack.memory import (
    AgentMemoryManager,
    load_my_memory,
    load_shared_context,
    recent_insights,
    save_my_memory,
    send_message_to_agents,
)
from perfpack.memory.store import MemoryStore

PE, DB_SPEC, ML = "performance-engineer", "database-specialist", "ml-orchestrator"


def test_seed_protocol_round_trip(project: Path, db: Path) -> None:
    manager = AgentMemoryManager()  # default location from CLAUDE_PROJECT_DIR
    manager.add_task_to_history(
        PE,
        {
            "task_description": "Performance analysis completed",
            "outcome": "success",
            "key_insights": ["bottleneck identified"],
            "delegations": [{"to_agent": DB_SPEC, "reason": "query", "outcome": "success"}],
        },
    )
    manager.add_optimization_insight(
        PE, {"area": "caching", "insight": "cache the price list", "impact": "high", "confidence": 0.95}
    )
    manager.update_collaboration_pattern(PE, DB_SPEC, success=True, task_type="query_optimization")
    manager.update_collaboration_pattern(PE, DB_SPEC, success=False, task_type="query_optimization")
    send_message_to_agents(
        PE, "insight", "System improvement affects all", target_agents=[], metadata={"priority": "high"}
    )
    manager.close()
    assert db.is_file()

    memory = load_my_memory(PE)
    task = memory["task_history"][0]
    assert task["task_description"] == "Performance analysis completed" and task["outcome"] == "success"
    assert task["delegations"][0]["to_agent"] == DB_SPEC and task["key_insights"] == ["bottleneck identified"]
    assert memory["optimization_insights"][0]["impact"] == "high"
    collab = memory["collaboration_patterns"]["frequent_collaborators"][0]
    assert (collab["collaborator"], collab["successes"], collab["failures"]) == (DB_SPEC, 1, 1)
    assert collab["task_types"]["query_optimization"] == {"successes": 1, "failures": 1}

    unread = AgentMemoryManager().get_unread_messages(DB_SPEC)
    assert [m["content"] for m in unread] == ["System improvement affects all"]
    assert unread[0]["metadata"] == {"priority": "high"} and unread[0]["from_agent"] == PE
    assert AgentMemoryManager().get_unread_messages(DB_SPEC) == []  # read receipt stored
    assert AgentMemoryManager().get_unread_messages(PE) == []  # the sender does not get its own message
    assert len(AgentMemoryManager().get_unread_messages(ML, mark_read=False)) == 1
    assert len(AgentMemoryManager().get_unread_messages(ML)) == 1

    digest = project / ".claude" / "agent-memory" / PE / "MEMORY.md"
    assert "cache the price list" in digest.read_text()
    assert [i["insight"] for i in recent_insights(project)] == ["cache the price list"]


def test_targeted_messages_reach_only_their_targets(db: Path) -> None:
    send_message_to_agents(PE, "request", "check the orders index", target_agents=[DB_SPEC], db=db)
    manager = AgentMemoryManager(db)
    assert manager.get_unread_messages(ML) == []
    assert [m["content"] for m in manager.get_unread_messages(DB_SPEC)] == ["check the orders index"]


def test_schema_constraints_hold_even_for_raw_sql(db: Path) -> None:
    AgentMemoryManager(db).add_task_to_history(PE, {"task_description": "x", "outcome": "partial"})
    conn = sqlite3.connect(db)
    bad = [
        "INSERT INTO tasks (uid, agent, created, description, outcome) VALUES ('a1', 'a', 0, 'd', 'maybe')",
        (
            "INSERT INTO insights (uid, agent, created, area, insight, impact, confidence) "
            "VALUES ('b1', 'a', 0, 'x', 'y', 'huge', 0.5)"
        ),
        (
            "INSERT INTO insights (uid, agent, created, area, insight, impact, confidence) "
            "VALUES ('b2', 'a', 0, 'x', 'y', 'low', 1.5)"
        ),
        (
            "INSERT INTO insights (uid, agent, created, area, insight, impact, confidence) "
            "VALUES ('b3', 'a', 0, 'x', 'y', 'low', 'high')"
        ),
    ]
    for sql in bad:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(sql)


@pytest.mark.parametrize(
    "record, message",
    [
        ({"task_description": "x", "outcome": "great"}, "outcome must be one of"),
        ({"outcome": "success"}, "task_description"),
        ("not an object", "JSON object"),
    ],
)
def test_bad_tasks_are_refused_clearly(db: Path, record: object, message: str) -> None:
    with pytest.raises(PerfpackError, match=message):
        AgentMemoryManager(db).add_task_to_history(PE, record)


@pytest.mark.parametrize(
    "record, message",
    [
        ({"insight": "x", "impact": "enormous"}, "impact must be one of"),
        ({"insight": "x", "impact": "low", "confidence": 1.01}, "confidence"),
        ({"insight": "x", "impact": "low", "confidence": True}, "confidence"),
        ({"insight": "x" * 20_000, "impact": "low"}, "too large"),
        ({"impact": "low"}, "insight must be"),
    ],
)
def test_bad_insights_are_refused_clearly(db: Path, record: dict, message: str) -> None:
    with pytest.raises(PerfpackError, match=message):
        AgentMemoryManager(db).add_optimization_insight(PE, record)


@pytest.mark.parametrize(
    "name", ["../etc", "Performance", "a/b", "", "a--b", "-a", "x" * 65, "é", ".", "a b"]
)
def test_agent_names_are_validated(db: Path, name: str) -> None:
    with pytest.raises(PerfpackError, match="agent name"):
        AgentMemoryManager(db).add_task_to_history(name, {"task_description": "x", "outcome": "success"})
    assert not (db.parent.parent / "agent-memory").exists()


def test_save_refuses_to_overwrite_a_newer_version(db: Path) -> None:
    first = load_my_memory(PE, db=db)
    second = load_my_memory(PE, db=db)
    first["state"]["plan"] = "A"
    first["task_history"].append({"task_description": "added via save", "outcome": "success"})
    assert save_my_memory(PE, first, db=db)["version"] == 1
    second["state"]["plan"] = "B"
    with pytest.raises(PerfpackError, match="saved by someone else"):
        save_my_memory(PE, second, db=db)
    again = load_my_memory(PE, db=db)
    assert again["state"] == {"plan": "A"} and again["version"] == 1
    assert [t["task_description"] for t in again["task_history"]] == ["added via save"]
    again["state"]["plan"] = "C"
    assert save_my_memory(PE, again, db=db)["version"] == 2
    # saving what was loaded does not duplicate entries that already have an id
    assert len(load_my_memory(PE, db=db)["task_history"]) == 1


def test_load_stays_within_budget_with_a_large_store(db: Path) -> None:
    with MemoryStore.open(db) as store:
        rows = [
            (
                f"{i:032x}",
                PE,
                float(i),
                "area",
                f"insight number {i} " + "x" * 200,
                "high" if i == 777 else "low",
                0.5,
                "{}",
                f"insight number {i} " + "x" * 200,
                float(i),
            )
            for i in range(3000)
        ]
        store.transaction(
            lambda c: c.executemany(
                "INSERT INTO insights (uid, agent, created, area, insight, impact, confidence, data, norm, "
                "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        )
    memory = load_my_memory(PE, db=db)
    assert len(json.dumps(memory, separators=(",", ":")).encode()) <= 4096
    assert memory["truncated"] is True
    assert memory["optimization_insights"][0]["insight"].startswith(
        "insight number 777 "
    )  # most valuable first
    assert 0 < len(memory["optimization_insights"]) < 30
    big = load_my_memory(PE, db=db, budget=20_000)
    assert len(big["optimization_insights"]) > len(memory["optimization_insights"])
    shared = load_shared_context(db=db)
    assert len(json.dumps(shared, separators=(",", ":")).encode()) <= 4096 and shared["top_insights"]
    with pytest.raises(PerfpackError, match="budget"):
        load_my_memory(PE, db=db, budget=10)
    digest = db.parent.parent / "agent-memory" / PE / "MEMORY.md"
    AgentMemoryManager(db).add_optimization_insight(PE, {"insight": "newest", "impact": "low"})
    assert len(digest.read_text().splitlines()) <= 200


def test_reads_do_not_create_a_database(db: Path, project: Path) -> None:
    assert load_my_memory(PE)["task_history"] == []
    assert load_shared_context()["agents"] == []
    assert recent_insights(project) == []
    assert AgentMemoryManager().search("anything") == []
    assert not db.exists()


@pytest.mark.parametrize("force_like", [False, True])
def test_search_with_fts5_and_with_the_like_fallback(
    db: Path, monkeypatch: pytest.MonkeyPatch, force_like: bool
) -> None:
    if force_like:
        monkeypatch.setenv("PERFPACK_MEMORY_NO_FTS", "1")  # database created without FTS5, searched with LIKE
    manager = AgentMemoryManager(db)
    manager.add_optimization_insight(
        PE,
        {
            "area": "database",
            "insight": "N+1 queries in the orders page",
            "impact": "high",
            "confidence": 0.9,
        },
    )
    manager.add_task_to_history(
        DB_SPEC, {"task_description": "added index for orders lookup", "outcome": "success"}
    )
    manager.send_message(ML, "note", "model cache warm-up helps", [])
    assert manager.store.has_fts is (not force_like)
    found = manager.search("orders")
    assert {item["kind"] for item in found} == {"insight", "task"}
    assert [item["kind"] for item in manager.search("orders", agent=DB_SPEC)] == ["task"]
    assert [item["kind"] for item in manager.search("warm-up cache")] == ["message"]
    assert manager.search("orders", kind="insight")[0]["insight"].startswith("N+1")
    assert manager.search("nothing-like-this") == []
    assert manager.search('"quoted" 100%') == []
    with pytest.raises(PerfpackError, match="empty"):
        manager.search("   ")


def test_like_fallback_on_a_database_with_fts(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manager = AgentMemoryManager(db)
    manager.add_optimization_insight(PE, {"insight": "pool size 50_000 was too big", "impact": "low"})
    assert manager.store.has_fts
    fts = manager.search("pool")
    monkeypatch.setenv("PERFPACK_MEMORY_NO_FTS", "1")
    assert manager.search("pool") == fts
    assert manager.search("50_000")[0]["insight"].startswith("pool")  # LIKE wildcards escaped
    assert manager.search("50%") == []


def test_redaction_before_storage(db: Path) -> None:
    secrets = {
        "openai": "sk-proj-abcdefghijklmnop1234567890",
        "aws": "AKIAIOSFODNN7EXAMPLE",
        "github": "ghp_" + "a1b2c3d4e5" * 4,
        "slack": "xoxb-1234567890-abcdefghij",
        "bearer": "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
        "url": "postgres://admin:hunter2secret@db.internal:5432/app",
        "password": "login with password=CorrectHorse9",
        "key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    }
    manager = AgentMemoryManager(db)
    for name, text in secrets.items():
        manager.add_optimization_insight(
            PE,
            {
                "area": name,
                "insight": f"found {text} in config",
                "impact": "low",
                "api_key": "plain-value-123",
            },
        )
    manager.send_message(PE, "note", "token: abcdef123456", [], {"password": "pw123456"})
    manager.add_task_to_history(
        PE,
        {"task_description": "deploy", "outcome": "success", "key_insights": ["used AKIAIOSFODNN7EXAMPLE"]},
    )
    raw = db.read_bytes() + (db.parent / "memory.db-wal").read_bytes()
    for leaked in (
        "abcdefghijklmnop1234567890",
        "AKIAIOSFODNN7EXAMPLE",
        "a1b2c3d4e5a1b2c3d4e5",
        "1234567890-abcdefghij",
        "eyJhbGciOiJIUzI1NiJ9",
        "hunter2secret",
        "CorrectHorse9",
        "MIIEpAIBAAKCAQEA",
        "plain-value-123",
        "pw123456",
        "abcdef123456",
    ):
        assert leaked.encode() not in raw, leaked
    texts = [i["insight"] for i in manager.store.top_insights(PE, 20)]
    assert any("postgres://admin:[REDACTED]@db.internal" in t for t in texts)
    assert any("Bearer [REDACTED]" in t for t in texts)
    assert "hunter2secret" not in (db.parent.parent / "agent-memory" / PE / "MEMORY.md").read_text()


def test_messages_older_than_retention_expire(db: Path) -> None:
    manager = AgentMemoryManager(db)
    manager.send_message(PE, "note", "old news", [DB_SPEC])
    manager.store.transaction(lambda c: c.execute("UPDATE messages SET created = created - 40 * 86400"))
    assert manager.get_unread_messages(DB_SPEC, mark_read=False) == []
    manager.send_message(PE, "note", "fresh", [DB_SPEC])  # retention applied on the way in
    assert manager.store.counts()["messages"] == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (os.urandom(4096), "not a SQLite database"),
        (b"SQLite format 3\x00" + os.urandom(4000), "not a SQLite database"),
    ],
)
def test_corrupt_files_are_refused_and_untouched(db: Path, content: bytes, message: str) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(content)
    with pytest.raises(PerfpackError, match=message):
        AgentMemoryManager(db).add_task_to_history(PE, {"task_description": "x", "outcome": "success"})
    with pytest.raises(PerfpackError):
        load_my_memory(PE, db=db)
    assert db.read_bytes() == content
    assert recent_insights(db.parent.parent.parent) == []


def test_foreign_and_newer_databases_are_refused(db: Path) -> None:
    db.parent.mkdir(parents=True)
    foreign = sqlite3.connect(db)
    foreign.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    foreign.commit()
    foreign.close()
    before = db.read_bytes()
    with pytest.raises(PerfpackError, match="not perfpack memory"):
        AgentMemoryManager(db).add_task_to_history(PE, {"task_description": "x", "outcome": "success"})
    assert db.read_bytes() == before
    db.unlink()
    AgentMemoryManager(db).add_task_to_history(PE, {"task_description": "x", "outcome": "success"})
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(PerfpackError, match="newer than this perfpack"):
        AgentMemoryManager(db).add_task_to_history(PE, {"task_description": "y", "outcome": "success"})
    with pytest.raises(PerfpackError, match="newer"):
        load_my_memory(PE, db=db)
    assert db.read_bytes() == before


def test_export_import_round_trip_and_compact(db: Path, tmp_path: Path) -> None:
    from perfpack.memory.transfer import compact, export_memory, import_memory, to_markdown

    manager = AgentMemoryManager(db)
    manager.add_task_to_history(PE, {"task_description": "t1", "outcome": "failure", "extra": {"k": [1, 2]}})
    manager.add_optimization_insight(
        PE, {"area": "io", "insight": "batch writes", "impact": "medium", "confidence": 0.7}
    )
    manager.update_collaboration_pattern(PE, DB_SPEC, True)
    manager.send_message(PE, "note", "for db", [DB_SPEC])
    manager.get_unread_messages(DB_SPEC)
    memory = load_my_memory(PE, db=db)
    memory["state"] = {"focus": "checkout"}
    save_my_memory(PE, memory, db=db)
    exported = export_memory(manager.store)
    other = MemoryStore.open(tmp_path / "other.db")
    first = import_memory(other, json.loads(json.dumps(exported)))
    assert first["imported"] == {"tasks": 1, "insights": 1, "messages": 1}
    assert export_memory(other) == exported
    second = import_memory(other, exported)  # idempotent
    assert second["imported"] == {"tasks": 0, "insights": 0, "messages": 0}
    assert export_memory(other) == exported
    markdown = to_markdown(exported)
    assert (
        "## performance-engineer" in markdown
        and "batch writes" in markdown
        and "| database-specialist |" in markdown
    )
    manager.store.transaction(lambda c: c.execute("UPDATE messages SET created = created - 90 * 86400"))
    result = compact(manager.store, retention_days=30)
    assert result["messages_removed"] == 1 and result["messages"] == 0
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM message_reads").fetchone()[0] == 0
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with pytest.raises(PerfpackError, match="not a perfpack memory export"):
        import_memory(other, {"tasks": []})
    bad = json.loads(json.dumps(exported))
    bad["insights"].append({"uid": "f" * 32, "agent": PE, "created": 1.0, "insight": "x", "impact": "??"})
    with pytest.raises(PerfpackError, match="impact"):
        import_memory(other, bad)
    assert export_memory(other) == exported  # nothing half-imported
    huge = json.loads(json.dumps(exported))
    huge["collaborations"][0]["successes"] = 2**64
    with pytest.raises(PerfpackError, match="non-negative integers"):
        import_memory(other, huge)
    huge = json.loads(json.dumps(exported))
    huge["states"][0]["version"] = 2**64
    with pytest.raises(PerfpackError, match="integer `version`"):
        import_memory(other, huge)
    assert export_memory(other) == exported
    leaky = json.loads(json.dumps(exported))
    leaky["states"][0].update(version=99, state={"password": "hunter2hunter2"})
    import_memory(other, leaky)
    assert load_my_memory(PE, db=tmp_path / "other.db")["state"] == {"password": "[REDACTED]"}
