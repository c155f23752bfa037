"""agents/perfpack.toml: perfpack's own metadata about the pack's agents (Claude Code never reads it).

The agent files keep only the frontmatter keys Claude Code applies (2.1.332 warns about any other key).
What only perfpack uses lives here: the routing triggers (`perfpack route --compile`), the delegation
targets and external-agent fallbacks (`perfpack validate`), and the commit convention (`perfpack
install` puts it into settings.json's `attribution.commit`, which the CLI's attribution reminder uses).

    [commits]
    attribution = "Assisted-By: ..."
    [agents.performance-engineer]
    delegates-to = ["performance-optimization-specialist", "Explore"]
    external-agents = { database-specialist = "general-purpose" }
    [agents.performance-engineer.triggers]
    summary = "..."
    keywords = { latency = 3 }

A missing file is empty metadata; a malformed one is one line `FILE:LINE: what is wrong`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError

FILE_NAME = "perfpack.toml"
MAX_BYTES = 1024 * 1024
TOP_KEYS = ("commits", "agents")
COMMIT_KEYS = ("attribution",)
AGENT_KEYS = ("delegates-to", "external-agents", "triggers")


@dataclass(frozen=True)
class AgentMeta:
    """One agent's perfpack-only metadata."""

    delegates_to: list[str] = field(default_factory=list)
    external_agents: dict[str, str] = field(default_factory=dict)  # external name -> built-in fallback
    triggers: dict[str, Any] = field(default_factory=dict)  # the routing rules, compiled by route --compile
    line: int = 1  # the line of its [agents.NAME] table


@dataclass(frozen=True)
class PackMeta:
    """The whole file. `lines` maps a dotted key ("agents.NAME.delegates-to") to its line (1-based)."""

    agents: dict[str, AgentMeta] = field(default_factory=dict)
    commit_attribution: str | None = None
    path: Path | None = None
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, *keys: str) -> int:
        """The line of the most specific of `keys` (dotted) found in the file; 1 when none is."""
        return _line(self.lines, keys)


@dataclass(frozen=True)
class Problem:
    line: int
    message: str
    fix: str = "see docs/agents.md for the format"


def read_pack_meta(agents_dir: Path) -> PackMeta:
    """agents_dir/perfpack.toml, checked. Missing: empty metadata. Malformed: PerfpackError, one line."""
    path = Path(agents_dir) / FILE_NAME
    meta, problems = load_pack_meta(path)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise PerfpackError(f"{path}:{first.line}: {first.message}{more}",
                            hint="see docs/agents.md for the format of agents/perfpack.toml")
    return meta


def load_pack_meta(path: Path) -> tuple[PackMeta, list[Problem]]:
    """The metadata at `path` and every problem found in it (for `perfpack validate`).

    A missing file is (empty metadata, []). An unreadable or unparsable file is (empty metadata,
    [that one problem]); a parsable one keeps what is valid and lists the rest as problems."""
    from perfpack.safeio import read_user_text

    path = Path(path)
    try:
        text = read_user_text(path, what="pack metadata", max_bytes=MAX_BYTES)
    except FileNotFoundError:
        return PackMeta(path=None), []
    except PerfpackError as exc:
        return PackMeta(path=path), [Problem(1, _after_path(exc.message, path),
                                             "make it a regular UTF-8 TOML file: perfpack route --compile "
                                             "refuses it as it is")]
    return parse_pack_meta(text, path)


