"""Checks for agent and slash-command Markdown files: frontmatter as Claude Code reads it, then the body."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Iterable

from perfpack.findings import Finding
from perfpack.frontmatter import Frontmatter
from perfpack.validate import schemas
from perfpack.validate.discover import AGENT
from perfpack.validate.rules import rule

KNOWN_TOOLS = frozenset("""
Agent Task AskUserQuestion Bash Edit EnterPlanMode ExitPlanMode EnterWorktree ExitWorktree Glob Grep LSP
ListMcpResourcesTool ReadMcpResourceTool NotebookEdit Read Skill SlashCommand TaskCreate TaskGet TaskList
TaskUpdate TaskOutput TaskStop TodoWrite ToolSearch WebFetch WebSearch Write CronCreate CronDelete CronList
Monitor SendMessage TeamCreate TeamDelete KillBash
""".split())
REMOVED_TOOLS = {
    "LS": "use Glob (and Bash `ls`)", "NotebookRead": "use Read (it reads notebooks)",
    "MultiEdit": "use Edit", "BashOutput": "remove it (use TaskOutput for background output)",
    "KillShell": "remove it (use TaskStop)",
}
BUILTIN_AGENTS = frozenset(
    {"general-purpose", "explore", "plan", "statusline-setup", "output-style-setup", "claude-code-guide"})
COMMAND_ONLY_KEYS = {"allowed-tools", "allowedtools", "allowed_tools", "argument-hint",
                     "disable-model-invocation", "disallowed-tools", "arguments"}
AGENT_ONLY_KEYS = {"tools", "color", "maxTurns", "permissionMode", "skills", "memory", "isolation",
                   "mcpServers", "background", "initialPrompt", "disallowedTools"}
EXTENSION_KEYS = {"triggers", "delegates-to", "external-agents"}

KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
HOME_PATH = re.compile(r"(?<![\w$}./-])(/Users/[A-Za-z0-9._-]+|/home/[A-Za-z0-9._-]+|[A-Za-z]:\\+Users\\+[A-Za-z0-9._ -]+)")
_HOME_PLACEHOLDERS = {"user", "username", "you", "your-name", "yourname", "me", "name", "x", "runner"}

# `!`cmd`` at line start or after whitespace, and ```! fenced blocks, run before the model sees the text.
BANG_INLINE = re.compile(r"(?:^|(?<=\s))!`([^`\n]+)`")
ARG_IN_SHELL = re.compile(r"\$ARGUMENTS(?:\[\d+\])?|\$\{?ARGUMENTS\}?|\$\d+\b")

DELEGATE_PHRASE = re.compile(
    r"\bdelegat(?:e|es|ing)\s+to\b[*_ \t]*:?[*_ \t]*(?:the\s+)?(.+)", re.IGNORECASE)
DELEGATE_TABLE_HEADER = re.compile(r"^\|\s*\**\s*(delegate(?:s)?(?:\s+to)?|delegation|hand\s*off\s+to|sub-?agent)\s*\**\s*\|",
                                   re.IGNORECASE)
_GENERIC_NAMES = {"sub-agent", "sub-agents", "subagent", "subagents", "specialist", "specialists", "agent",
                  "agents", "other", "others", "domain-specific", "built-in", "the", "a", "an", "them", "it",
                  "experts", "expert", "team", "teams", "humans", "human", "user", "users"}


@dataclass
class MdFile:
    """A parsed agent/command file and what the cross-file checks need from it."""

    target: Any  # discover.Target
    display: str
    fm: Frontmatter
    data: dict[str, Any] | None  # strict data, else what Claude Code's lenient retry reads, else None

    @property
    def name(self) -> str | None:
        value = (self.data or {}).get("name")
        return value if isinstance(value, str) else None


@dataclass
class Context:
    agent_names: set[str]  # lower-case names of every agent validated
    skills: set[str]
    external_agents: set[str]  # lower-case
    max_description: int
    settings_allow: dict[Any, list[str]]  # project root -> Bash permission patterns from settings.json


def line_text(fm: Frontmatter, line: int) -> str:
    lines = (fm.text or "").split("\n")
    return lines[line - 1] if 0 < line <= len(lines) else ""


def find_line(fm: Frontmatter, needle: str, start: int, stop: int | None = None) -> tuple[int, int]:
    """First line at or after `start` containing `needle`, with its column; else (start, 1)."""
    lines = (fm.text or "").split("\n")
    end = min(len(lines), stop) if stop else len(lines)
    for index in range(max(start - 1, 0), end):
        col = lines[index].find(needle)
        if col >= 0:
            return index + 1, col + 1
    return start, 1


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    choices = sorted(choices)
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return lowered[word.lower()]
    normal = {c.lower().replace("-", "").replace("_", ""): c for c in choices}
    if word.lower().replace("-", "").replace("_", "") in normal:
        return normal[word.lower().replace("-", "").replace("_", "")]
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.75)
    return match[0] if match else None


# --- frontmatter, common to agents and commands ---------------------------------------------------

def check_frontmatter(md: MdFile, kind: str) -> list[Finding]:
    fm, path, out = md.fm, md.display, []
    if fm.unreadable:
        return [rule("PP101").finding(path, 1, 1, f"cannot check this file: {fm.unreadable}",
                                      "save it as UTF-8 text (agents and commands are Markdown)")]
    if fm.has_bom:
        out.append(rule("PP102").finding(path, 1, 1, "file starts with a UTF-8 byte-order mark; Claude Code before "
                                         "2.1.239 did not see the file at all", "save the file as UTF-8 without BOM"))
    if fm.has_crlf:
        out.append(rule("PP103").finding(path, 1, 1, "CRLF line endings; with `: ` in the description they made "
                                         "Claude Code drop agents (#80890)", "convert the file to LF line endings"))
    if not fm.present:
        stripped = (fm.text or "").lstrip()
        if kind == AGENT or stripped.startswith("---"):
            where = "frontmatter must start at byte 0 with a `---` line"
            what = ("Claude Code skips this agent silently" if kind == AGENT
                    else "the frontmatter is read as body text; the command has no description or allowed-tools")
            text = fm.text or ""
            # point at the late `---` line when there is one
            line = 1 + text[: len(text) - len(stripped)].count("\n") if stripped.startswith("---") else 1
            out.append(rule("PP104").finding(path, line, 1, f"{where}: {what}",
                                             "put `---`, the YAML keys and a closing `---` at the very top"))
        return out
    if not fm.closed:
        out.append(rule("PP105").finding(path, 1, 1, "frontmatter has no closing `---` line: " + _consequence(md, kind),
                                         "add a `---` line after the last YAML key"))
        return out
    if fm.error:
        message = f"YAML does not parse: {fm.error.message}. "
        if isinstance(md.data, dict) and fm.lenient_data is not None:
            message += ("Claude Code's lenient retry may still read it, but strict parsers (`claude plugin validate`, "
                        f"other tools) reject it, and where the retry fails {_consequence(md, kind)}")
        else:
            message += _consequence(md, kind)
        key_line = line_text(fm, fm.error.line)
        key = key_line.split(":", 1)[0].strip() if ":" in key_line and not key_line.startswith((" ", "\t")) else "description"
        fix = (f"quote the value ({key}: \"...\") or use a block scalar (`{key}: >-` with the text indented on the "
               "following lines)")
        out.append(rule("PP106").finding(path, fm.error.line, fm.error.col, message, fix))
    for key, line, col in fm.duplicate_keys:
        out.append(rule("PP107").finding(path, line, col, f"`{key}` appears more than once; only the last one counts",
                                         f"keep one `{key}`"))
    body_lines = fm.body.split("\n")
    known = schemas.known_keys("agent") | schemas.known_keys("command")
    for offset, text in enumerate(body_lines[:6]):
        if not text.strip():
            continue
        match = re.match(r"([A-Za-z][\w-]*):(\s|$)", text)
        if match and match.group(1) in known and match.group(1) not in (md.data or {}):
            out.append(rule("PP108").finding(
                path, fm.end_line, 1, f"the `---` on line {fm.end_line} ends the frontmatter, so `{match.group(1)}` "
                f"on line {fm.body_start_line + offset} is body text, not a key",
                f"remove the `---` on line {fm.end_line} or move the keys above it"))
        break
    return out


def _consequence(md: MdFile, kind: str) -> str:
    if kind == AGENT:
        if md.target.plugin:
            return (f"Claude Code loads this plugin agent as `plugin:{md.target.path.stem}` with empty metadata "
                    "(a generic description, so it is never chosen automatically)")
        return "Claude Code skips this project agent silently"
    return "the command loses its frontmatter (no description, no allowed-tools: its ! lines abort it)"


def check_schema(md: MdFile, kind: str, data: dict[str, Any]) -> list[Finding]:
    out = []
    path, fm = md.display, md.fm
    special = {"model": "PP205", "name": "PP202"} if kind == AGENT else {"model": "PP205"}
    for error in schemas.iter_errors(kind, data):
        location = list(error.absolute_path)
        if error.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            key = missing[0] if missing else "name"
            out.append(rule("PP201").finding(path, fm.yaml_start_line - 1, 1,
                                             f"required key `{key}` is missing: Claude Code skips this agent silently",
                                             f"add `{key}:` to the frontmatter"))
            continue
        if not location:
            continue
        key = str(location[0])
        line, col = fm.value_position(key)
        value = data.get(key)
        if key in EXTENSION_KEYS:
            where = ".".join(str(p) for p in location)
            if error.validator == "type":
                what = f"must be {_kind_name(error.validator_value)}, not {_kind_name(type(error.instance).__name__)}"
            else:
                what = _short(error.message, 100)
            out.append(rule("PP212").finding(path, line, col, f"perfpack extension `{where}` {what}; perfpack "
                                             "ignores it", "see docs/validate.md (extension keys) for its shape"))
        elif key == "argument-hint" and isinstance(value, list):
            hint = " ".join(f"[{', '.join(map(str, v)) if isinstance(v, list) else v}]" for v in value)
            out.append(rule("PP303").finding(path, line, col, "argument-hint parses as a YAML list, not a string "
                                             "(an unquoted `[...]` crashed the CLI once, #17199)",
                                             f"quote it: argument-hint: \"{hint}\""))
        elif key in ("tools", "disallowedTools") and kind == AGENT:
            continue  # checked by check_tools with better messages
        elif key in special and isinstance(value, str):
            if key == "model":
                close = did_you_mean(value, ("sonnet", "opus", "haiku", "fable", "inherit"))
                out.append(rule("PP205").finding(
                    path, line, col, f"model `{value}` is neither an alias nor a full claude- id: it is sent to the API "
                    "verbatim and the subagent fails at run time",
                    f"model: {close}" if close else
                    "use sonnet, opus, haiku, fable, inherit or a full id such as claude-sonnet-4-5"))
            else:
                suggestion = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "my-agent"
                out.append(rule("PP202").finding(path, line, col, f"name `{value}` is not kebab-case (lowercase "
                                                 "letters, digits, hyphens)", f"name: {suggestion}"))
        elif error.validator == "enum" and isinstance(value, str):
            allowed = error.validator_value
            close = did_you_mean(value, allowed)
            fix = f"{key}: {close}" if close else f"use one of: {', '.join(allowed)}"
            out.append(rule("PP109").finding(path, line, col, f"`{key}: {value}` is not an allowed value "
                                             f"({', '.join(allowed)})", fix))
        else:
            out.append(rule("PP109").finding(path, line, col, f"`{key}`: {_short(error.message)}",
                                             _schema_fix(key, kind)))
    return out


def _kind_name(kind: object) -> str:
    names = {"object": "a mapping", "dict": "a mapping", "array": "a list", "list": "a list", "string": "a string",
             "str": "a string", "number": "a number", "integer": "an integer", "int": "an integer",
             "float": "a number", "boolean": "true/false", "bool": "true/false", "NoneType": "empty"}
    if isinstance(kind, list):
        return " or ".join(names.get(k, k) for k in kind)
    return names.get(str(kind), str(kind))


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _schema_fix(key: str, kind: str) -> str:
    description = schemas.schema(kind).get("properties", {}).get(key, {}).get("description", "")
    return f"`{key}`: {description}" if description else f"see the {kind} schema"


# --- agents -----------------------------------------------------------------------------------------

def check_agent(md: MdFile, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    data, fm, path = md.data, md.fm, md.display
    if data is None:
        return out
    out += check_schema(md, AGENT, data)
    name = data.get("name")
    if isinstance(name, str) and KEBAB.fullmatch(name) and name != md.target.path.stem:
        line, col = fm.value_position("name")
        out.append(rule("PP203").finding(path, line, col, f"agent name `{name}` differs from its file name "
                                         f"`{md.target.path.name}`", f"rename the file to {name}.md"))
    for key in data:
        line, col = fm.position(key)
        if key.lower() in COMMAND_ONLY_KEYS or key == "allowedTools":
            if key.lower().replace("_", "-") in ("allowed-tools", "allowedtools") and "tools" not in data:
                message = (f"`{key}` is a command key; agents read `tools`, so this agent silently gets every tool")
                fix = f"rename `{key}` to `tools` and write it as a comma string: tools: Read, Grep"
            elif key.lower() == "disallowed-tools":
                message, fix = "`disallowed-tools` is the command/skill spelling; agents read `disallowedTools`", \
                    "rename it to disallowedTools"
            else:
                message, fix = f"`{key}` is a command key; Claude Code ignores it in an agent", f"remove `{key}`"
            out.append(rule("PP209").finding(path, line, col, message, fix))
        elif key not in schemas.known_keys("agent"):
            close = did_you_mean(key, schemas.known_keys("agent"))
            out.append(rule("PP110").finding(
                path, line, col, f"unknown key `{key}`: Claude Code ignores it silently"
                + (f" (did you mean `{close}`?)" if close else ""),
                f"rename it to `{close}`" if close else f"remove `{key}` or move its content into the body"))
    out += check_tools(md, "tools")
    out += check_tools(md, "disallowedTools")
    skills = _name_list(data.get("skills"))
    if skills is not None:
        key_line = fm.position("skills")[0]
        for skill in skills:
            if isinstance(skill, str) and skill and skill not in ctx.skills:
                line, col = find_line(fm, skill, key_line, fm.end_line)
                out.append(rule("PP210").finding(path, line, col, f"skill `{skill}` does not exist in the validated "
                                                 "tree: Claude Code silently preloads nothing",
                                                 f"add skills/{skill}/SKILL.md, fix the name, or list it in "
                                                 "[tool.perfpack.validate] external-skills"))
    description = data.get("description")
    if isinstance(description, str) and len(description) > ctx.max_description:
        line, col = fm.value_position("description")
        if fm.error and "description" not in fm.positions:
            line, col = find_line(fm, "description", 1, fm.end_line)
        out.append(rule("PP112").finding(path, line, col, f"description is {len(description)} characters (budget "
                                         f"{ctx.max_description}); it is sent to the model on every message",
                                         "move examples and detail into the body; keep when-to-use in one or two "
                                         "sentences"))
    return out


_TOP_LEVEL_COMMA = re.compile(r",(?![^()]*\))")


def split_tools(value: str) -> list[tuple[str, int]]:
    """Split a tools string on top-level commas (not inside `Agent(a, b)`), with each entry's offset."""
    entries, start = [], 0
    # commas outside parentheses separate entries: `Read, Agent(a, b)` is two entries
    for raw in (value.split(",") if "(" not in value else _TOP_LEVEL_COMMA.split(value)):
        if raw.strip():
            entries.append((raw.strip(), start + len(raw) - len(raw.lstrip())))
        start += len(raw) + 1
    return entries


