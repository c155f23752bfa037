"""The agent-facing memory API, with the names the agent prompts use (load_my_memory, save_my_memory, ...)."""

from __future__ import annotations

import os

from perfpack import fastjson
from perfpack.errors import PerfpackError
from perfpack.memory.database import SQLITE_VERSION, database_error, default_db_str
from perfpack.memory.hygiene import check_agent
from perfpack.memory.records import insight_row, task_row
from perfpack.memory.store import MemoryStore

# pathlib (~5 ms: urllib.parse, ipaddress) stays off the per-write path: paths are strings inside and
# become Path only where the public API returns one.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_BUDGET = 4096  # bytes of JSON returned by load_my_memory / load_shared_context
_MAX_TEXT = 400  # long fields are shortened in loaded views (the full text stays stored and searchable)


def resolve_db(db: Path | str | None = None, root: Path | str | None = None) -> Path:
    """An explicit db path, else ROOT/.claude/memory/memory.db ($PERFPACK_MEMORY_DB when no root is given)."""
    from pathlib import Path

    return Path(_resolve_db(db, root))


def _resolve_db(db: Path | str | None, root: Path | str | None) -> str:
    return os.fspath(db) if db is not None else default_db_str(root)


def _open(db: Path | str | None, root: Path | str | None) -> MemoryStore:
    store = MemoryStore.open(_resolve_db(db, root))
    assert store is not None  # create=True never returns None
    return store


def _refresh_digest(store: MemoryStore, agent: str, result: dict) -> None:
    """Rewrite AGENT's MEMORY.md; the record is stored already, so a failure here is reported, not raised."""
    from perfpack.memory.digest import write_digest_str

    try:
        path = write_digest_str(store, agent)
    except OSError as exc:
        result["digest_error"] = database_error(store.file, exc, writing=False).message.replace(
            store.file, "MEMORY.md", 1
        )
        return
    if path is not None:
        result["digest"] = path


def open_store(
    db: Path | str | None = None, root: Path | str | None = None, *, create: bool = True
) -> MemoryStore | None:
    return MemoryStore.open(_resolve_db(db, root), create=create)


class AgentMemoryManager:
    """Memory operations on one database; keeps its connection open between calls (close() or `with`)."""

    def __init__(
        self, db_path: Path | str | None = None, *, root: Path | str | None = None, digest: bool = True
    ) -> None:
        self._db = _resolve_db(db_path, root)
        self.digest = digest
        self._store: MemoryStore | None = None

    @property
    def db_path(self) -> Path:
        from pathlib import Path

        return Path(self._db)

    @property
    def store(self) -> MemoryStore:
        if self._store is None:
            self._store = _open(self._db, None)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __del__(self) -> None:
        # A dropped manager closes its connection now, not whenever the cyclic GC runs (see MemoryStore).
        try:
            self.close()
        except Exception:  # a finaliser must not raise
            pass

    def __enter__(self) -> AgentMemoryManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_task_to_history(self, agent: str, task: dict) -> dict:
        """Record a finished task:
        {task_description, outcome: success|partial|failure, key_insights, delegations}."""
        return self.store.add_task(agent, task)

    def add_optimization_insight(self, agent: str, insight: dict) -> dict:
        """Record an insight: {area, insight, impact: low|medium|high, confidence: 0..1}; refreshes
        MEMORY.md. The same insight again (same agent, area and text) is merged: count and last seen."""
        result = self.store.add_insight(agent, insight)
        if self.digest:
            _refresh_digest(self.store, agent, result)
        return result

    def update_collaboration_pattern(
        self, agent: str, collaborator: str, success: bool = True, task_type: str = ""
    ) -> dict:
        """Count one success or failure of `agent` working with `collaborator` (atomic SQL increment)."""
        return self.store.update_collaboration(agent, collaborator, bool(success), task_type)

    def get_unread_messages(self, agent: str, *, mark_read: bool = True, limit: int = 50) -> list[dict]:
        """Messages broadcast or sent to `agent` that it has not read yet; marks them read unless
        mark_read=False."""
        return self.store.unread_messages(agent, mark_read=mark_read, limit=limit)

    def send_message(
        self,
        from_agent: str,
        message_type: str,
        content: str,
        target_agents: list | None = None,
        metadata: dict | None = None,
    ) -> dict:
        return self.store.send_message(from_agent, message_type, content, target_agents, metadata)

    def search(
        self, query: str, *, agent: str | None = None, kind: str | None = None, limit: int = 20
    ) -> list[dict]:
        if agent is not None:
            check_agent(agent)
        store = MemoryStore.open(self._db, create=False) if self._store is None else self._store
        if store is None:
            return []
        try:
            return store.search(query, agent=agent, kind=kind, limit=limit)
        finally:
            if store is not self._store:
                store.close()


