"""Checks of agent files: keys, tools, and delegation (who an agent hands work to)."""

from __future__ import annotations

import re
from functools import lru_cache

from perfpack.findings import Finding
from perfpack.frontmatter import Frontmatter
from perfpack.validate import claude_code as cc
from perfpack.validate.discover import AGENT
from perfpack.validate.markdown import (
    EXTENSION_KEYS,
    Context,
    MdFile,
    check_schema,
    did_you_mean,
    kind_name,
    line_text,
    show,
)
from perfpack.validate.rules import rule

COMMAND_ONLY_KEYS = {"allowed-tools", "allowedtools", "allowed_tools", "argument-hint",
                     "disable-model-invocation", "disallowed-tools", "arguments"}
KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
DELEGATE_PHRASE = re.compile(
    r"\bdelegat(?:e|es|ing)\s+to\b[*_ \t]*:?[*_ \t]*(?:the\s+)?(.+)", re.IGNORECASE)
DELEGATE_TABLE_HEADER = re.compile(
    r"^\|\s*\**\s*(delegate(?:s)?(?:\s+to)?|delegation|hand\s*off\s+to|sub-?agent)\s*\**\s*\|", re.IGNORECASE)
_GENERIC_NAMES = {"sub-agent", "sub-agents", "subagent", "subagents", "specialist", "specialists", "agent",
                  "agents", "other", "others", "domain-specific", "built-in", "the", "a", "an", "them", "it",
                  "experts", "expert", "team", "teams", "humans", "human", "user", "users"}


def find_line(fm: Frontmatter, needle: str, start: int, stop: int | None = None) -> tuple[int, int]:
    """First line at or after `start` containing `needle`, with its column; else (start, 1)."""
    lines = fm.lines
    end = min(len(lines), stop) if stop else len(lines)
    for index in range(max(start - 1, 0), end):
        col = lines[index].find(needle)
        if col >= 0:
            return index + 1, col + 1
    return start, 1