def check_tools(md: MdFile, key: str) -> list[Finding]:
    data, fm, path = md.data or {}, md.fm, md.display
    value = data.get(key)
    if value is None:
        return []
    out = []
    line, col = fm.value_position(key)
    if isinstance(value, list):
        out.append(rule("PP206").finding(path, line, col, f"`{key}` is a YAML list; some Claude Code versions lost "
                                         "its first and last entries (#14580)",
                                         f"{key}: {', '.join(str(v) for v in value)}"))
        entries = [(str(v), -1) for v in value if v is not None]
    elif isinstance(value, str):
        entries = split_tools(value)
    else:
        return [rule("PP109").finding(path, line, col, f"`{key}` must be a comma-separated string, not "
                                      f"{type(value).__name__}", f"{key}: Read, Grep, Glob")]
    for entry, offset in entries:
        entry_line, entry_col = (line, col + offset) if offset >= 0 and line_text(fm, line).find(entry) >= 0 \
            else find_line(fm, entry, line, fm.end_line)
        match = re.fullmatch(r"([A-Za-z_][\w]*)\s*\((.*)\)", entry, re.DOTALL)
        name = match.group(1) if match else entry
        if name.startswith("mcp__") and re.fullmatch(r"mcp__[\w.-]+(__[\w.*-]+)?", name):
            continue
        if name in KNOWN_TOOLS:
            continue
        if name in REMOVED_TOOLS:
            out.append(rule("PP207").finding(path, entry_line, entry_col, f"`{name}` is no longer a Claude Code tool",
                                             REMOVED_TOOLS[name]))
            continue
        if " " in name.strip() and all(part in KNOWN_TOOLS | set(REMOVED_TOOLS) for part in name.split()):
            out.append(rule("PP208").finding(path, entry_line, entry_col, f"`{name}` looks like several tools "
                                             "separated by spaces; Claude Code splits on commas",
                                             f"{key}: {', '.join(name.split())}"))
            continue
        close = did_you_mean(name, KNOWN_TOOLS)
        out.append(rule("PP208").finding(path, entry_line, entry_col, f"unknown tool `{name}`: the agent will not "
                                         "have it" + (f" (did you mean `{close}`?)" if close else ""),
                                         f"use `{close}`" if close else "use a built-in tool name, mcp__server__tool "
                                         "or Agent(name)"))
    return out


