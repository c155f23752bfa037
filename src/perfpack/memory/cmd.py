"""`perfpack memory ...`: the one implementation of the memory subcommands, parsed without click.

It is a fast path (perfpack.cli.FAST_PATHS): an agent calls it per action, so start-up imports only
sqlite3 and perfpack.fastjson (not json: it imports re). Arguments in, JSON (or --format text) out; errors are one line and exit 2.
"""

from __future__ import annotations

import sys

from perfpack import fastjson
from perfpack.errors import PerfpackError

GLOBAL_OPTIONS = {"--db": "path", "--format": "text|json"}

# name -> (usage, summary, description, options {flag: kind}); kind: "flag", "int", "float", "str" or "a|b|c"
SUBCOMMANDS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "task": (
        "AGENT [JSON | -]",
        "Record a finished task of AGENT.",
        (
            'JSON: {"task_description": "...", "outcome": "success|partial|failure", "key_insights": [...], '
            '"delegations": [{"to_agent": "...", "reason": "...", "outcome": "..."}]}'
        ),
        {},
    ),
    "insight": (
        "AGENT [JSON | -]",
        "Record an optimization insight of AGENT (refreshes its MEMORY.md digest).",
        'JSON: {"area": "caching", "insight": "...", "impact": "low|medium|high", "confidence": 0.9}',
        {},
    ),
    "collab": (
        "AGENT COLLABORATOR (--success | --failure) [--task-type TYPE]",
        "Count one success or failure of AGENT working with COLLABORATOR.",
        "Counters are incremented in SQL, so parallel agents never lose a count.",
        {"--success": "flag", "--failure": "flag", "--task-type": "str"},
    ),
    "message": (
        "AGENT [JSON | -]",
        "Send a message from AGENT to other agents.",
        'JSON: {"type": "insight", "content": "...", "target_agents": [] (= broadcast), "metadata": {}}',
        {},
    ),
    "unread": (
        "AGENT [--peek] [--limit N]",
        "Messages for AGENT it has not read yet (marks them read).",
        "--peek leaves them unread.",
        {"--peek": "flag", "--limit": "int"},
    ),
    "search": (
        "QUERY... [--agent AGENT] [--kind task|insight|message] [--limit N] [--no-fts]",
        "Find tasks, insights and messages containing every word of QUERY.",
        "Uses SQLite FTS5 when the build has it, a LIKE scan otherwise (--no-fts forces that).",
        {"--agent": "str", "--kind": "task|insight|message", "--limit": "int", "--no-fts": "flag"},
    ),
    "load": (
        "AGENT [--budget BYTES]",
        "AGENT's recent tasks, best insights, collaborators and saved state.",
        (
            "At most BUDGET bytes of JSON (default 4096): the most recent and most valuable entries, never "
            "the whole store. Pass the object (changed) to `save`."
        ),
        {"--budget": "int"},
    ),
    "shared": (
        "[--budget BYTES]",
        "Context shared by all agents: broadcasts, top insights, collaborations.",
        "At most BUDGET bytes of JSON (default 4096).",
        {"--budget": "int"},
    ),
    "save": (
        "AGENT [JSON | -]",
        "Save the object `load` returned: its state and entries without an id.",
        "Refused (exit 2, nothing written) if another process saved a newer version since the load.",
        {},
    ),
    "export": (
        "[--agent AGENT] [--format json|markdown] [--out FILE]",
        "Export the memory as JSON or Markdown.",
        "The JSON export round-trips through `import`.",
        {"--agent": "str", "--format": "json|markdown|text", "--out": "str"},
    ),
    "import": (
        "[FILE | -]",
        "Merge a JSON export into the memory (idempotent: known records are skipped).",
        "Reads FILE, or stdin when FILE is - or missing.",
        {},
    ),
    "compact": (
        "[--retention-days DAYS] [--no-vacuum]",
        "Delete messages older than the retention (default 30 days), tidy the index, VACUUM.",
        "",
        {"--retention-days": "float", "--no-vacuum": "flag"},
    ),
}

TOP_HELP = """Usage: perfpack memory [--db PATH] [--format json|text] COMMAND [ARGS]...

  Agent memory that survives sessions and parallel subagents: task history, optimization
  insights, collaboration counters and messages between agents, in one SQLite (WAL) database
  at ROOT/.claude/memory/memory.db ($PERFPACK_MEMORY_DB or --db to use another file).
  JSON in (an argument, or stdin when it is - or missing) and JSON out (--format text for people).

Options:
  --db PATH             memory database (default: ROOT/.claude/memory/memory.db)
  --format json|text    output format (default: json)
  -h, --help            show this message

Commands:
{commands}

Exit codes: 0 done, 2 bad input or an unusable database (one line on stderr; nothing written).
"""


