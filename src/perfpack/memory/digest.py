"""The bounded MEMORY.md digest of an agent's top insights, for Claude Code's own agent memory folder."""

from __future__ import annotations

import os

from perfpack.memory.database import clean
from perfpack.memory.store import MemoryStore

# No pathlib on the per-insight path (~5 ms): strings inside, Path only in the public return values.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

MAX_LINES = 200  # Claude Code loads the first 200 lines of MEMORY.md
MAX_INSIGHTS = 40
MAX_TASKS = 5
MAX_LINE_CHARS = 300
# The pack's plugin name (.claude-plugin/plugin.json): Claude Code gives a plugin agent the memory folder
# `.claude/agent-memory/<plugin>-<agent>/` (seen on 2.1.197 and 2.1.332), an installed one `<agent>/`.
PLUGIN = "perfpack"


def folder_names(agent: str) -> tuple[str, str]:
    """(installed, plugin) name of AGENT's memory folder (AGENT is kebab-case: `perfpack memory` checks)."""
    return agent, f"{PLUGIN}-{agent}"


def digest_targets(folder: str, agent: str) -> list[str]:
    """Where AGENT's MEMORY.md goes under FOLDER (.claude/agent-memory): every folder Claude Code made for it
    (it creates `<agent>/` or `perfpack-<agent>/` when it first starts the agent, so both routes in one
    project get both), else `<agent>/` (an install's name; the plugin's folder appears at its first start and
    gets the digest from the next insight on)."""
    names = folder_names(agent)
    present = [os.path.join(folder, name) for name in names if os.path.isdir(os.path.join(folder, name))]
    return present or [os.path.join(folder, names[0])]


def _digest_dir(db_file: str) -> str | None:
    """$PERFPACK_AGENT_MEMORY_DIR, else ROOT/.claude/agent-memory for the project database, else None."""
    env = os.environ.get("PERFPACK_AGENT_MEMORY_DIR")
    if env:
        return env
    memory = os.path.dirname(db_file)
    claude = os.path.dirname(memory)
    if os.path.basename(memory) == "memory" and os.path.basename(claude) == ".claude":
        return os.path.join(claude, "agent-memory")
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
    """Rewrite ROOT/.claude/agent-memory/AGENT/MEMORY.md (and perfpack-AGENT/, see digest_targets) if its
    content changed; None when there is no folder.

    A file lock serialises the query and the write, so the last writer always writes the latest state.
    """
    target = write_digest_str(store, agent)
    if target is None:
        return None
    from pathlib import Path

    return Path(target)


def write_digest_str(store: MemoryStore, agent: str) -> str | None:
    """write_digest() returning the MEMORY.md path as a string (no pathlib on the per-insight path).

    With both routes' folders present, both are written; the installed name's path is returned."""
    folder = _digest_dir(store.file)
    if folder is None:
        return None
    import fcntl

    # spelt as str(Path(...)) spelt it
    targets = [os.path.join(path, "MEMORY.md") for path in digest_targets(clean(folder), agent)]
    # per agent: writers of other agents never wait
    lock_path = os.path.join(os.path.dirname(store.file) or ".", f".digest-{agent}.lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = render(store, agent)
        for target in targets:
            try:
                with open(target, encoding="utf-8") as handle:
                    if handle.read() == text:
                        continue
            except (OSError, UnicodeDecodeError):
                pass
            from perfpack.fsutil import atomic_write_text

            # no fsync: the digest is derived from the database and rewritten on the next insight
            atomic_write_text(target, text, fsync=False)
    return targets[0]


def _one_line(text: str) -> str:
    """One line of MEMORY.md: whitespace collapsed, control characters (ESC...) shown as escapes."""
    from perfpack.terminal import one_line

    text = one_line(" ".join(text.split()))
    return text if len(text) <= MAX_LINE_CHARS else text[: MAX_LINE_CHARS - 3] + "..."
