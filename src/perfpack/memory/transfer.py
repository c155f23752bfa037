"""Export / import of a whole memory (JSON round-trip, Markdown for people) and `compact` housekeeping."""

from __future__ import annotations

import calendar
import json
import time

from perfpack.errors import PerfpackError
from perfpack.memory.database import MESSAGE_RETENTION_DAYS
from perfpack.memory.hygiene import MAX_STATE_BYTES, check_agent, check_size
from perfpack.memory.records import MESSAGE_COLUMNS, insight_row, iso, task_row
from perfpack.memory.records import dumps as _dumps
from perfpack.memory.store import MemoryStore
from perfpack.redact import redact

_MAX_INT = 2**63 - 1  # SQLite's INTEGER: a larger count or version would be an OverflowError, not a message
FORMAT = "perfpack-memory"
FORMAT_VERSION = 1


def export_memory(store: MemoryStore | None, agent: str | None = None) -> dict:
    """Everything stored (or one agent's part) as plain JSON; ids are replaced by stable uids."""
    out: dict = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "agent": agent,
        "tasks": [],
        "insights": [],
        "collaborations": [],
        "messages": [],
        "states": [],
    }
    if store is None:
        return out
    c = store.c
    where = " WHERE agent = ?" if agent else ""
    params = (agent,) if agent else ()
    for uid, who, created, desc, outcome, data in c.execute(
        f"SELECT uid, agent, created, description, outcome, data FROM tasks{where} ORDER BY created, id",
        params,
    ):
        out["tasks"].append(
            {
                "uid": uid,
                "agent": who,
                "created_at": iso(created),
                "created": created,
                "task_description": desc,
                "outcome": outcome,
                **json.loads(data),
            }
        )
    for uid, who, created, area, text, impact, conf, data in c.execute(
        "SELECT uid, agent, created, area, insight, impact, confidence, data FROM insights"
        f"{where} ORDER BY created, id",
        params,
    ):
        out["insights"].append(
            {
                "uid": uid,
                "agent": who,
                "created_at": iso(created),
                "created": created,
                "area": area,
                "insight": text,
                "impact": impact,
                "confidence": conf,
                **json.loads(data),
            }
        )
    for who, other, task_type, ok, bad, last in c.execute(
        f"SELECT agent, other, task_type, successes, failures, last_at FROM collaborations{where} "
        "ORDER BY agent, other, task_type",
        params,
    ):
        out["collaborations"].append(
            {
                "agent": who,
                "collaborator": other,
                "task_type": task_type,
                "successes": ok,
                "failures": bad,
                "last_at": last,
            }
        )
    mwhere = " WHERE sender = ?" if agent else ""
    for mid, uid, sender, created, mtype, content, meta, broadcast in c.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages{mwhere} "
        "ORDER BY created, id",
        params,
    ).fetchall():
        targets = [
            r[0]
            for r in c.execute(
                "SELECT agent FROM message_targets WHERE message_id = ? ORDER BY agent", (mid,)
            )
        ]
        reads = {
            r[0]: r[1]
            for r in c.execute(
                "SELECT agent, read_at FROM message_reads WHERE message_id = ? ORDER BY agent", (mid,)
            )
        }
        out["messages"].append(
            {
                "uid": uid,
                "from_agent": sender,
                "created_at": iso(created),
                "created": created,
                "type": mtype,
                "content": content,
                "metadata": json.loads(meta),
                "broadcast": bool(broadcast),
                "target_agents": targets,
                "read_by": reads,
            }
        )
    for who, version, data, updated in c.execute(
        f"SELECT agent, version, data, updated FROM agent_state{where} ORDER BY agent", params
    ):
        out["states"].append(
            {"agent": who, "version": version, "state": json.loads(data), "updated": updated}
        )
    return out


