"""Checks for agent and slash-command Markdown files: frontmatter as Claude Code reads it, then the body."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from perfpack.findings import Finding
from perfpack.frontmatter import MAX_YAML_BYTES, Frontmatter
from perfpack.validate import claude_code as cc
from perfpack.validate import schemas
from perfpack.validate.discover import AGENT
from perfpack.validate.rules import rule

COMMAND_ONLY_KEYS = {"allowed-tools", "allowedtools", "allowed_tools", "argument-hint",
                     "disable-model-invocation", "disallowed-tools", "arguments"}
AGENT_ONLY_KEYS = {"tools", "color", "maxTurns", "permissionMode", "skills", "memory", "isolation",
                   "mcpServers", "background", "initialPrompt", "disallowedTools"}
EXTENSION_KEYS = cc.PERFPACK_KEYS
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def show(value: object, limit: int = 80) -> str:
    """A value from a file, safe inside a one-line message: control characters (newlines, ESC) escaped."""
    text = value if isinstance(value, str) else repr(value)
    text = _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)
    return text if len(text) <= limit else text[: limit - 1] + "…"

KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
HOME_PATH = re.compile(r"(?<![\w$}./-])"
                       r"(/Users/[A-Za-z0-9._-]+|/home/[A-Za-z0-9._-]+|[A-Za-z]:\\+Users\\+[A-Za-z0-9._ -]+)")
_HOME_PLACEHOLDERS = {"user", "username", "you", "your-name", "yourname", "me", "name", "x", "runner"}

# `!`cmd`` at line start or after whitespace, and ```! fenced blocks, run before the model sees the text.
BANG_INLINE = re.compile(r"(?:^|(?<=\s))!`([^`\n]+)`")
ARG_IN_SHELL = re.compile(r"\$ARGUMENTS(?:\[\d+\])?|\$\{?ARGUMENTS\}?|\$\d+\b")

DELEGATE_PHRASE = re.compile(
    r"\bdelegat(?:e|es|ing)\s+to\b[*_ \t]*:?[*_ \t]*(?:the\s+)?(.+)", re.IGNORECASE)
DELEGATE_TABLE_HEADER = re.compile(
    r"^\|\s*\**\s*(delegate(?:s)?(?:\s+to)?|delegation|hand\s*off\s+to|sub-?agent)\s*\**\s*\|", re.IGNORECASE)
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
    version: str = ""  # the Claude Code version judged by (perfpack.validate.claude_code)

    @property
    def builtin_agents(self) -> frozenset[str]:
        return cc.builtin_agents(self.version or cc.default_version())


def line_text(fm: Frontmatter, line: int) -> str:
    lines = fm.lines
    return lines[line - 1] if 0 < line <= len(lines) else ""


def find_line(fm: Frontmatter, needle: str, start: int, stop: int | None = None) -> tuple[int, int]:
    """First line at or after `start` containing `needle`, with its column; else (start, 1)."""
    lines = fm.lines
    end = min(len(lines), stop) if stop else len(lines)
    for index in range(max(start - 1, 0), end):
        col = lines[index].find(needle)
        if col >= 0:
            return index + 1, col + 1
    return start, 1


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    choices = sorted(choices)
    if not choices:
        return None
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return lowered[word.lower()]
    normal = {c.lower().replace("-", "").replace("_", ""): c for c in choices}
    if word.lower().replace("-", "").replace("_", "") in normal:
        return normal[word.lower().replace("-", "").replace("_", "")]
    import difflib  # only for a name that is not known: most runs never need it

    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.75)
    return match[0] if match else None


# --- frontmatter, common to agents and commands ---------------------------------------------------

def check_frontmatter(md: MdFile, kind: str, version: str = "") -> list[Finding]:
    """Framing and YAML. Agents: any of these drops the agent. Commands still load (their frontmatter is
    ignored), so a command only gets warnings here."""
    fm, path, out = md.fm, md.display, []
    if fm.unreadable:
        return [rule("PP101").finding(path, 1, 1, f"cannot check this file: {fm.unreadable}",
                                      "save it as UTF-8 text (agents and commands are Markdown)")]
    if fm.has_bom:
        version = version or cc.default_version()
        if kind == AGENT and not cc.since(version, "2.1.239"):  # the oracle: 2.1.197 drops a BOM agent
            out.append(rule("PP102").finding(path, 1, 1,
                                             f"file starts with a UTF-8 byte-order mark: Claude Code "
                                             f"{version} drops this agent silently (fixed in 2.1.239)",
                                             "save the file as UTF-8 without BOM", severity="error"))
        else:
            out.append(rule("PP102").finding(path, 1, 1,
                                             "file starts with a UTF-8 byte-order mark; Claude Code "
                                             "before 2.1.239 did not see the file at all",
                                             "save the file as UTF-8 without BOM"))
    if fm.has_crlf:
        out.append(rule("PP103").finding(path, 1, 1,
                                         "CRLF line endings; with `: ` in the description they made "
                                         "Claude Code drop agents (#80890)",
                                         "convert the file to LF line endings"))
    if not fm.present:
        stripped = (fm.text or "").lstrip()
        if kind == AGENT:
            where = "frontmatter must start at byte 0 with a `---` line"
            what = _consequence(md, kind)
            text = fm.text or ""
            # point at the late `---` line when there is one
            line = 1 + text[: len(text) - len(stripped)].count("\n") if stripped.startswith("---") else 1
            out.append(rule("PP104").finding(path, line, 1, f"{where}: {what}",
                                             "put `---`, the YAML keys and a closing `---` at the very top"))
        return out
    if not fm.closed:
        if kind == AGENT:
            out.append(rule("PP105").finding(path, 1, 1, "frontmatter has no closing `---` line: "
                                             + _consequence(md, kind),
                                             "add a `---` line after the last YAML key"))
        return out
    if (fm.error and fm.error.message.startswith("frontmatter ")
            and not fm.error.message.startswith("frontmatter is")):
        out.append(rule("PP113").finding(path, fm.error.line, fm.error.col, f"{fm.error.message}: not read",
                                         "keep frontmatter small and flat (under "
                                         f"{MAX_YAML_BYTES // 1024} KB, no alias chains)"))
        return out
    if fm.error:
        message = f"YAML does not parse: {fm.error.message}. "
        lenient = isinstance(md.data, dict) and fm.lenient_data is not None
        if lenient:
            message += ("Claude Code's lenient retry may still read it, but strict parsers "
                        "(`claude plugin validate`, other tools) reject it, and where the retry fails "
                        f"{_consequence(md, kind)}")
        else:
            message += _consequence(md, kind)
        key_line = line_text(fm, fm.error.line)
        top_level = ":" in key_line and not key_line.startswith((" ", "\t"))
        key = key_line.split(":", 1)[0].strip() if top_level else "description"
        fix = (f"quote the value ({key}: \"...\") or use a block scalar (`{key}: >-` with the "
               "text indented on the following lines)")
        severity = None if kind == AGENT and not lenient else "warning"
        out.append(rule("PP106").finding(path, fm.error.line, fm.error.col, show(message, 400), fix,
                                         severity))
    for key, line, col in fm.duplicate_keys:
        out.append(rule("PP107").finding(path, line, col,
                                         f"`{key}` appears more than once; only the last one counts",
                                         f"keep one `{key}`"))
    body_lines = fm.body.split("\n", 6)[:6]
    known = schemas.known_keys("agent") | schemas.known_keys("command")
    for offset, text in enumerate(body_lines):
        if not text.strip():
            continue
        match = _KEY_IN_BODY.match(text)
        if match and match.group(1) in known and match.group(1) not in (md.data or {}):
            out.append(rule("PP108").finding(
                path, fm.end_line, 1, f"the `---` on line {fm.end_line} ends the frontmatter, "
                                      f"so `{match.group(1)}` "
                f"on line {fm.body_start_line + offset} is body text, not a key",
                f"remove the `---` on line {fm.end_line} or move the keys above it"))
        break
    return out


_KEY_IN_BODY = re.compile(r"([A-Za-z][\w-]*):(\s|$)")


def _consequence(md: MdFile, kind: str) -> str:
    if kind == AGENT:
        if md.target.plugin:
            return (f"Claude Code loads this plugin agent as `plugin:{md.target.path.stem}` "
                    "with empty metadata (a generic description, so it is never chosen automatically)")
        return "Claude Code skips this project agent silently"
    return ("Claude Code ignores this command's frontmatter (the command still loads; its description and "
            "allowed-tools do not apply)")


_OWN_CHECKS = {"name", "description", "model", "tools", "disallowedTools", "hooks", "argument-hint"}
# agent keys whose schema errors check_schema skips (checked by check_agent or not judged)
_NOT_REPORTED = frozenset(_OWN_CHECKS | {"model", "argument-hint"})


def check_schema(md: MdFile, kind: str, data: dict[str, Any]) -> list[Finding]:
    """Type and allowed-value checks from the JSON Schemas. What makes the CLI drop the file is checked by
    check_agent itself; what is left here the CLI ignores (a warning)."""
    out: list[Finding] = []
    path, fm = md.display, md.fm
    special: dict[str, str] = {}
    if kind == AGENT and schemas.properties_valid(kind, data, _NOT_REPORTED):
        return out  # the common case: only keys checked elsewhere (or none) could fail
    for error in schemas.iter_errors(kind, data):
        location = list(error.absolute_path)
        if location and str(location[0]) in _OWN_CHECKS and kind == AGENT:
            continue
        if location and str(location[0]) in ("model", "argument-hint"):
            continue
        if error.validator == "required":
            if kind == AGENT:
                continue
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            key = missing[0] if missing else "name"
            out.append(rule("PP201").finding(path, fm.yaml_start_line - 1, 1,
                                             f"required key `{key}` is missing: Claude Code "
                                             "skips this agent silently",
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
                given = _kind_name(type(error.instance).__name__)
                what = f"must be {_kind_name(error.validator_value)}, not {given}"
            else:
                what = _short(error.message, 100)
            out.append(rule("PP212").finding(path, line, col,
                                             f"perfpack extension `{where}` {what}; perfpack ignores it",
                                             "see docs/validate.md (extension keys) for its shape"))
        elif key in ("tools", "disallowedTools") and kind == AGENT:
            continue  # checked by check_tools with better messages
        elif key in special and isinstance(value, str):
            if key == "model":
                close = did_you_mean(value, ("sonnet", "opus", "haiku", "fable", "inherit"))
                out.append(rule("PP205").finding(
                    path, line, col, f"model `{value}` is neither an alias nor a full claude- id: "
                                     "it is sent to the API "
                    "verbatim and the subagent fails at run time",
                    f"model: {close}" if close else
                    "use sonnet, opus, haiku, fable, inherit or a full id such as claude-sonnet-4-5"))
            else:
                suggestion = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "my-agent"
                out.append(rule("PP202").finding(path, line, col,
                                                 f"name `{value}` is not kebab-case (lowercase "
                                                 "letters, digits, hyphens)", f"name: {suggestion}"))
        elif error.validator == "enum" and isinstance(value, str):
            allowed = error.validator_value
            close = did_you_mean(value, allowed)
            fix = f"{key}: {close}" if close else f"use one of: {', '.join(allowed)}"
            out.append(rule("PP109").finding(path, line, col,
                                             f"`{key}: {show(value)}` is not an allowed value "
                                             f"({', '.join(map(str, allowed))}); Claude Code ignores it",
                                             fix))
        else:
            out.append(rule("PP109").finding(path, line, col, f"`{key}`: {show(_short(error.message))}; "
                                             "Claude Code ignores the value", _schema_fix(key, kind)))
    return out


def _kind_name(kind: object) -> str:
    names = {"object": "a mapping", "dict": "a mapping", "array": "a list", "list": "a list",
             "string": "a string", "str": "a string", "number": "a number", "integer": "an integer",
             "int": "an integer", "float": "a number", "boolean": "true/false", "bool": "true/false",
             "NoneType": "empty"}
    if isinstance(kind, list):
        return " or ".join(names.get(str(k), str(k)) for k in kind)
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
            f"is {_kind_name(type(value).__name__)}, not text"
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
                                         f"`hooks` is {_kind_name(type(hooks).__name__)}, not a "
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
                                             f"`tools` is {_kind_name(type(value).__name__)}: the "
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
                fix = ("use `allowed-tools` (space or comma separated)" if key == "tools"
                       else f"remove `{key}`")
                out.append(rule("PP304").finding(path, line, col,
                                                 f"`{key}` is an agent key; commands ignore it", fix))
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
                path, line, col, f"`{args[0]}` inside a ! line is substituted raw, before the "
                                 "shell runs: a user-typed "
                "argument becomes shell code", "remove the argument from the ! line; let "
                                               "the model pass it to a "
                "tool call instead"))
        if patterns is None:
            continue  # bare `Bash` allows everything, and skips the CLI's own checks (the oracle)
        if md.target.plugin and PLUGIN_ROOT_VAR in command:
            # the oracle (p045-p047): a plugin's root is substituted before the checks, as an absolute path
            # outside the project: quoted or as the program it runs, `ls ${CLAUDE_PLUGIN_ROOT}` is refused
            command = command.replace(PLUGIN_ROOT_VAR, PLUGIN_ROOT_SEEN)
            patterns = [p.replace(PLUGIN_ROOT_VAR, PLUGIN_ROOT_SEEN) for p in patterns]
        why = cli_refusal(command, ctx.version or cc.default_version())
        if why and why.startswith("an environment assignment") and _assignment_allowed(command, patterns):
            why = None  # the oracle: `Bash(FOO=1:*)` lets `FOO=1 echo a` run (c111, both versions)
        if why:
            out.append(rule("PP305").finding(
                path, line, col, f"`{show(_short(command, 60))}`: {why}; Claude Code refuses "
                                 "this ! line whatever "
                "allowed-tools lists, and aborts the whole command",
                "move the logic into a script the ! line "
                "calls (Bash(./script.sh:*)), or let the model run it as a tool call"))
            continue
        refused = [seg for seg in split_shell(command) if not _allowed(seg, patterns)]
        if refused:
            first = refused[0].split()[0] if refused[0].split() else refused[0]
            out.append(rule("PP301").finding(
                path, line, col, f"`{_short(refused[0], 60)}` is not allowed by "
                                 "allowed-tools: Claude Code aborts "
                "the whole command silently (nothing is sent to the model)",
                f"add Bash({first}:*) to allowed-tools, or remove the ! line"))
    return out


PLUGIN_ROOT_VAR = "${CLAUDE_PLUGIN_ROOT}"
PLUGIN_ROOT_SEEN = "/plugin-root"  # what the checks see: an absolute path outside the project
_BRACE = re.compile(r"\{[^{}\s]*(?:,|\.\.)[^{}\s]*\}|@\{")
_OUTSIDE = re.compile(r"(?:^|\s)(?:~|\.\.(?:/|\s|$)|/(?!dev/null\b)[\w.-])")


def _unquoted(command: str) -> str:
    """The command with single-quoted text blanked out (what the shell would expand is what is left)."""
    return re.sub(r"'[^']*'", "''", command)


def cli_refusal(command: str, version: str = "") -> str | None:
    """Why the CLI's own checks refuse a ! line even when allowed-tools allows the command (2.1.197 and
    2.1.332 alike, from the oracle's recorded reasons); None when they let it through."""
    # the oracle (c277): 2.1.332 leaves `$1` in a ! line alone and refuses it as a variable; 2.1.197 runs it
    if re.search(r"\$[1-9]", _unquoted(command)) and cc.since(version or cc.default_version(), "2.1.332"):
        return "a positional `$N` the CLI does not substitute here (it refuses it as a variable)"
    text = _unquoted(ARG_IN_SHELL.sub("arg", command))  # arguments are pasted in before the checks run
    if _BRACE.search(text):
        return "brace expansion"
    if "$(" in text.replace("$((", "") or "`" in text:
        return "a nested command that cannot be checked before it runs"
    if "${" in text or re.search(r'"[^"]*\$\w', text):
        return "a variable expansion the checker cannot see through"
    if re.search(r"\$[1-9]", text):
        return "a positional parameter"
    if re.search(r"(?:^|[;&|]\s*)[A-Za-z_]\w*=\S*\s+\S", text):
        return "an environment assignment in front of the command"
    if re.search(r"(?:^|[;&|]\s*)eval\b", text):
        return "eval"
    if re.search(r"(?<![<>0-9&])>>?(?!\s*/dev/null)(?!&)", text):
        return "an output redirection (a write the checker asks about)"
    for segment in split_shell(text):
        words = segment.split()
        if words and words[0] not in ("echo", "printf") and _OUTSIDE.search(" " + " ".join(words[1:])):
            return "a path outside the project's working directory"
    return None


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
        if entry in ("Bash", "Bash(*)", "Bash(:*)", "Bash()"):
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


