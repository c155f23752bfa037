"""What Claude Code does with pack files, per CLI version: the ONE place that changes with each CLI release.

The per-version facts (tools offered to subagents, renamed tools, agent keys the CLI warns about, model
aliases, built-in agents) live in claude_code_facts.json, derived from the differential oracle's recordings
of the real CLI (`python scripts/record_oracle.py --cli-version X` re-records a version and re-derives this
file). What the oracle cannot observe (documented keys it never probed) is listed here by hand, with the
source.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError

_FACTS = Path(__file__).with_name("claude_code_facts.json")

# Documented subagent keys (code.claude.com/docs sub-agents); each is applied by the CLI on every supported
# version (the oracle's "valid agent with every documented key" case spawns with all of them).
AGENT_KEYS = frozenset({"name", "description", "tools", "disallowedTools", "model", "color", "permissionMode",
                        "maxTurns", "skills", "mcpServers", "hooks", "memory", "background", "effort",
                        "isolation", "initialPrompt"})
# Documented command / skill keys (slash-commands and skills docs).
COMMAND_KEYS = frozenset({"description", "argument-hint", "allowed-tools", "model", "effort",
                          "disable-model-invocation", "disallowed-tools", "context", "agent", "hooks",
                          "arguments",
                          "name", "when_to_use", "user-invocable", "hide-from-slash-command-tool", "version",
                          "license", "metadata", "paths", "shell"})
# perfpack's own keys that used to live in agent frontmatter (issue 15 moves them to a perfpack file):
# unknown to Claude Code like any other key (2.1.332 warns about each).
PERFPACK_KEYS = frozenset({"triggers", "delegates-to", "external-agents"})
# Tools whose names the CLI removed; the oracle shows which it maps to a successor and which it drops.
REMOVED_TOOL_ADVICE = {
    "LS": "use Glob (and Bash `ls`)", "NotebookRead": "use Read (it reads notebooks)",
    "MultiEdit": "use Edit",
    "BashOutput": "remove it (TaskOutput/Monitor replace it)", "KillShell": "use TaskStop",
    "TodoWrite": "remove it (subagents do not get a task list)", "SlashCommand": "use Skill",
    "TaskCreate": "remove it", "TaskGet": "remove it", "TaskList": "remove it", "TaskUpdate": "remove it",
    "TaskOutput": "remove it",
}
MODEL_ALIASES = ("sonnet", "opus", "haiku", "fable", "inherit")


@lru_cache(maxsize=1)
def _all_facts() -> dict[str, Any]:
    return json.loads(_FACTS.read_text(encoding="utf-8"))["versions"]


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version))


def supported_versions() -> list[str]:
    """CLI versions the oracle has recorded, oldest first."""
    return sorted(_all_facts(), key=_key)


def default_version() -> str:
    return supported_versions()[-1]


def resolve_version(version: str | None) -> str:
    """The recorded version to judge by: exact, else the newest recorded one not newer than `version`."""
    known = supported_versions()
    if not version:
        return known[-1]
    if version in known:
        return version
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        raise PerfpackError(f"--cli-version {version!r} is not a version number",
                            hint=f"recorded versions: {', '.join(known)}")
    older = [v for v in known if _key(v) <= _key(version)]
    if not older:
        raise PerfpackError(f"Claude Code {version} is older than every recorded version "
                            f"({', '.join(known)})",
                            hint="record it: python scripts/record_oracle.py --cli-version " + version)
    return older[-1]


def since(version: str, first: str) -> bool:
    """Whether `version` is `first` or newer (a behaviour the CLI changed in `first`)."""
    return _key(version) >= _key(first)


def facts(version: str) -> dict[str, Any]:
    return _all_facts()[version]


def builtin_agents(version: str) -> frozenset[str]:
    recorded = frozenset(a.lower() for a in facts(version)["builtin_agents"])
    return recorded | {"general-purpose", "explore", "plan"}


def warns_on_unknown_keys(version: str) -> bool:
    return bool(facts(version).get("warns_on_unknown_keys"))


def agent_key_known(key: str, version: str) -> bool:
    """Whether the CLI applies this agent key (a key it warns about, or never heard of, is not known)."""
    recorded = facts(version)
    if key in recorded.get("agent_keys_warned", ()):
        return False
    return key in AGENT_KEYS


def tool_base(entry: str) -> str:
    """`Agent(a, b)` -> `Agent`; `Bash(git log:*)` -> `Bash`."""
    return entry.split("(", 1)[0].strip()


@lru_cache(maxsize=4096)
def tool_status(entry: str, version: str, alone: bool = False) -> tuple[str, str | None]:
    """How the CLI treats one `tools:` entry for a subagent: ("ok"|"renamed"|"dropped"|"mcp", detail).

    "dropped": the subagent never gets it (unknown, removed, or not offered to subagents on this version).
    """
    name = tool_base(entry)
    if name.startswith("mcp__"):
        return "mcp", None
    if entry.strip() == "*":
        return "ok", None
    table = facts(version)["tools"]
    recorded = table.get(entry) or (next((v for k, v in table.items() if k.startswith(name + "(")), None)
                                    if "(" in entry else None) or table.get(name)
    if recorded and alone and recorded.get("offered_alone") is not None:
        # e.g. `Agent` alone vs beside other tools
        recorded = dict(recorded, offered=recorded["offered_alone"])
    if recorded and recorded.get("offered") is True:
        sent = recorded.get("sent_as") or [name]
        if sent == [name] or name in sent:
            return "ok", None
        return "renamed", sent[0]
    if recorded and recorded.get("offered") is False:
        return "dropped", None
    # never probed: a name the CLI's main session has is probably offered; anything else is unknown
    return ("ok", None) if name in facts(version).get("session_tools", ()) else ("dropped", None)


def known_tool_names(version: str) -> list[str]:
    recorded = facts(version)["tools"]
    return sorted({n for n, v in recorded.items() if v.get("offered") and re.fullmatch(r"[A-Z]\w+", n)}
                  | set(facts(version).get("session_tools", ())))


def model_status(value: Any, version: str) -> str:
    """"ok", "inherit" (not a string: the parent's model is used) or "refused" (sent verbatim: the API
    404s)."""
    if not isinstance(value, str) or not value.strip():
        return "inherit"
    recorded = facts(version)["models"].get(value)
    if recorded and recorded.get("loaded"):
        return "refused" if recorded.get("api_error") else "ok"
    base = value.strip().lower().removesuffix("[1m]")
    if base in MODEL_ALIASES or base == "best" or base.startswith("claude-"):
        return "ok"
    return "refused"
