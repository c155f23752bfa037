"""The bounded MEMORY.md digest of an agent's top insights, for Claude Code's own agent memory folder."""

from __future__ import annotations

import os
from pathlib import Path

from perfpack.memory.store import MemoryStore

MAX_LINES = 200  # Claude Code loads the first 200 lines of MEMORY.md
MAX_INSIGHTS = 40
MAX_TASKS = 5
MAX_LINE_CHARS = 300


def digest_dir(db_path: Path) -> Path | None:
    """ROOT/.claude/agent-memory for the project database; $PERFPACK_AGENT_MEMORY_DIR; else None (no digest)."""
    env = os.environ.get("PERFPACK_AGENT_MEMORY_DIR")
    if env:
        return Path(env)
    if db_path.parent.name == "memory" and db_path.parent.parent.name == ".claude":
        return db_path.parent.parent / "agent-memory"
    return None


def render(store: MemoryStore, agent: str) -> str:
    lines = [
        f"# What {agent} has learned (perfpack memory)",
        "",
        "<!-- Written by `perfpack memory` after each insight; edits here are overwritten. -->",
        (
            f"Top insights, highest impact x confidence first. More: `perfpack memory load {agent}`, "
            "`perfpack memory search WORDS`."
        ),
        "",
    ]
    insights = store.top_insights(agent, MAX_INSIGHTS)
    for item in insights:
        lines.append(
            _one_line(f"- [{item['impact']}, {item['confidence']:.2f}] {item['area']}: {item['insight']}")
        )
    if not insights:
        lines.append("- (no insights yet)")
    tasks = store.recent_tasks(agent, MAX_TASKS)
    if tasks:
        lines += ["", "## Recent tasks", ""]
        lines += [
            _one_line(f"- {t['created_at'][:10]} {t['outcome']}: {t['task_description']}") for t in tasks
        ]
    return "\n".join(lines[:MAX_LINES]) + "\n"


def write_digest(store: MemoryStore, agent: str) -> Path | None:
    """Rewrite ROOT/.claude/agent-memory/AGENT/MEMORY.md if its content changed; None when there is no folder.

    A file lock serialises the query and the write, so the last writer always writes the latest state.
    """
    folder = digest_dir(store.path)
    if folder is None:
        return None
    import fcntl

    target = folder / agent / "MEMORY.md"
    lock_path = store.path.parent / f".digest-{agent}.lock"  # per agent: writers of other agents never wait
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = render(store, agent)
        try:
            if target.read_text(encoding="utf-8") == text:
                return target
        except (OSError, UnicodeDecodeError):
            pass
        from perfpack.fsutil import atomic_write_text

        # no fsync: the digest is derived from the database and rewritten on the next insight
        atomic_write_text(target, text, fsync=False)
    return target


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LINE_CHARS else text[: MAX_LINE_CHARS - 3] + "..."