def _name_list(value: object) -> list | None:
    """A frontmatter list of names, written either as a YAML list or as a comma string; None otherwise."""
    if isinstance(value, str):
        return [name.strip() for name in value.split(",")]
    return value if isinstance(value, list) else None


def delegation_targets(md: MdFile) -> list[tuple[str, int, int, str]]:
    """(name, line, col, how) for every agent this one hands work to: extension key, Agent(...) tools, body."""
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
            match = re.fullmatch(r"(?:Agent|Task)\s*\((.*)\)", entry, re.DOTALL)
            if match:
                for name in match.group(1).split(","):
                    name = name.strip()
                    if name and name != "*":
                        line, col = find_line(fm, name, fm.position("tools")[0], fm.end_line)
                        found.append((name, line, col, "tools Agent(...)"))
    found += _body_delegations(fm)
    return found


def _names_in(text: str) -> list[tuple[str, int]]:
    """Agent-like names at the start of a delegation phrase: `a-b`, `a-b, c-d` or `a-b / c-d`."""
    names = []
    for part in re.split(r",|/|\band\b|\bor\b", text):
        cleaned = re.sub(r"\([^)]*\)?", "", part).strip(" \t*_`.:;")
        match = re.match(r"`?([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+)`?(?=$|[\s.,;:!?)*_`])", cleaned)
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
            if table_header and not re.fullmatch(r"\|[\s:|-]+\|?", stripped):
                cell = stripped.strip("|").split("|")[0]
                for name, offset in _names_in(cell):
                    found.append((name, line_no, text.find(name) + 1, "delegation table"))
            continue
        table_header = False
        if "elegat" not in text and "ELEGAT" not in text:
            continue  # cheap filter: the regex below is only needed on lines that mention delegation
        for match in DELEGATE_PHRASE.finditer(text):
            for name, offset in _names_in(match.group(1)):
                found.append((name, line_no, match.start(1) + offset + 1, "body"))
    return [f for f in found if f[0].lower() not in _GENERIC_NAMES]