def check_agent(md: MdFile, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    data, fm, path = md.data, md.fm, md.display
    if data is None:
        return out
    version = ctx.version or cc.default_version()
    plugin = bool(md.target.plugin)
    for key in ("name", "description"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            continue
        if key == "name" and plugin:
            continue  # a plugin agent without a name is named after its file
        line, col = fm.value_position(key) if key in data else (max(fm.yaml_start_line - 1, 1), 1)
        what = "is missing" if key not in data or value is None or value == "" else \
            f"is {kind_name(type(value).__name__)}, not text"
        out.append(rule("PP201").finding(path, line, col,
                                         f"`{key}` {what}: Claude Code drops this agent silently",
                                         f"add `{key}:` with a quoted text value"))
    name = data.get("name")
    if isinstance(name, str) and name.strip():
        line, col = fm.value_position("name")
        # the oracle: a leading `-` is rejected by every recorded version, a `:` only since 2.1.218
        rejected = name.startswith("-") or (":" in name and cc.since(version, "2.1.218"))
        if rejected and not plugin:
            out.append(rule("PP213").finding(path, line, col,
                                             f"name `{show(name)}` has `:` or starts with `-`: "
                                             "Claude Code 2.1.218+ rejects the agent",
                                             "use letters, digits and hyphens: name: "
                                             + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
                                                                  or "my-agent")))
        elif not KEBAB.fullmatch(name):
            out.append(rule("PP202").finding(path, line, col,
                                             f"name `{show(name)}` is not kebab-case; it loads "
                                             "as written, but the docs ask for lowercase letters and hyphens",
                                             "name: " + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
                                                         or "my-agent")))
    hooks = data.get("hooks")
    # the oracle: 2.1.332 drops the agent; 2.1.197 loads it and ignores the value
    if "hooks" in data and hooks is not None and not isinstance(hooks, dict) and cc.since(version, "2.1.332"):
        line, col = fm.value_position("hooks")
        out.append(rule("PP114").finding(path, line, col,
                                         f"`hooks` is {kind_name(type(hooks).__name__)}, not a "
                                         "mapping: Claude Code drops this agent silently",
                                         "hooks: {PreToolUse: [...]} (same shape as settings "
                                         "hooks), or remove it"))
    out += check_schema(md, AGENT, data)
    if "model" in data and cc.model_status(data.get("model"), version) == "refused":
        value = data.get("model")
        line, col = fm.value_position("model")
        close = did_you_mean(str(value).lower(), cc.MODEL_ALIASES)
        out.append(rule("PP205").finding(
            path, line, col, f"model `{show(value)}` is neither an alias nor a claude- id: "
                             "Claude Code sends it to "
            "the API verbatim and the subagent fails with a model error",
            f"model: {close}" if close else "use sonnet, opus, haiku, fable, inherit or a full claude-… id"))
    warns = cc.warns_on_unknown_keys(version)
    for key in data:
        if key in _PLAIN_AGENT_KEYS and cc.agent_key_known(key, version):
            continue  # the common case: a documented key the CLI applies
        line, col = fm.position(key)
        command_key = key.lower() in COMMAND_ONLY_KEYS or key == "allowedTools"
        tools_alias = key.lower().replace("_", "-") in ("allowed-tools", "allowedtools")
        if command_key and tools_alias and "tools" not in data:
            out.append(rule("PP209").finding(path, line, col,
                                             f"`{show(key)}` is a command key; agents read "
                                             "`tools`, so this agent gets every tool",
                                             f"rename `{key}` to `tools`: tools: Read, Grep"))
            continue
        if cc.agent_key_known(key, version):
            continue
        # not a typo: skip difflib
        close = None if key in EXTENSION_KEYS else did_you_mean(key, cc.AGENT_KEYS)
        said = (f"Claude Code {version} logs a warning for it and ignores it" if warns
                else f"Claude Code {version} ignores it silently")
        extra = (" (a perfpack key: it belongs in perfpack's own file, not the agent)"
                 if key in EXTENSION_KEYS else "")
        out.append(rule("PP110").finding(
            path, line, col, f"unknown key `{show(key)}`: {said}{extra}"
            + (f" (did you mean `{close}`?)" if close else ""),
            f"rename it to `{close}`" if close else f"remove `{key}` or move its content into the body"))
    out += check_tools(md, "tools", version)
    out += check_tools(md, "disallowedTools", version)
    skills = _name_list(data.get("skills"))
    if skills is not None:
        key_line = fm.position("skills")[0]
        for skill in skills:
            if isinstance(skill, str) and skill and skill not in ctx.skills:
                line, col = find_line(fm, skill, key_line, fm.end_line)
                out.append(rule("PP210").finding(path, line, col,
                                                 f"skill `{show(skill)}` does not exist in the "
                                                 "validated tree: Claude Code silently preloads nothing",
                                                 f"add skills/{skill}/SKILL.md, fix the name, or list it in "
                                                 "[tool.perfpack.validate] external-skills"))
    description = data.get("description")
    if isinstance(description, str) and len(description) > ctx.max_description:
        line, col = fm.value_position("description")
        if fm.error and "description" not in fm.positions:
            line, col = find_line(fm, "description", 1, fm.end_line)
        out.append(rule("PP112").finding(path, line, col,
                                         f"description is {len(description)} characters (budget "
                                         f"{ctx.max_description}); it is sent to the model on every message",
                                         "move examples and detail into the body; keep "
                                         "when-to-use in one or two sentences"))
    return out


_PLAIN_AGENT_KEYS = cc.AGENT_KEYS - {k for k in cc.AGENT_KEYS if k.lower() in COMMAND_ONLY_KEYS}
_TOP_LEVEL_COMMA = re.compile(r",(?![^()]*\))")


@lru_cache(maxsize=2048)  # packs repeat their tools lines; callers never change the list
def split_tools(value: str) -> list[tuple[str, int]]:
    """Split a tools string on top-level commas (not inside `Agent(a, b)`), with each entry's offset."""
    entries, start = [], 0
    # commas outside parentheses separate entries: `Read, Agent(a, b)` is two entries
    for raw in (value.split(",") if "(" not in value else _TOP_LEVEL_COMMA.split(value)):
        if raw.strip():
            entries.append((raw.strip(), start + len(raw) - len(raw.lstrip())))
        start += len(raw) + 1
    return entries