def main(argv: list[str], *, ends_process: bool = False) -> int:
    """Run `perfpack memory ARGV`; returns the exit code (PerfpackError propagates to perfpack.cli).

    `ends_process`: the process ends with os._exit after this (perfpack.cli.run), so the database is
    left to the process's end instead of closed (MemoryStore.leave_open_at_exit).
    """
    args = list(argv)
    _check_args(args)
    common: dict[str, object] = {}
    while args and args[0].startswith("-") and args[0] != "-":
        if args[0] in ("-h", "--help"):
            return _print(TOP_HELP.format(commands=_command_rows()))
        name, value = _take_option(args, GLOBAL_OPTIONS, "perfpack memory")
        common[name] = value
    if not args:
        sys.stderr.write(TOP_HELP.format(commands=_command_rows()))
        return 2
    command = args.pop(0)
    if command not in SUBCOMMANDS:
        raise PerfpackError(f"unknown memory command {command!r}", hint=f"one of: {', '.join(SUBCOMMANDS)}")
    options = SUBCOMMANDS[command][3]
    head = args[: args.index("--")] if "--" in args else args
    if "-h" in head or "--help" in head:
        return _print(_sub_help(command))
    opts: dict[str, object] = dict(common)
    positionals: list[str] = []
    allowed = {**GLOBAL_OPTIONS, **options}
    while args:
        arg = args[0]
        if arg == "--":
            positionals += args[1:]
            break
        if arg.startswith("-") and arg != "-" and not _is_number(arg):
            name, value = _take_option(args, allowed, f"perfpack memory {command}")
            opts[name] = value
        else:
            positionals.append(args.pop(0))
    fmt = opts.get("--format", "json")
    if command != "export" and fmt not in ("json", "text"):
        raise PerfpackError(f"--format must be json or text for `memory {command}`, not {fmt!r}")
    from perfpack.memory.store import MemoryStore, default_db_str, sqlite3

    if ends_process:
        MemoryStore.leave_open_at_exit()
    try:
        result = _dispatch(command, positionals, opts)
    except sqlite3.DatabaseError as exc:
        # A valid header over damaged pages only fails at the first query: one line, never a traceback.
        path = opts.get("--db") or default_db_str()
        raise PerfpackError(
            f"{path}: the memory database is damaged ({exc}); nothing was written",
            hint="move the file away to start a new memory, or recover it with `sqlite3 FILE .recover`",
        ) from None
    if isinstance(result, str):
        return _print(result)
    if fmt == "text":
        return _print(_as_text(result))
    return _print(fastjson.dumps(result, ensure_ascii=False, indent=2) + "\n")