def load_my_memory(
    agent: str, *, budget: int = DEFAULT_BUDGET, db: Path | str | None = None, root: Path | str | None = None
) -> dict:
    """The agent's most recent tasks, most valuable insights, frequent collaborators and saved state,
    within `budget` bytes of JSON (never the whole store). Pass the result back to save_my_memory."""
    check_agent(agent)
    _check_budget(budget)
    memory: dict = {
        "agent": agent,
        "version": 0,
        "state": {},
        "task_history": [],
        "optimization_insights": [],
        "collaboration_patterns": {"frequent_collaborators": []},
        "unread_messages": 0,
        "truncated": False,
    }
    store = open_store(db, root, create=False)
    if store is None:
        return memory
    with store:
        memory["version"], memory["state"] = store.state(agent)
        memory["unread_messages"] = store.unread_count(agent)
        pools = {
            "optimization_insights": store.top_insights(agent, 30),
            "task_history": store.recent_tasks(agent, 30),
        }
        collaborators = store.collaborators(agent, 10)
        for item in collaborators:
            item.pop("agent")
    _fill(memory, pools, budget)
    _fill_collaborators(memory, collaborators, budget)
    return memory


def save_my_memory(
    agent: str, memory: dict, *, db: Path | str | None = None, root: Path | str | None = None
) -> dict:
    """Save what load_my_memory returned: its `state` object (refused if a newer version was saved meanwhile)
    and any task_history / optimization_insights entries without an id (new ones; existing entries are
    kept)."""
    check_agent(agent)
    if not isinstance(memory, dict):
        raise PerfpackError("memory must be a JSON object (as returned by load_my_memory)")
    if memory.get("agent", agent) != agent:
        raise PerfpackError(f"this memory belongs to {memory.get('agent')!r}, not {agent!r}")
    new_tasks = [t for t in _list(memory, "task_history") if not (isinstance(t, dict) and "id" in t)]
    new_insights = [
        i for i in _list(memory, "optimization_insights") if not (isinstance(i, dict) and "id" in i)
    ]
    task_rows = [task_row(agent, t) for t in new_tasks]  # validate everything before writing anything
    insight_rows = [insight_row(agent, i) for i in new_insights]
    state = memory.get("state", {})
    result: dict = {"agent": agent}
    with _open(db, root) as store:

        def body(c):
            version = store.save_state_in(c, agent, state, memory.get("version", 0))
            for row in task_rows:
                store.insert_task_in(c, row)
            merged = sum(store.insert_insight_in(c, row)[1] > 1 for row in insight_rows)
            return version, merged

        result["version"], merged = store.transaction(body)
        result.update(tasks_added=len(task_rows), insights_added=len(insight_rows) - merged)
        if merged:
            result["insights_merged"] = merged
        if insight_rows:
            _refresh_digest(store, agent, result)
    return result


def load_shared_context(
    *, budget: int = DEFAULT_BUDGET, db: Path | str | None = None, root: Path | str | None = None
) -> dict:
    """What all agents share: recent broadcast messages, the top insights of every agent, the agents known and
    their collaborations, within `budget` bytes of JSON."""
    _check_budget(budget)
    context: dict = {
        "agents": [],
        "recent_messages": [],
        "top_insights": [],
        "collaborations": [],
        "truncated": False,
    }
    store = open_store(db, root, create=False)
    if store is None:
        return context
    with store:
        context["agents"] = store.agents()[:20]
        pools = {"top_insights": store.top_insights(None, 30), "recent_messages": store.recent_messages(30)}
        collaborations = store.collaborators(None, 10)
    _fill(context, pools, budget)
    context["collaborations"] = []
    _fill(context, {"collaborations": collaborations}, budget)
    return context


def send_message_to_agents(
    from_agent: str,
    message_type: str,
    content: str,
    target_agents: list | None = None,
    metadata: dict | None = None,
    *,
    db: Path | str | None = None,
    root: Path | str | None = None,
) -> dict:
    """Send a message: target_agents=[] (or None) broadcasts to every agent, else only the named ones
    read it."""
    with _open(db, root) as store:
        return store.send_message(from_agent, message_type, content, target_agents, metadata)