_READ_ONLY = {"cat", "head", "tail", "ls", "pwd", "echo", "wc", "grep", "rg", "date", "whoami", "uname",
              "which", "type", "file", "stat", "du", "df", "sort", "uniq", "cut", "tr", "basename", "dirname",
              "realpath", "readlink", "printenv", "id", "hostname", "nproc", "tree", "diff", "cd", "true",
              "false", "test", "jq", "printf", "column", "seq", "sleep"}
_READ_ONLY_GIT = {"status", "log", "diff", "show", "branch", "rev-parse", "remote", "ls-files", "describe",
                  "blame", "shortlog", "tag"}


def _read_only(segment: str) -> bool:
    cleaned = re.sub(r"\d?>&\d|\d?>\s*/dev/null|\$\(\([^)]*\)\)", "", segment)
    if ">" in cleaned or "$(" in cleaned or "`" in cleaned:
        return False
    words = cleaned.split()
    while words and re.fullmatch(r"[A-Za-z_]\w*=\S*", words[0]):
        words = words[1:]
    if not words:
        return True
    if words[0] == "git":
        return len(words) > 1 and words[1] in _READ_ONLY_GIT
    if words[0] == "xargs":
        return len(words) > 1 and _read_only(" ".join(words[1:]).split("<")[0])
    if words[0] == "find":
        return not any(w in ("-exec", "-execdir", "-delete", "-ok", "-fprint") for w in words)
    return words[0] in _READ_ONLY


def _assignment_allowed(command: str, patterns: list[str]) -> bool:
    """An allowed-tools entry that itself starts with the assignment (`Bash(FOO=1:*)`) matches every part."""
    return any(re.match(r"[A-Za-z_]\w*=", p) for p in patterns) and \
        all(_allowed(seg, patterns) for seg in split_shell(command))


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
            if re.fullmatch(regex, segment, re.DOTALL) or (pattern.endswith(" *")
                                                           and segment == pattern[:-2]):
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
                                             f"hard-coded home path `{match.group(1)}`: it "
                                             "exists only on one machine",
                                             "use a path relative to the project, ${CLAUDE_PROJECT_DIR}, "
                                             "${CLAUDE_PLUGIN_ROOT} or ~"))
    return out