def _dispatch(command: str, pos: list[str], opts: dict[str, object]) -> object:
    from perfpack.memory import api

    db = opts.get("--db")
    if command in ("task", "insight", "message", "save"):
        agent = _one(pos, command, "AGENT", extra=1)
        data = _json_input(pos[1] if len(pos) > 1 else None, command)
        if command == "save":
            return api.save_my_memory(agent, data, db=db)
        if not isinstance(data, dict):
            raise PerfpackError(f"`memory {command}` expects a JSON object, not {type(data).__name__}")
        with api.AgentMemoryManager(db) as manager:
            if command == "task":
                return manager.add_task_to_history(agent, data)
            if command == "insight":
                return manager.add_optimization_insight(agent, data)
            unknown = set(data) - {"type", "content", "target_agents", "metadata"}
            if unknown:
                raise PerfpackError(
                    f"unknown message field(s): {', '.join(sorted(unknown))}",
                    hint="fields: type, content, target_agents, metadata",
                )
            return manager.send_message(
                agent,
                data.get("type", "note"),
                data.get("content"),
                data.get("target_agents"),
                data.get("metadata"),
            )
    if command == "collab":
        if len(pos) != 2:
            raise PerfpackError(
                "`memory collab` needs AGENT and COLLABORATOR",
                hint="perfpack memory collab performance-engineer database-specialist --success",
            )
        if bool(opts.get("--success")) == bool(opts.get("--failure")):
            raise PerfpackError("`memory collab` needs exactly one of --success or --failure")
        with api.AgentMemoryManager(db) as manager:
            return manager.update_collaboration_pattern(
                pos[0], pos[1], bool(opts.get("--success")), str(opts.get("--task-type", ""))
            )
    if command == "unread":
        agent = _one(pos, command, "AGENT")
        with api.AgentMemoryManager(db) as manager:
            return manager.get_unread_messages(
                agent, mark_read=not opts.get("--peek"), limit=_positive(opts.get("--limit", 50), "--limit")
            )
    if command == "search":
        if not pos:
            raise PerfpackError(
                "`memory search` needs a QUERY", hint='perfpack memory search "connection pool"'
            )
        import os

        if opts.get("--no-fts"):
            os.environ["PERFPACK_MEMORY_NO_FTS"] = "1"
        return api.AgentMemoryManager(db).search(
            " ".join(pos),
            agent=opts.get("--agent"),
            kind=opts.get("--kind"),
            limit=_positive(opts.get("--limit", 20), "--limit"),
        )
    if command == "load":
        return api.load_my_memory(
            _one(pos, command, "AGENT"), db=db, budget=opts.get("--budget", api.DEFAULT_BUDGET)
        )
    if command == "shared":
        _none(pos, command)
        return api.load_shared_context(db=db, budget=opts.get("--budget", api.DEFAULT_BUDGET))
    from perfpack.memory import transfer

    if command == "export":
        _none(pos, command)
        agent = opts.get("--agent")
        if agent is not None:
            from perfpack.memory.hygiene import check_agent

            check_agent(agent)
        store = api.open_store(db, create=False)
        try:
            data = transfer.export_memory(store, agent)
        finally:
            if store is not None:
                store.close()
        fmt = opts.get("--format", "json")
        import json  # a whole store: the json module's C encoder is faster than fastjson.dumps

        text = (
            transfer.to_markdown(data)
            if fmt in ("markdown", "text")
            else json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        )
        out = opts.get("--out")
        if out:
            from perfpack.fsutil import atomic_write_text

            atomic_write_text(str(out), text)
            return {"exported": str(out), **{k: len(data[k]) for k in ("tasks", "insights", "messages")}}
        return text
    if command == "import":
        from perfpack.memory.hygiene import MAX_IMPORT_BYTES

        if len(pos) > 1:
            raise PerfpackError("`memory import` takes at most one FILE")
        source = pos[0] if pos else "-"
        if source == "-":
            raw = _read_stdin(MAX_IMPORT_BYTES, command)
        else:
            try:
                with open(source, "rb") as handle:
                    raw = handle.read(MAX_IMPORT_BYTES + 1)
            except OSError as exc:
                raise PerfpackError(f"{source}: cannot read: {exc.strerror}") from None
            if len(raw) > MAX_IMPORT_BYTES:
                raise PerfpackError(f"{source}: larger than {MAX_IMPORT_BYTES} bytes")
        data = _parse_json(raw, source if source != "-" else "stdin")
        with api.AgentMemoryManager(db) as manager:
            return transfer.import_memory(manager.store, data)
    # compact
    _none(pos, command)
    with api.AgentMemoryManager(db) as manager:
        return transfer.compact(
            manager.store,
            retention_days=opts.get("--retention-days", 30.0),
            vacuum=not opts.get("--no-vacuum"),
        )


# -- input -------------------------------------------------------------------------------------------------
def _json_input(arg: str | None, command: str) -> object:
    from perfpack.memory.hygiene import MAX_INPUT_BYTES

    if arg is None or arg == "-":
        return _parse_json(_read_stdin(MAX_INPUT_BYTES, command), "stdin")
    raw = arg.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_INPUT_BYTES:
        raise PerfpackError(f"JSON argument is larger than {MAX_INPUT_BYTES} bytes")
    return _parse_json(raw, "the JSON argument")


def _read_stdin(limit: int, command: str) -> bytes:
    stream = sys.stdin
    if stream is None or stream.isatty():
        raise PerfpackError(f"`memory {command}` needs JSON: pass it as an argument or pipe it on stdin")
    raw = stream.buffer.read(limit + 1)
    if len(raw) > limit:
        raise PerfpackError(f"input on stdin is larger than {limit} bytes")
    return raw


def _parse_json(raw: bytes, where: str) -> object:
    if not raw.strip():
        raise PerfpackError(f"{where} is empty: expected JSON")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PerfpackError(f"{where} is not UTF-8 (byte {exc.start})") from None
    try:
        return fastjson.loads(text)
    except ValueError as exc:  # json.JSONDecodeError, or nesting too deep
        at = f" at line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else ""
        raise PerfpackError(f"{where} is not valid JSON: {getattr(exc, 'msg', exc)}{at}") from None


