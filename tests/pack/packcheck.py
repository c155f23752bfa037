"""Checks on the pack's own text (agents and /optimize), kept as plain functions so tests can also
prove each check fails on a bad sample."""

from __future__ import annotations

import re
from pathlib import Path

from perfpack.resources import pack_root

PACK = pack_root()
AGENT_NAMES = ("performance-optimization-specialist", "performance-engineer", "performance-engineering-lead")
BUILTIN_AGENTS = {"general-purpose", "Explore", "Plan"}

# Every description is sent with every message (claude-code.md, #18245): 300 characters is our budget.
DESCRIPTION_BUDGET = 300

MODELS = {"sonnet", "opus", "haiku", "fable", "inherit"}
COLORS = {"red", "blue", "green", "yellow", "purple", "orange", "pink", "cyan"}
# The tools a subagent's request actually carries on Claude Code 2.1.197 and 2.1.332 (captured requests of
# the pack's agents spawned through the real CLI): Grep, Glob and TodoWrite are never offered to a subagent,
# whatever its `tools:` says, and 2.1.332 in -p mode has no task-list tool at all (claude-code.md).
KNOWN_TOOLS = {"Read", "Write", "Edit", "Bash", "Agent"}
# What /optimize (the main conversation) may pre-approve: tools both versions offer there.
COMMAND_TOOLS = {"Read", "Write", "Edit", "Bash", "Agent", "Skill"}
NEVER_OFFERED = ("Grep", "Glob", "TodoWrite", "TaskCreate", "TaskGet")

# What must not survive from the seeds: other projects' names and paths, tools that do not exist here.
LEFTOVERS_ANY_CASE = ("serena", "spheroseg", "cvat", "abathur", "/users/", "/home/", "docker exec",
                      "docker logs", "mcp__private-journal", "private-journal", "sequential-thinking",
                      "sequential thinking", "// parallel", "// end-parallel", "// turbo-all",
                      "ml-orchestrator", "memory_manager", "sys.path.append", "claude-sonnet-4")
LEFTOVERS_EXACT_WORD = ("APES",)  # case-sensitive: "shapes" is fine

# Claude Code runs !`cmd` at line start or after whitespace, and ```! blocks, before the model sees them.
_BANG_INLINE = re.compile(r"(?:^|(?<=\s))!`([^`\n]+)`", re.MULTILINE)
_BANG_BLOCK = re.compile(r"^```!\s*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# The one shell form a `!` line may take besides a plain `perfpack X`: a fallback that never fails, so a
# project without perfpack (a teammate's clone) still gets /optimize, with one line saying how to get it.
_FALLBACK = re.compile(r'(perfpack [a-z][a-z -]*?) 2>/dev/null \|\| echo "[^"$`\\]+"')
_PERFPACK_CALL = re.compile(r"(?<![\w/.-])perfpack ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")


def agent_path(name: str) -> Path:
    return PACK / "agents" / f"{name}.md"


def leftovers(text: str) -> list[str]:
    """Seed leftovers found in `text` (empty = clean)."""
    lowered = text.lower()
    found = [word for word in LEFTOVERS_ANY_CASE if word in lowered]
    found += [word for word in LEFTOVERS_EXACT_WORD if re.search(rf"\b{word}\b", text)]
    return found


def bang_commands(body: str) -> list[str]:
    """The shell commands Claude Code would run while expanding a command body."""
    commands = [m.group(1).strip() for m in _BANG_INLINE.finditer(body)]
    for block in _BANG_BLOCK.finditer(body):
        commands += [line.strip() for line in block.group(1).splitlines() if line.strip()]
    return commands


def bang_problems(command: str, allowed_tools: str) -> list[str]:
    """Why a `!` command would be unsafe or aborted (empty = fine)."""
    problems = []
    fallback = _FALLBACK.fullmatch(command)
    if fallback:
        command = fallback.group(1)
    if not command.startswith("perfpack "):
        problems.append("does not call perfpack")
    if "$" in command:
        problems.append("contains `$` (arguments are substituted raw into ! lines)")
    if any(ch in command for ch in ";|&`<>"):
        problems.append("contains shell operators")
    prefixes = [p.strip() for p in re.findall(r"Bash\(([^):]+):\*\)", allowed_tools)]
    if not any(command == p or command.startswith(p + " ") for p in prefixes):
        problems.append("not allowed by allowed-tools (the whole command would abort)")
    return problems


def perfpack_calls(text: str) -> set[tuple[str, str | None]]:
    """(subcommand, sub-subcommand or None) for each `perfpack X [Y]` mentioned in `text`."""
    return {(m.group(1), m.group(2)) for m in _PERFPACK_CALL.finditer(text)}


def split_tools(tools: str) -> list[str]:
    """Split a `tools` string on top-level commas (`Agent(a, b)` stays one entry)."""
    entries, depth, current = [], 0, ""
    for ch in tools:
        if ch == "," and depth == 0:
            entries.append(current.strip())
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    if current.strip():
        entries.append(current.strip())
    return entries


def missing_phrases(text: str, phrases: list[str]) -> list[str]:
    """Required phrases absent from `text` (case-insensitive, whitespace-normalised)."""
    flat = re.sub(r"\s+", " ", text).lower()
    return [p for p in phrases if re.sub(r"\s+", " ", p).lower() not in flat]