def import_memory(store: MemoryStore, data: object) -> dict:
    """Merge an export into `store` in one transaction. Idempotent: records already present (same uid) are
    skipped, collaboration counters take the larger value, a state is taken only if its version is newer."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PerfpackError(
            f'not a perfpack memory export (expected "format": "{FORMAT}")',
            hint="create one with `perfpack memory export`",
        )
    if data.get("format_version") != FORMAT_VERSION:
        raise PerfpackError(
            f"unsupported export format_version {data.get('format_version')!r} "
            f"(this perfpack reads {FORMAT_VERSION})"
        )
    lists = {}
    for key in ("tasks", "insights", "collaborations", "messages", "states"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise PerfpackError(f"export field {key!r} must be a list of objects")
        lists[key] = value
    # Validate and redact everything first, so a bad record aborts the import before anything is written.
    tasks = [task_row(_agent(t), _strip(t), uid=_uid(t), created=_created(t)) for t in lists["tasks"]]
    insights = [
        insight_row(_agent(i), _strip(i), uid=_uid(i), created=_created(i)) for i in lists["insights"]
    ]
    collabs = []
    for item in lists["collaborations"]:
        ok, bad = item.get("successes", 0), item.get("failures", 0)
        if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= _MAX_INT for n in (ok, bad)):
            raise PerfpackError("collaboration successes/failures must be non-negative integers")
        task_type = item.get("task_type", "")
        if not isinstance(task_type, str):
            raise PerfpackError("collaboration task_type must be a string")
        collabs.append(
            (
                check_agent(item.get("agent")),
                check_agent(item.get("collaborator"), what="collaborator"),
                task_type,
                ok,
                bad,
                _number(item.get("last_at", time.time())),
            )
        )
    states = []
    for state in lists["states"]:
        agent = check_agent(state.get("agent"))
        version = state.get("version")
        if not isinstance(state.get("state"), dict) or not isinstance(version, int) \
                or abs(version) > _MAX_INT:
            raise PerfpackError("each exported state needs an object `state` and an integer `version`")
        # As save_my_memory stores it: redacted and within the size limit, whatever file it came from.
        data = _dumps(redact(state["state"]))
        check_size(data, MAX_STATE_BYTES, "memory state")
        states.append((agent, max(1, version), data, _number(state.get("updated", time.time()))))

    def body(c):
        added = {"tasks": 0, "insights": 0, "messages": 0}
        for row in tasks:
            added["tasks"] += store.insert_task_in(c, row, skip_known=True) is not None
        for row in insights:  # an identical insight already stored is merged into it (counted)
            added["insights"] += store.insert_insight_in(c, row, skip_known=True) is not None
        c.executemany(
            "INSERT INTO collaborations (agent, other, task_type, successes, failures, last_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (agent, other, task_type) DO UPDATE SET "
            "successes = max(successes, excluded.successes), failures = max(failures, excluded.failures), "
            "last_at = max(last_at, excluded.last_at)",
            collabs,
        )
        for msg in lists["messages"]:
            added["messages"] += _import_message(store, c, msg)
        c.executemany(
            "INSERT INTO agent_state (agent, version, data, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (agent) DO UPDATE SET version = excluded.version, data = excluded.data, "
            "updated = excluded.updated WHERE excluded.version > agent_state.version",
            states,
        )
        return added

    added = store.transaction(body)
    from perfpack.memory.digest import write_digest

    for agent in sorted({row[1] for row in insights}):
        write_digest(store, agent)
    return {
        "imported": added,
        "skipped": {
            "tasks": len(tasks) - added["tasks"],
            "insights": len(insights) - added["insights"],
            "messages": len(lists["messages"]) - added["messages"],
        },
    }


def _import_message(store: MemoryStore, c, msg: dict) -> int:
    from perfpack.memory.hygiene import MAX_RECORD_BYTES, check_size

    sender = check_agent(msg.get("from_agent"), what="message from_agent")
    uid = _uid(msg)
    mtype, content, meta = msg.get("type"), msg.get("content"), msg.get("metadata", {})
    if not isinstance(mtype, str) or not mtype or not isinstance(content, str) or not isinstance(meta, dict):
        raise PerfpackError("each exported message needs string type and content and an object metadata")
    targets = msg.get("target_agents", [])
    reads = msg.get("read_by", {})
    if not isinstance(targets, list) or not isinstance(reads, dict):
        raise PerfpackError("message target_agents must be a list and read_by an object")
    content, meta_text = str(redact(content)), _dumps(redact(meta))
    check_size(content + meta_text, MAX_RECORD_BYTES, "message")
    new = c.execute(
        "INSERT INTO messages (uid, sender, created, type, content, metadata, broadcast) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uid) DO NOTHING RETURNING id",
        (uid, sender, _created(msg), mtype, content, meta_text, 0 if targets else 1),
    ).fetchone()
    if new is not None:
        store._index(c, "message", new[0])
    mid = c.execute("SELECT id FROM messages WHERE uid = ?", (uid,)).fetchone()[0]
    c.executemany(
        "INSERT OR IGNORE INTO message_targets (message_id, agent) VALUES (?, ?)",
        [(mid, check_agent(t, what="target agent")) for t in targets],
    )
    c.executemany(
        "INSERT OR IGNORE INTO message_reads (message_id, agent, read_at) VALUES (?, ?, ?)",
        [(mid, check_agent(a, what="reader"), _number(at)) for a, at in reads.items()],
    )
    return 1 if new is not None else 0


def compact(
    store: MemoryStore, *, retention_days: float = MESSAGE_RETENTION_DAYS, vacuum: bool = True
) -> dict:
    """Delete messages older than the retention, tidy the search index, checkpoint the WAL and VACUUM."""
    if isinstance(retention_days, bool) or not isinstance(retention_days, (int, float)) or retention_days < 0:
        raise PerfpackError("retention must be a non-negative number of days")
    size_before = _size(store)
    cutoff = time.time() - retention_days * 86400

    def body(c):
        # explicit child deletes: older databases or connections may run without foreign_keys
        c.execute(
            "DELETE FROM message_targets WHERE message_id IN (SELECT id FROM messages WHERE created < ?)",
            (cutoff,),
        )
        c.execute(
            "DELETE FROM message_reads WHERE message_id IN (SELECT id FROM messages WHERE created < ?)",
            (cutoff,),
        )
        gone = [r[0] for r in c.execute("DELETE FROM messages WHERE created < ? RETURNING id", (cutoff,))]
        store._unindex(c, "message", gone)
        return len(gone)

    removed = store.transaction(body)
    if store.search_index_usable():
        store.transaction(lambda c: c.execute("INSERT INTO search_index (search_index) VALUES ('optimize')"))
    if vacuum:
        with store._gated():  # a write like any other: checkpoints wait for it
            store.c.execute("VACUUM")
    store.checkpoint(wait=True)
    return {
        "messages_removed": removed,
        "retention_days": retention_days,
        "bytes_before": size_before,
        "bytes_after": _size(store),
        **store.counts(),
    }


def to_markdown(export: dict) -> str:
    """A readable report of an export, grouped by agent."""
    agents = sorted(
        {t["agent"] for t in export["tasks"]}
        | {i["agent"] for i in export["insights"]}
        | {c["agent"] for c in export["collaborations"]}
        | {m["from_agent"] for m in export["messages"]}
    )
    lines = ["# Agent memory", ""]
    if not agents:
        lines.append("Nothing stored yet.")
    rank = {"high": 3, "medium": 2, "low": 1}
    for agent in agents:
        lines += [f"## {agent}", ""]
        insights = sorted(
            (i for i in export["insights"] if i["agent"] == agent),
            key=lambda i: (-rank[i["impact"]] * i["confidence"], -i["created"]),
        )
        if insights:
            lines += ["### Insights", ""]
            lines += [
                f"- **{i['impact']}** ({i['confidence']:.2f}) {_md(i['area'])}: {_md(i['insight'])}"
                for i in insights
            ]
            lines.append("")
        tasks = [t for t in export["tasks"] if t["agent"] == agent]
        if tasks:
            lines += ["### Tasks", ""]
            lines += [
                f"- {t['created_at']} **{t['outcome']}**: {_md(t['task_description'])}"
                for t in reversed(tasks)
            ]
            lines.append("")
        collabs = [c for c in export["collaborations"] if c["agent"] == agent]
        if collabs:
            lines += [
                "### Collaborations",
                "",
                "| with | task type | successes | failures |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {c['collaborator']} | {_md(c['task_type']) or '-'} | {c['successes']} | {c['failures']} |"
                for c in collabs
            ]
            lines.append("")
        messages = [m for m in export["messages"] if m["from_agent"] == agent]
        if messages:
            lines += ["### Messages sent", ""]
            lines += [
                f"- {m['created_at']} [{_md(m['type'])}] to "
                f"{', '.join(m['target_agents']) or 'all agents'}: {_md(m['content'])}"
                for m in messages
            ]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _strip(item: dict) -> dict:
    return {k: v for k, v in item.items() if k not in ("uid", "agent", "created", "created_at")}


def _agent(item: dict) -> str:
    return check_agent(item.get("agent"))


def _uid(item: dict) -> str:
    uid = item.get("uid")
    if not isinstance(uid, str) or not 8 <= len(uid) <= 64 or not uid.isalnum():
        raise PerfpackError(f"exported record has an invalid uid: {uid!r}")
    return uid


def _created(item: dict) -> float:
    if "created" in item:
        return _number(item["created"])
    text = item.get("created_at")
    try:
        return float(calendar.timegm(time.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ")))
    except (TypeError, ValueError):
        raise PerfpackError(f"exported record has an invalid created_at: {text!r}") from None


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PerfpackError(f"expected a number (unix time), not {value!r}")
    return float(value)


def _size(store: MemoryStore) -> int:
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += store.path.with_name(store.path.name + suffix).stat().st_size
        except OSError:
            pass
    return total


__all__ = ["compact", "export_memory", "import_memory", "to_markdown"]