def _check_args(args: list[str]) -> None:
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise PerfpackError("an argument is not valid UTF-8") from None


def _take_option(args: list[str], allowed: dict[str, str], where: str) -> tuple[str, object]:
    arg = args.pop(0)
    name, eq, inline = arg.partition("=")
    if name not in allowed:
        raise PerfpackError(f"unknown option {name} for `{where}`", hint=f"see `{where} --help`")
    kind = allowed[name]
    if kind == "flag":
        if eq:
            raise PerfpackError(f"option {name} takes no value")
        return name, True
    if eq:
        value = inline
    elif args:
        value = args.pop(0)
    else:
        raise PerfpackError(f"option {name} needs a value")
    if kind == "int":
        try:
            return name, int(value)
        except ValueError:
            raise PerfpackError(f"option {name} needs a whole number, not {value!r}") from None
    if kind == "float":
        try:
            return name, float(value)
        except ValueError:
            raise PerfpackError(f"option {name} needs a number, not {value!r}") from None
    if "|" in kind and kind != "path" and value not in kind.split("|"):
        raise PerfpackError(f"option {name} must be one of {kind.replace('|', ', ')}, not {value!r}")
    return name, value


def _one(pos: list[str], command: str, what: str, extra: int = 0) -> str:
    if not pos or len(pos) > 1 + extra:
        raise PerfpackError(
            f"`memory {command}` needs {what}" if not pos else f"`memory {command}`: too many arguments",
            hint=f"usage: perfpack memory {command} {SUBCOMMANDS[command][0]}",
        )
    return pos[0]


def _none(pos: list[str], command: str) -> None:
    if pos:
        raise PerfpackError(
            f"`memory {command}` takes no arguments (got {pos[0]!r})",
            hint=f"usage: perfpack memory {command} {SUBCOMMANDS[command][0]}",
        )


def _positive(value: object, name: str) -> int:
    if not isinstance(value, int) or value < 1 or value > 10_000:
        raise PerfpackError(f"{name} must be from 1 to 10000")
    return value


def _is_number(arg: str) -> bool:
    try:
        float(arg)
        return True
    except ValueError:
        return False


# -- output ------------------------------------------------------------------------------------------------
def _print(text: str) -> int:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
    return 0


def _command_rows() -> str:
    return "\n".join(f"  {name:<10} {spec[1]}" for name, spec in SUBCOMMANDS.items())


def _sub_help(command: str) -> str:
    usage, summary, description, _options = SUBCOMMANDS[command]
    lines = [f"Usage: perfpack memory [--db PATH] {command} {usage}", "", f"  {summary}"]
    if description:
        lines += ["", f"  {description}"]
    lines += [
        "",
        "Options:",
        "  --db PATH             memory database (default: ROOT/.claude/memory/memory.db)",
        "  --format json|text    output format (default: json)"
        if command != "export"
        else "  --format json|markdown  export format (default: json)",
        "  -h, --help            show this message",
        "",
        "Exit codes: 0 done, 2 bad input or an unusable database (nothing written).",
    ]
    return "\n".join(lines) + "\n"


def _as_text(result: object) -> str:
    if isinstance(result, list):
        if not result:
            return "(nothing)"
        return "\n".join(_line(item) for item in result)
    if isinstance(result, dict):
        out = []
        for key, value in result.items():
            if isinstance(value, list):
                out.append(f"{key}: {len(value)}")
                out += ["  " + _line(item) for item in value]
            elif isinstance(value, dict):
                out.append(f"{key}:")
                out += [f"  {k}: {_scalar(v)}" for k, v in value.items()]
            else:
                out.append(f"{key}: {_scalar(value)}")
        return "\n".join(out)
    return str(result)


def _line(item: object) -> str:
    if not isinstance(item, dict):
        return _scalar(item)
    head = item.get("kind") or ""
    who = item.get("agent") or item.get("from_agent") or ""
    text = (
        item.get("insight")
        or item.get("task_description")
        or item.get("content")
        or item.get("collaborator")
        or ""
    )
    extra = [str(item[k]) for k in ("outcome", "impact", "type") if k in item]
    prefix = " ".join(p for p in (f"#{item['id']}" if "id" in item else "", head, who) if p)
    return f"{prefix} [{', '.join(extra)}] {_scalar(text)}" if extra else f"{prefix} {_scalar(text)}".strip()


def _scalar(value: object) -> str:
    if isinstance(value, (dict, list)):
        return fastjson.dumps(value, ensure_ascii=False)
    return " ".join(str(value).split())