def check_tools(md: MdFile, key: str, version: str) -> list[Finding]:
    """Each `tools` entry as this CLI version resolves it; no entry resolving means a tool-less subagent."""
    data, fm, path = md.data or {}, md.fm, md.display
    if key not in data:
        return []
    value = data.get(key)
    out = []
    line, col = fm.value_position(key)
    if isinstance(value, list):
        entries = [(str(v), -1) for v in value if v is not None]
    elif isinstance(value, str) and value.strip():
        entries = split_tools(value)
    else:
        if key == "tools":
            out.append(rule("PP214").finding(path, line, col,
                                             f"`tools` is {kind_name(type(value).__name__)}: the "
                                             "agent list says \"All tools\" but the subagent "
                                             "is spawned with none",
                                             "list the tools (tools: Read, Grep, Bash) or "
                                             "remove the key for all tools"))
        return out
    if isinstance(value, str) and "," not in value and len(entries) == 1 and " " in entries[0][0].strip() \
            and "(" not in entries[0][0]:
        entries = [(part, -1) for part in entries[0][0].split()]  # `Read Bash Edit` is read as three tools
    resolved = 0
    for entry, offset in entries:
        status, detail = cc.tool_status(entry, version, alone=len(entries) == 1)
        if status in ("ok", "renamed"):
            resolved += 1
            continue
        if status == "mcp":
            continue  # depends on the user's MCP servers: not judged here
        name = cc.tool_base(entry)
        entry_line, entry_col = (line, col + offset) if offset >= 0 and line_text(fm, line).find(entry) >= 0 \
            else find_line(fm, entry, line, fm.end_line)
        if key != "tools":
            out.append(rule("PP208").finding(path, entry_line, entry_col,
                                             f"`{show(name)}` in {key} is not a tool "
                                             f"of Claude Code {version}: it disallows nothing", "remove it"))
            continue
        if name in cc.REMOVED_TOOL_ADVICE:
            out.append(rule("PP207").finding(path, entry_line, entry_col,
                                             f"`{show(name)}`: Claude Code {version} "
                                             "does not give this tool to subagents",
                                             cc.REMOVED_TOOL_ADVICE[name]))
            continue
        if name in cc.known_tool_names(version):
            # a real tool this version does not hand to a subagent in this list (the oracle: `Agent`
            # beside other tools on 2.1.197 and 2.1.332; 2.1.337 gives it)
            alone = (cc.facts(version)["tools"].get(name) or {}).get("offered_alone")
            out.append(rule("PP207").finding(path, entry_line, entry_col,
                                             f"`{show(name)}`: Claude Code {version} does not give this "
                                             "tool to a subagent (with these tools)",
                                             "remove it, or list it alone" if alone else "remove it"))
            continue
        close = did_you_mean(name, cc.known_tool_names(version))
        if close is None and name.lower() in {t.lower() for t in cc.known_tool_names(version)}:
            close = next(t for t in cc.known_tool_names(version) if t.lower() == name.lower())
        out.append(rule("PP208").finding(path, entry_line, entry_col,
                                         f"unknown tool `{show(name)}`: the agent will "
                                         "not have it" + (f" (did you mean `{close}`?)" if close else ""),
                                         f"use `{close}`" if close
                                         else "use a built-in tool name, mcp__server__tool "
                                         "or Agent(name)"))
    if key == "tools" and entries and resolved == 0 and not any(cc.tool_status(e, version)[0] == "mcp"
                                                                 for e, _ in entries):
        memory = data.get("memory") in ("user", "project", "local")
        if not memory:
            out.append(rule("PP214").finding(path, line, col,
                                             "no tool in `tools` exists for subagents on Claude "
                                             f"Code {version}: "
                                             + ("it refuses to spawn the agent (\"would be "
                                             "spawned with zero tools\")" if _newer(version, "2.1.300") else
                                             "the subagent is spawned with no tools at all"),
                                             "name real tools (Read, Grep, Glob, Bash, "
                                             "Edit, Write, WebFetch, …)"))
    return out


def _newer(version: str, than: str) -> bool:
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", v))
    return key(version) >= key(than)


def _name_list(value: object) -> list | None:
    """A frontmatter list of names, written either as a YAML list or as a comma string; None otherwise."""
    if isinstance(value, str):
        return [name.strip() for name in value.split(",")]
    return value if isinstance(value, list) else None


def delegation_targets(md: MdFile) -> list[tuple[str, int, int, str]]:
    """(name, line, col, how) for every agent this one hands work to: extension key, Agent(...) tools,
    body."""
    data, fm = md.data or {}, md.fm
    found: list[tuple[str, int, int, str]] = []
    delegates = _name_list(data.get("delegates-to"))
    if delegates is not None:
        key_line = fm.position("delegates-to")[0]
        for name in delegates:
            if isinstance(name, str) and name:
                line, col = find_line(fm, name, key_line, fm.end_line)
                found.append((name, line, col, "delegates-to"))
    tools = data.get("tools")
    if isinstance(tools, str):
        for entry, _ in split_tools(tools):
            match = _AGENT_TOOL.fullmatch(entry)
            if match:
                for name in match.group(1).split(","):
                    name = name.strip()
                    if name and name != "*":
                        line, col = find_line(fm, name, fm.position("tools")[0], fm.end_line)
                        found.append((name, line, col, "tools Agent(...)"))
    found += _body_delegations(fm)
    return found


