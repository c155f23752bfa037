"""Memory records: validated, redacted rows going in, plain dicts coming out."""

from __future__ import annotations

import os
import time

from perfpack import fastjson
from perfpack.errors import PerfpackError
from perfpack.memory.hygiene import MAX_RECORD_BYTES, check_agent, check_size
from perfpack.memory.schema import normalise
from perfpack.redact import redact

OUTCOMES = ("success", "partial", "failure")
IMPACTS = ("low", "medium", "high")
TASK_COLUMNS = "id, uid, agent, created, description, outcome, data"
INSIGHT_COLUMNS = "id, uid, agent, created, area, insight, impact, confidence, data, count, last_seen"
MESSAGE_COLUMNS = "id, uid, sender, created, type, content, metadata, broadcast"
# insight_row()'s values, in this order:
INSIGHT_INSERT = (
    "INSERT INTO insights (uid, agent, created, area, insight, impact, confidence, data, norm, last_seen) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def dumps(value: object) -> str:
    return fastjson.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def task_row(agent: str, task: object, *, uid: str | None = None, created: float | None = None) -> tuple:
    """Validated, redacted values for one tasks row (raises PerfpackError naming the problem)."""
    check_agent(agent)
    if not isinstance(task, dict):
        raise PerfpackError("a task must be a JSON object with task_description and outcome")
    task = dict(task)
    description = task.pop("task_description", None)
    if description is None:
        description = task.pop("description", None)
    if not isinstance(description, str) or not description.strip():
        raise PerfpackError("task_description must be a non-empty string")
    outcome = task.pop("outcome", None)
    if outcome not in OUTCOMES:
        raise PerfpackError(f"task outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    for key in ("id", "uid", "agent", "created_at", "kind"):
        task.pop(key, None)
    for key in ("key_insights", "delegations"):
        if key in task and not isinstance(task[key], list):
            raise PerfpackError(f"task {key} must be a list")
    for item in task.get("delegations", []):
        if not isinstance(item, dict):
            raise PerfpackError("each delegation must be an object like {to_agent, reason, outcome}")
        if "to_agent" in item:
            check_agent(item["to_agent"], what="delegation to_agent")
    description = str(redact(description))
    data = dumps(redact(task))
    check_size(description + data, MAX_RECORD_BYTES, "task record")
    return (uid or os.urandom(16).hex(), agent, created or time.time(), description, outcome, data)


def insight_row(
    agent: str, insight: object, *, uid: str | None = None, created: float | None = None
) -> tuple:
    check_agent(agent)
    if not isinstance(insight, dict):
        raise PerfpackError("an insight must be a JSON object with insight, impact and confidence")
    insight = dict(insight)
    text = insight.pop("insight", None)
    if not isinstance(text, str) or not text.strip():
        raise PerfpackError("insight must be a non-empty string")
    area = insight.pop("area", "general")
    if not isinstance(area, str) or not area.strip() or len(area) > 100:
        raise PerfpackError("insight area must be a non-empty string of at most 100 characters")
    impact = insight.pop("impact", None)
    if impact not in IMPACTS:
        raise PerfpackError(f"insight impact must be one of {', '.join(IMPACTS)}, not {impact!r}")
    confidence = insight.pop("confidence", 0.5)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise PerfpackError(f"insight confidence must be a number from 0 to 1, not {confidence!r}")
    for key in ("id", "uid", "agent", "created_at", "kind"):
        insight.pop(key, None)
    text, area = str(redact(text)), normalise(str(redact(area)))
    data = dumps(redact(insight))
    check_size(text + area + data, MAX_RECORD_BYTES, "insight record")
    created = created or time.time()
    return (
        uid or os.urandom(16).hex(),
        agent,
        created,
        area,
        text,
        impact,
        float(confidence),
        data,
        normalise(text),
        created,
    )


def task_dict(row: tuple) -> dict:
    rid, uid, agent, created, description, outcome, data = row
    return {
        "id": rid,
        "uid": uid,
        "agent": agent,
        "created_at": iso(created),
        "task_description": description,
        "outcome": outcome,
        **fastjson.loads(data),
    }


def insight_dict(row: tuple) -> dict:
    rid, uid, agent, created, area, text, impact, confidence, data, count, last_seen = row
    out = {
        "id": rid,
        "uid": uid,
        "agent": agent,
        "created_at": iso(created),
        "area": area,
        "insight": text,
        "impact": impact,
        "confidence": confidence,
        **fastjson.loads(data),
    }
    if count > 1:  # merged repeats: how often it was recorded, and when last
        out["count"] = count
        out["last_seen"] = iso(last_seen)
    return out


def message_dict(row: tuple) -> dict:
    rid, uid, sender, created, mtype, content, metadata, broadcast = row
    return {
        "id": rid,
        "uid": uid,
        "from_agent": sender,
        "created_at": iso(created),
        "type": mtype,
        "content": content,
        "metadata": fastjson.loads(metadata),
        "broadcast": bool(broadcast),
    }
