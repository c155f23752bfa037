"""The handlers of `perfpack memory COMMAND`: one plain function per command, taking the parsed Args and
returning what to print (a JSON-able value, or text for Markdown exports)."""

from __future__ import annotations

import os
import sys

from perfpack.errors import PerfpackError
from perfpack.memory import api
from perfpack.memory.args import Args

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def inside_project(path: str, what: str) -> str:
    """`path` (absolute or relative to the working folder) if it stays inside the project and its last part
    is not a symbolic link; else a PerfpackError. /optimize pre-approves `perfpack memory`, so an agent's
    --db or --out must not reach files elsewhere."""
    from perfpack.project import find_project_root_str

    root = os.path.realpath(find_project_root_str())
    full = os.path.abspath(path)
    folder = os.path.realpath(os.path.dirname(full))
    if folder != root and not folder.startswith(root.rstrip(os.sep) + os.sep):
        raise PerfpackError(
            f"{what} {path}: outside the project ({root})",
            hint="memory files stay inside the project; leave --out out to print the export, and redirect it"
            if what == "--out" else
            "memory files stay inside the project; set PERFPACK_MEMORY_DB for a database elsewhere",
        )
    target = os.path.join(folder, os.path.basename(full))
    if os.path.islink(target):
        raise PerfpackError(f"{what} {path}: is a symbolic link; perfpack does not follow it here")
    return target


def _db(a: Args) -> str | None:
    if a.db is not None:
        return inside_project(a.db, "--db")
    if not os.environ.get("PERFPACK_MEMORY_DB"):
        # The default too: a repository can commit .claude/memory as a link to a folder elsewhere.
        from perfpack.memory.database import default_db_str

        inside_project(default_db_str(), "memory database")
    return None


def _agent(a: Args) -> str:
    return a.positionals[0]


def _json_arg(a: Args) -> object:
    from perfpack.memory.hygiene import MAX_INPUT_BYTES

    source = a.positionals[1] if len(a.positionals) > 1 else "-"
    if source == "-":
        return _parse_json(_read_stdin(MAX_INPUT_BYTES, a.command), "stdin")
    raw = source.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_INPUT_BYTES:
        raise PerfpackError(f"JSON argument is larger than {MAX_INPUT_BYTES} bytes")
    return _parse_json(raw, "the JSON argument")


def _json_object(a: Args) -> dict:
    data = _json_arg(a)
    if not isinstance(data, dict):
        raise PerfpackError(f"`memory {a.command}` expects a JSON object, not {type(data).__name__}")
    return data


def _read_stdin(limit: int, command: str) -> bytes:
    stream = sys.stdin
    if stream is None or stream.isatty():
        raise PerfpackError(f"`memory {command}` needs JSON: pass it as an argument or pipe it on stdin")
    raw = stream.buffer.read(limit + 1)
    if len(raw) > limit:
        raise PerfpackError(f"input on stdin is larger than {limit} bytes")
    return raw


def _parse_json(raw: bytes, where: str) -> object:
    from perfpack import fastjson

    if not raw.strip():
        raise PerfpackError(f"{where} is empty: expected JSON")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PerfpackError(f"{where} is not UTF-8 (byte {exc.start})") from None
    try:
        return fastjson.loads(text)
    except ValueError as exc:  # json.JSONDecodeError, or nesting too deep
        line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        at = f" at line {line} column {col}" if line is not None else ""
        raise PerfpackError(f"{where} is not valid JSON: {getattr(exc, 'msg', exc)}{at}") from None


# -- the commands ------------------------------------------------------------------------------------------
def task(a: Args) -> object:
    with api.AgentMemoryManager(_db(a)) as manager:
        return manager.add_task_to_history(_agent(a), _json_object(a))


def insight(a: Args) -> object:
    with api.AgentMemoryManager(_db(a)) as manager:
        return manager.add_optimization_insight(_agent(a), _json_object(a))


def message(a: Args) -> object:
    data = _json_object(a)
    unknown = set(data) - {"type", "content", "target_agents", "metadata"}
    if unknown:
        raise PerfpackError(
            f"unknown message field(s): {', '.join(sorted(unknown))}",
            hint="fields: type, content, target_agents, metadata",
        )
    with api.AgentMemoryManager(_db(a)) as manager:
        return manager.send_message(
            _agent(a), data.get("type", "note"), data.get("content"),  # type: ignore[arg-type]
            data.get("target_agents"), data.get("metadata"),
        )