def forget(
    ids: list[int] | None = None,
    *,
    match: str | None = None,
    agent: str | None = None,
    kind: str = "insight",
    apply: bool = False,
    db: Path | str | None = None,
    root: Path | str | None = None,
) -> dict:
    """Remove records of `kind` (insight, task or message) by id, or those containing every word of `match`
    (case-insensitive; with `agent`, only that agent's). A dry run unless apply=True: it lists what would
    go. Applied, the search index and the agents' MEMORY.md follow."""
    if kind not in ("insight", "task", "message"):
        raise PerfpackError(f"unknown kind {kind!r}: use insight, task or message")
    if agent is not None:
        check_agent(agent)
    if (not ids) == (match is None):
        raise PerfpackError("forget needs record ids or --match WORDS (not both)",
                            hint="perfpack memory forget 12 14, or forget --match 'timing probe' --agent A")
    result: dict = {"kind": kind, "applied": bool(apply), "records": []}
    store = MemoryStore.open(_resolve_db(db, root), create=False)
    if store is None:
        return result
    with store:
        if match is not None:
            words = match.split()
            if not words:
                raise PerfpackError("--match needs at least one word")
            ids = [ref for _, ref in store.like_search(words, agent, kind, 10_000)]
        elif agent is not None:
            wanted = set(ids or [])
            ids = [i["id"] for i in store.forget(kind, sorted(wanted), apply=False) if _owner(i) == agent]
        found = store.forget(kind, list(ids or []), apply=apply)
        result["records"] = [_shorten(item) for item in found]
        if apply and kind != "message":
            from perfpack.memory.digest import write_digest_str

            for who in sorted({_owner(item) for item in found}):
                try:
                    write_digest_str(store, who)
                except OSError as exc:
                    result["digest_error"] = str(exc)
    result["count"] = len(result["records"])
    if not apply and result["count"]:
        result["hint"] = "dry run: nothing was removed; add --yes (apply=True) to remove these"
    return result


def _owner(item: dict) -> str:
    return str(item.get("agent") or item.get("from_agent") or "")


def top_insights(root: Path | str, limit: int = 5) -> list[dict]:
    """The most valuable insights of all agents (impact x confidence, then the most recently seen), for
    /optimize's snapshot. Read-only; [] when there is no memory database or it is unusable."""
    try:
        store = MemoryStore.open(default_db_str(root), create=False)
        if store is None:
            return []
        with store:
            return store.top_insights(None, limit)
    except (PerfpackError, OSError):
        return []


def memory_status(root: Path | str | None = None, db: Path | str | None = None) -> dict:
    """What the memory is and runs on: path, SQLite version in use, schema, record counts, search index."""
    path = _resolve_db(db, root)
    status: dict = {"db": path, "sqlite_version": SQLITE_VERSION, "exists": False}
    try:
        store = MemoryStore.open(path, create=False)
    except PerfpackError as exc:
        return {**status, "exists": True, "problem": exc.message}
    if store is None:
        return status
    with store:
        status.update(exists=True, schema=store.schema_version, **store.counts())
        status["search"] = (
            "fts5" if store.search_index_usable() else ("plain (index stale)" if store.has_fts else "plain")
        )
    return status


def recent_insights(root: Path, limit: int = 5) -> list[dict]:
    """The newest insights of all agents (read-only; [] when there is no memory database or it is
    unusable)."""
    try:
        store = MemoryStore.open(default_db_str(root), create=False)
        if store is None:
            return []
        with store:
            return store.recent_insights(limit)
    except (PerfpackError, OSError):
        return []


# -- budget filling -----------------------------------------------------------------------------------------
def _size(value: object) -> int:
    return len(fastjson.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _shorten(item: dict) -> dict:
    out = {}
    for key, value in item.items():
        if key == "uid":
            continue
        if isinstance(value, str) and len(value) > _MAX_TEXT:
            value = value[: _MAX_TEXT - 3] + "..."
        out[key] = value
    return out


def _fill(target: dict, pools: dict[str, list[dict]], budget: int) -> None:
    """Take items from each pool in turn (best first) while the JSON of `target` stays within `budget`."""
    used = _size(target)
    queues = {key: [_shorten(item) for item in items] for key, items in pools.items()}
    while any(queues.values()):
        for key, queue in queues.items():
            if not queue:
                continue
            item = queue.pop(0)
            cost = _size(item) + 1
            if used + cost > budget:
                target["truncated"] = True
                queue.clear()  # keep the order "best first": no smaller, worse item jumps the queue
                continue
            target[key].append(item)
            used += cost


def _fill_collaborators(memory: dict, collaborators: list[dict], budget: int) -> None:
    used = _size(memory)
    for item in collaborators:
        cost = _size(item) + 1
        if used + cost > budget:
            memory["truncated"] = True
            break
        memory["collaboration_patterns"]["frequent_collaborators"].append(item)
        used += cost


def _check_budget(budget: object) -> None:
    if isinstance(budget, bool) or not isinstance(budget, int) or not 512 <= budget <= 1_000_000:
        raise PerfpackError(f"budget must be a whole number of bytes from 512 to 1000000, not {budget!r}")


def _list(memory: dict, key: str) -> list:
    value = memory.get(key, [])
    if not isinstance(value, list):
        raise PerfpackError(f"memory {key} must be a list")
    return value