def delegation_info(md: MdFile) -> tuple[list[tuple[str, int, int, str]], set[str], list[tuple[str, str, int, int]]]:
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
    known = ctx.agent_names | BUILTIN_AGENTS | ctx.external_agents | local_external
    for name, line, col, how in targets:
        key = name.lower()
        if key in known or key.startswith("plugin:") or key in seen:
            continue
        seen.add(key)
        close = did_you_mean(key, sorted(ctx.agent_names | BUILTIN_AGENTS))
        out.append(rule("PP211").finding(
            display, line, col, f"delegates to `{name}` ({how}), which is not an agent in the validated tree, "
            "not a built-in, and not declared external" + (f" (did you mean `{close}`?)" if close else ""),
            f"add agents/{name}.md, or declare it: `external-agents: {{{name}: general-purpose}}`"))
    for name, fallback, line, col in fallbacks:
        if fallback.lower() not in BUILTIN_AGENTS | ctx.agent_names:
            out.append(rule("PP212").finding(display, line, col, f"external-agents: fallback `{fallback}` for "
                                             f"`{name}` is neither a built-in nor a pack agent",
                                             "use general-purpose, Explore or Plan"))
    return out


# --- commands ---------------------------------------------------------------------------------------

def check_command(md: MdFile, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    data, fm, path = md.data, md.fm, md.display
    if data is not None:
        out += check_schema(md, "command", data)
        for key in data:
            if key in schemas.known_keys("command"):
                continue
            line, col = fm.position(key)
            if key in AGENT_ONLY_KEYS:
                fix = "use `allowed-tools` (space or comma separated)" if key == "tools" else f"remove `{key}`"
                out.append(rule("PP304").finding(path, line, col, f"`{key}` is an agent key; commands ignore it", fix))
            else:
                close = did_you_mean(key, schemas.known_keys("command"))
                out.append(rule("PP110").finding(
                    path, line, col, f"unknown key `{key}`: Claude Code ignores it silently"
                    + (f" (did you mean `{close}`?)" if close else ""),
                    f"rename it to `{close}`" if close else f"remove `{key}`"))
    if fm.text is None:
        return out
    patterns = bash_patterns((data or {}).get("allowed-tools"))
    if patterns is not None:
        patterns += ctx.settings_allow.get(md.target.root, [])
    named = _named_arguments((data or {}).get("arguments"))
    for line, col, command in bang_commands(fm):
        args = [m.group(0) for m in ARG_IN_SHELL.finditer(command)]
        args += [f"${n}" for n in named if re.search(rf"\${{?{re.escape(n)}\b", command)]
        if args:
            out.append(rule("PP302").finding(
                path, line, col, f"`{args[0]}` inside a ! line is substituted raw, before the shell runs: a user-typed "
                "argument becomes shell code", "remove the argument from the ! line; let the model pass it to a "
                "tool call instead"))
        if patterns is None:
            continue  # bare `Bash` allows everything
        refused = [seg for seg in split_shell(command) if not _allowed(seg, patterns)]
        if refused:
            first = refused[0].split()[0] if refused[0].split() else refused[0]
            out.append(rule("PP301").finding(
                path, line, col, f"`{_short(refused[0], 60)}` is not allowed by allowed-tools: Claude Code aborts "
                "the whole command silently (nothing is sent to the model)",
                f"add Bash({first}:*) to allowed-tools, or remove the ! line"))
    return out


def _named_arguments(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,]+", value) if re.fullmatch(r"[A-Za-z_]\w*", v)]
    if isinstance(value, dict):
        return [str(k) for k in value if re.fullmatch(r"[A-Za-z_]\w*", str(k))]
    if isinstance(value, list):
        names = []
        for item in value:
            name = item.get("name") if isinstance(item, dict) else item
            if isinstance(name, str) and re.fullmatch(r"[A-Za-z_]\w*", name):
                names.append(name)
        return names
    return []


def bang_commands(fm: Frontmatter) -> list[tuple[int, int, str]]:
    """(line, col, shell command) for every !`…` and ```! block in the body."""
    found = []
    lines = fm.body.split("\n")
    index = 0
    while index < len(lines):
        text = lines[index]
        line_no = fm.body_start_line + index
        if text.strip().startswith("```!"):
            block = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith("```"):
                block.append(lines[index])
                index += 1
            for offset, command in enumerate(block):
                if command.strip():
                    found.append((line_no + 1 + offset, 1, command.strip()))
            index += 1
            continue
        for match in BANG_INLINE.finditer(text):
            found.append((line_no, match.start() + 1, match.group(1).strip()))
        index += 1
    return found


def bash_patterns(value: Any) -> list[str] | None:
    """Bash permission patterns from allowed-tools; None when bare `Bash` allows every command."""
    if isinstance(value, str):
        entries = [e for e, _ in split_tools(value)]
        entries = [part for e in entries for part in (_split_spaces(e))]
    elif isinstance(value, list):
        entries = [str(v).strip() for v in value]
    else:
        return []
    patterns = []
    for entry in entries:
        if entry in ("Bash", "Bash(*)", "Bash(:*)"):
            return None
        match = re.fullmatch(r"Bash\((.*)\)", entry, re.DOTALL)
        if match:
            patterns.append(match.group(1).strip())
    return patterns


def _split_spaces(entry: str) -> list[str]:
    """allowed-tools may also be space separated: `Read Bash(git status:*)`; keep spaces inside (...)."""
    parts, depth, current = [], 0, ""
    for char in entry:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        if char.isspace() and depth == 0:
            if current:
                parts.append(current)
            current = ""
        else:
            current += char
    if current:
        parts.append(current)
    return parts


def split_shell(command: str) -> list[str]:
    """Split a shell line into simple commands on &&, ||, ;, | outside quotes (perfpack.shell)."""
    from perfpack.shell import split_commands

    return split_commands(command)


_READ_ONLY = {"cat", "head", "tail", "ls", "pwd", "echo", "wc", "grep", "rg", "date", "whoami", "uname", "which",
              "type", "file", "stat", "du", "df", "sort", "uniq", "cut", "tr", "basename", "dirname", "realpath",
              "readlink", "printenv", "id", "hostname", "nproc", "tree", "diff", "cd", "true", "false", "test",
              "jq", "printf", "column", "seq"}
_READ_ONLY_GIT = {"status", "log", "diff", "show", "branch", "rev-parse", "remote", "ls-files", "describe",
                  "blame", "shortlog", "tag"}


def _read_only(segment: str) -> bool:
    cleaned = re.sub(r"\d?>&\d|\d?>\s*/dev/null", "", segment)
    if ">" in cleaned or "$(" in cleaned or "`" in cleaned:
        return False
    words = cleaned.split()
    while words and re.fullmatch(r"[A-Za-z_]\w*=\S*", words[0]):
        words = words[1:]
    if not words:
        return True
    if words[0] == "git":
        return len(words) > 1 and words[1] in _READ_ONLY_GIT
    if words[0] == "find":
        return not any(w in ("-exec", "-execdir", "-delete", "-ok", "-fprint") for w in words)
    return words[0] in _READ_ONLY


def _allowed(segment: str, patterns: list[str]) -> bool:
    if _read_only(segment):
        return True
    for pattern in patterns:
        if pattern.endswith(":*"):
            prefix = pattern[:-2].rstrip()
            if segment == prefix or segment.startswith(prefix + " "):
                return True
        elif "*" in pattern:
            regex = ".*".join(re.escape(part) for part in pattern.split("*"))
            if re.fullmatch(regex, segment, re.DOTALL) or (pattern.endswith(" *") and segment == pattern[:-2]):
                return True
        elif segment == pattern:
            return True
    return False


# --- any pack file ----------------------------------------------------------------------------------

# `perfpack install` writes absolute paths on purpose: the interpreter + hook.py in settings.json (a
# version-manager shim would cost ~70 ms a prompt) and the perfpack executable in /optimize's `!` lines.
_INSTALLED_BY_PERFPACK = re.compile(r"perfpack/hook\.py\b|/bin/perfpack\b")


def check_home_paths(display: str, text: str) -> list[Finding]:
    out: list[Finding] = []
    if "/Users/" not in text and "/home/" not in text and "Users\\" not in text:
        return out
    if not HOME_PATH.search(text):
        return out
    for index, line in enumerate(text.split("\n")):
        match = HOME_PATH.search(line)
        if match and not _INSTALLED_BY_PERFPACK.search(line):
            user = re.split(r"[/\\]+", match.group(1).rstrip("\\/"))[-1]
            if user.lower() in _HOME_PLACEHOLDERS:
                continue
            out.append(rule("PP111").finding(display, index + 1, match.start(1) + 1,
                                             f"hard-coded home path `{match.group(1)}`: it exists only on one machine",
                                             "use a path relative to the project, ${CLAUDE_PROJECT_DIR}, "
                                             "${CLAUDE_PLUGIN_ROOT} or ~"))
    return out