def save(a: Args) -> object:
    return api.save_my_memory(_agent(a), _json_arg(a), db=_db(a))  # type: ignore[arg-type]


def collab(a: Args) -> object:
    if a.success == a.failure:
        raise PerfpackError("`memory collab` needs exactly one of --success or --failure")
    with api.AgentMemoryManager(_db(a)) as manager:
        agent, other = a.positionals
        return manager.update_collaboration_pattern(agent, other, a.success, a.task_type)


def unread(a: Args) -> object:
    with api.AgentMemoryManager(_db(a)) as manager:
        return manager.get_unread_messages(_agent(a), mark_read=not a.peek, limit=a.limit or 50)


def search(a: Args) -> object:
    if a.no_fts:
        os.environ["PERFPACK_MEMORY_NO_FTS"] = "1"
    with api.AgentMemoryManager(_db(a)) as manager:
        return manager.search(" ".join(a.positionals), agent=a.agent, kind=a.kind, limit=a.limit or 20)


def load(a: Args) -> object:
    return api.load_my_memory(_agent(a), db=_db(a), budget=a.budget or api.DEFAULT_BUDGET)


def shared(a: Args) -> object:
    return api.load_shared_context(db=_db(a), budget=a.budget or api.DEFAULT_BUDGET)


def forget(a: Args) -> object:
    ids = []
    for item in a.positionals:
        if not item.isdigit():
            raise PerfpackError(f"record id {item!r} is not a whole number",
                                hint="ids as `load` and `search` show them")
        ids.append(int(item))
    return api.forget(ids, match=a.match, agent=a.agent, kind=a.kind or "insight", apply=a.yes, db=_db(a))


def check(a: Args) -> object:
    from perfpack.memory.check import check_database

    db = _db(a) or api._resolve_db(None, None)
    return check_database(db, repair=a.repair)


def info(a: Args) -> object:
    return api.memory_status(db=_db(a))


def export(a: Args) -> object:
    from perfpack.memory import transfer

    if a.agent is not None:
        from perfpack.memory.hygiene import check_agent

        check_agent(a.agent)
    out = inside_project(a.out, "--out") if a.out is not None else None
    if out is not None and os.path.lexists(out) and not a.force:
        raise PerfpackError(f"--out {a.out}: already exists; nothing was written",
                            hint="add --force to replace it, or choose another name")
    store = api.open_store(_db(a), create=False)
    try:
        data = transfer.export_memory(store, a.agent)
    finally:
        if store is not None:
            store.close()
    import json  # a whole store: the json module's C encoder is faster than fastjson.dumps

    text = (
        transfer.to_markdown(data)
        if a.format in ("markdown", "text")
        else json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    )
    if out is None:
        return text
    from perfpack.fsutil import atomic_write_text

    try:
        atomic_write_text(out, text)
    except OSError as exc:
        import errno

        why = {errno.ENOSPC: "the disk is full", errno.EROFS: "read-only file system"}.get(
            exc.errno or 0, exc.strerror or str(exc))
        raise PerfpackError(f"--out {a.out}: cannot write ({why}); nothing was written") from None
    return {"exported": out, **{k: len(data[k]) for k in ("tasks", "insights", "messages")}}


def import_(a: Args) -> object:
    from perfpack.memory import transfer
    from perfpack.memory.hygiene import MAX_IMPORT_BYTES

    source = a.positionals[0] if a.positionals else "-"
    if source == "-":
        raw = _read_stdin(MAX_IMPORT_BYTES, a.command)
    else:
        from perfpack.safeio import read_user_bytes

        try:
            raw = read_user_bytes(source, what="export file", max_bytes=MAX_IMPORT_BYTES)
        except FileNotFoundError:
            raise PerfpackError(f"{source}: cannot read: no such file") from None
    data = _parse_json(raw, source if source != "-" else "stdin")
    with api.AgentMemoryManager(_db(a)) as manager:
        return transfer.import_memory(manager.store, data)


def compact(a: Args) -> object:
    from perfpack.memory import transfer

    with api.AgentMemoryManager(_db(a)) as manager:
        return transfer.compact(manager.store, retention_days=a.retention_days, vacuum=not a.no_vacuum)


HANDLERS: dict[str, Callable[[Args], object]] = {
    "task": task, "insight": insight, "collab": collab, "message": message, "unread": unread,
    "search": search, "load": load, "shared": shared, "save": save, "forget": forget, "check": check,
    "info": info, "export": export, "import": import_, "compact": compact,
}