_AGENT_TOOL = re.compile(r"(?:Agent|Task)\s*\((.*)\)", re.DOTALL)
_NAME_SEPARATORS = re.compile(r",|/|\band\b|\bor\b")
_PARENTHESISED = re.compile(r"\([^)]*\)?")
_AGENT_NAME = re.compile(r"`?([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+)`?(?=$|[\s.,;:!?)*_`])")
_TABLE_RULE = re.compile(r"\|[\s:|-]+\|?")


def _names_in(text: str) -> list[tuple[str, int]]:
    """Agent-like names at the start of a delegation phrase: `a-b`, `a-b, c-d` or `a-b / c-d`."""
    names = []
    for part in _NAME_SEPARATORS.split(text):
        cleaned = _PARENTHESISED.sub("", part).strip(" \t*_`.:;")
        match = _AGENT_NAME.match(cleaned)
        if not match:
            break
        names.append((match.group(1), text.find(match.group(1))))
    return names


def _body_delegations(fm: Frontmatter) -> list[tuple[str, int, int, str]]:
    found: list[tuple[str, int, int, str]] = []
    body = fm.body
    if "elegat" not in body and "ELEGAT" not in body and "|" not in body:
        return found
    lines = body.split("\n")
    in_fence = False
    table_header = False
    for index, text in enumerate(lines):
        if "`" not in text and "~" not in text and "|" not in text and "elegat" not in text \
                and "ELEGAT" not in text:
            table_header = False  # fast path: most lines cannot matter
            continue
        line_no = fm.body_start_line + index
        if text.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        stripped = text.strip()
        if stripped.startswith("|"):
            if DELEGATE_TABLE_HEADER.match(stripped):
                table_header = True
                continue
            if table_header and not _TABLE_RULE.fullmatch(stripped):
                cell = stripped.strip("|").split("|")[0]
                for name, _offset in _names_in(cell):
                    found.append((name, line_no, text.find(name) + 1, "delegation table"))
            continue
        table_header = False
        if "elegat" not in text and "ELEGAT" not in text:
            continue  # cheap filter: the regex below is only needed on lines that mention delegation
        for match in DELEGATE_PHRASE.finditer(text):
            for name, offset in _names_in(match.group(1)):
                found.append((name, line_no, match.start(1) + offset + 1, "body"))
    return [f for f in found if f[0].lower() not in _GENERIC_NAMES]


def delegation_info(md: MdFile) -> tuple[list[tuple[str, int, int, str]], set[str],
                                         list[tuple[str, str, int, int]]]:
    """Delegation targets, the agent's own external-agents names, and their fallbacks with positions."""
    ext = (md.data or {}).get("external-agents")
    local, fallbacks = set(), []
    if isinstance(ext, dict):
        local = {str(k).lower() for k in ext}
        for name, fallback in ext.items():
            if isinstance(fallback, str):
                line, col = find_line(md.fm, fallback, md.fm.position("external-agents")[0], md.fm.end_line)
                fallbacks.append((str(name), fallback, line, col))
    return delegation_targets(md), local, fallbacks


def check_delegation(display: str, targets: list[tuple[str, int, int, str]], local_external: set[str],
                     fallbacks: list[tuple[str, str, int, int]], ctx: Context) -> list[Finding]:
    """Cross-file: every delegation target must be a validated agent, a built-in, or declared external."""
    out, seen = [], set()
    known = ctx.agent_names | ctx.builtin_agents | ctx.external_agents | local_external
    for name, line, col, how in targets:
        key = name.lower()
        if key in known or key.startswith("plugin:") or key in seen:
            continue
        seen.add(key)
        close = did_you_mean(key, sorted(ctx.agent_names | ctx.builtin_agents))
        out.append(rule("PP211").finding(
            display, line, col, f"delegates to `{name}` ({how}), which is not an agent in "
                                "the validated tree, "
            "not a built-in, and not declared external" + (f" (did you mean `{close}`?)" if close else ""),
            f"add agents/{name}.md, or declare it in agents/perfpack.toml: "
            f'`external-agents = {{ {name} = "general-purpose" }}` under the delegating agent'))
    for name, fallback, line, col in fallbacks:
        if fallback.lower() not in ctx.builtin_agents | ctx.agent_names:
            out.append(rule("PP212").finding(display, line, col,
                                             f"external-agents: fallback `{fallback}` for "
                                             f"`{name}` is neither a built-in nor a pack agent",
                                             "use general-purpose, Explore or Plan"))
    return out
