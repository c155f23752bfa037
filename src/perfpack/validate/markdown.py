"""What agent and command Markdown files share: the file as read (MdFile), the run's Context,
the frontmatter and schema checks, home paths. agents.py and commands.py check each kind."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from perfpack.findings import Finding
from perfpack.frontmatter import MAX_YAML_BYTES, Frontmatter
from perfpack.validate import claude_code as cc
from perfpack.validate import schemas
from perfpack.validate.discover import AGENT
from perfpack.validate.rules import rule

EXTENSION_KEYS = cc.PERFPACK_KEYS
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def show(value: object, limit: int = 80) -> str:
    """A value from a file, safe inside a one-line message: control characters (newlines, ESC) escaped."""
    text = value if isinstance(value, str) else repr(value)
    text = _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


HOME_PATH = re.compile(r"(?<![\w$}./-])"
                       r"(/Users/[A-Za-z0-9._-]+|/home/[A-Za-z0-9._-]+|[A-Za-z]:\\+Users\\+[A-Za-z0-9._ -]+)")
_HOME_PLACEHOLDERS = {"user", "username", "you", "your-name", "yourname", "me", "name", "x", "runner"}


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
                                         "Claude Code before 2.1.337 drop agents (#80890)",
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
                given = kind_name(type(error.instance).__name__)
                what = f"must be {kind_name(error.validator_value)}, not {given}"
            else:
                what = short(error.message, 100)
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
            out.append(rule("PP109").finding(path, line, col, f"`{key}`: {show(short(error.message))}; "
                                             "Claude Code ignores the value", _schema_fix(key, kind)))
    return out


def kind_name(kind: object) -> str:
    names = {"object": "a mapping", "dict": "a mapping", "array": "a list", "list": "a list",
             "string": "a string", "str": "a string", "number": "a number", "integer": "an integer",
             "int": "an integer", "float": "a number", "boolean": "true/false", "bool": "true/false",
             "NoneType": "empty"}
    if isinstance(kind, list):
        return " or ".join(names.get(str(k), str(k)) for k in kind)
    return names.get(str(kind), str(kind))


def short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _schema_fix(key: str, kind: str) -> str:
    description = schemas.schema(kind).get("properties", {}).get(key, {}).get("description", "")
    return f"`{key}`: {description}" if description else f"see the {kind} schema"


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