def _after_path(message: str, path: Path) -> str:
    # safeio's messages start with "pack metadata PATH: "; the caller puts PATH:LINE in front itself.
    prefix = f"pack metadata {os.fspath(path)}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def parse_pack_meta(text: str, path: Path | None = None) -> tuple[PackMeta, list[Problem]]:
    import tomllib

    try:
        data = tomllib.loads(text)
    except RecursionError:  # tomllib recurses per nesting level: [[[[... 100,000 deep
        return PackMeta(path=path), [Problem(1, "not valid TOML: nested too deeply")]
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        message = str(exc).split(" (at ")[0]
        return PackMeta(path=path), [Problem(line, f"not valid TOML: {message}")]
    lines = key_lines(text)
    problems: list[Problem] = []

    def problem(message: str, *keys: str) -> None:
        problems.append(Problem(_line(lines, keys), message))

    for key in data:
        if key not in TOP_KEYS:
            problem(f"unknown table or key {key!r} (known: {', '.join(TOP_KEYS)})", key)
    attribution = None
    commits = data.get("commits", {})
    if not isinstance(commits, dict):
        problem("[commits] must be a table", "commits")
        commits = {}
    for key in commits:
        if key not in COMMIT_KEYS:
            problem(f"unknown key {key!r} in [commits] (known: {', '.join(COMMIT_KEYS)})", "commits", key)
    if "attribution" in commits:
        value = commits["attribution"]
        if not isinstance(value, str):
            problem(f"commits.attribution must be text, not {_kind(value)}", "commits", "attribution")
        else:
            attribution = value
    agents: dict[str, AgentMeta] = {}
    tables = data.get("agents", {})
    if not isinstance(tables, dict):
        problem("[agents] must hold one table per agent: [agents.NAME]", "agents")
        tables = {}
    for name, table in tables.items():
        where = ("agents", name)
        if not isinstance(table, dict):
            problem(f"agents.{name} must be a table ([agents.{name}]), not {_kind(table)}", *where)
            continue
        for key in table:
            if key not in AGENT_KEYS:
                problem(f"unknown key {key!r} for agent {name!r} (known: {', '.join(AGENT_KEYS)})",
                        *where, key)
        delegates = table.get("delegates-to", [])
        if not isinstance(delegates, list) or not all(isinstance(d, str) and d.strip() for d in delegates):
            problem(f"agents.{name}.delegates-to must be a list of agent names", *where, "delegates-to")
            delegates = []
        external = table.get("external-agents", {})
        if not isinstance(external, dict) or \
                not all(isinstance(v, str) and v.strip() for v in external.values()):
            problem(f"agents.{name}.external-agents must map an agent name to a built-in fallback "
                    '(database-specialist = "general-purpose")', *where, "external-agents")
            external = {}
        triggers = table.get("triggers", {})
        if not isinstance(triggers, dict):
            problem(f"agents.{name}.triggers must be a table ([agents.{name}.triggers])", *where, "triggers")
            triggers = {}
        agents[name] = AgentMeta(delegates_to=list(delegates), external_agents=dict(external),
                                 triggers=dict(triggers), line=_line(lines, where))
    problems.sort(key=lambda p: p.line)
    return PackMeta(agents=agents, commit_attribution=attribution, path=path, lines=lines), problems


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def _line(lines: dict[str, int], keys: tuple[str, ...]) -> int:
    for n in range(len(keys), 0, -1):
        dotted = ".".join(keys[:n])
        if dotted in lines:
            return lines[dotted]
    return 1


def _line_from_message(message: str) -> int:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else 1


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_BARE = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY = re.compile(rf"^\s*({_BARE}(?:\s*\.\s*{_BARE})*)\s*=")


def _split_key(dotted: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", dotted)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def key_lines(text: str) -> dict[str, int]:
    """Dotted key -> the line that defines it, for tables and for keys at the start of a line.

    An approximation of TOML (enough for perfpack.toml's one-key-a-line layout): keys inside inline
    tables and multi-line values are attributed to the line of their parent key."""
    lines: dict[str, int] = {}
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            table = _split_key(header.group(1))
            for n in range(1, len(table) + 1):
                lines.setdefault(".".join(table[:n]), number)
            continue
        key = _KEY.match(line)
        if key:
            full = table + _split_key(key.group(1))
            for n in range(len(table) + 1, len(full) + 1):
                lines.setdefault(".".join(full[:n]), number)
    return lines
