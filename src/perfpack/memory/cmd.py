"""`perfpack memory ...`: parse (args.py), run the command's handler (handlers.py), print the result.

It is a fast path (perfpack.cli.FAST_PATHS): an agent calls it per action, so a write imports only
sqlite3 and perfpack's own small modules (no click, json, re, enum or typing). JSON (or --format text)
out; errors are one line on stderr with exit code 2 (perfpack.exitcodes).
"""

from __future__ import annotations

import sys

from perfpack.errors import PerfpackError
from perfpack.exitcodes import ExitCode
from perfpack.memory.args import HelpRequest, parse


def main(argv: list[str], *, ends_process: bool = False) -> int:
    """Run `perfpack memory ARGV`; returns the exit code (PerfpackError propagates to perfpack.cli).

    `ends_process`: the process ends with os._exit after this (perfpack.cli.run), so the database is
    left to the process's end instead of closed (MemoryStore.leave_open_at_exit).
    """
    parsed = parse(argv)
    if isinstance(parsed, HelpRequest):
        if parsed.to_stderr:
            sys.stderr.write(parsed.text)
            return ExitCode.USAGE
        return _print(parsed.text)
    from perfpack.memory.database import database_error, default_db_str, sqlite3
    from perfpack.memory.handlers import HANDLERS
    from perfpack.memory.store import MemoryStore

    if ends_process:
        MemoryStore.leave_open_at_exit()
    try:
        result = HANDLERS[parsed.command](parsed)
    except (sqlite3.Error, OSError) as exc:
        # Full disk, read-only, locked or damaged: each said as such in one line, never a traceback.
        path = parsed.db or default_db_str()
        raise database_error(path, exc, writing=parsed.command not in _READS) from None
    code = ExitCode.OK
    if isinstance(result, dict) and result.get("problems_left"):
        code = ExitCode.FINDINGS  # `check` found damage it did not (or could not) repair
    if isinstance(result, str):
        _print(result)
    elif parsed.format == "text":
        _print(_as_text(result))
    else:
        from perfpack import fastjson

        _print(fastjson.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return code


_READS = ("unread", "search", "load", "shared", "export", "info", "check")


# -- output ------------------------------------------------------------------------------------------------
def _print(text: str) -> int:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
    return ExitCode.OK


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
    from perfpack import fastjson
    from perfpack.terminal import one_line

    if isinstance(value, (dict, list)):
        return one_line(fastjson.dumps(value, ensure_ascii=False))
    return one_line(" ".join(str(value).split()))


__all__ = ["main", "PerfpackError"]
