"""Checks for plugin.json, hooks/hooks.json and the hooks in .claude/settings.json."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.findings import Finding
from perfpack.validate import schemas
from perfpack.validate.discover import HOOKS, PLUGIN, SETTINGS, Target
from perfpack.validate.markdown import check_home_paths, did_you_mean, show
from perfpack.validate.rules import rule

HOOK_EVENTS = ("PreToolUse", "PostToolUse", "PostToolUseFailure", "Notification", "UserPromptSubmit", "Stop",
               "StopFailure", "SubagentStart", "SubagentStop", "PreCompact", "PostCompact", "SessionStart",
               "SessionEnd", "PermissionRequest", "PermissionDenied", "Setup", "TeammateIdle", "TaskCreated",
               "TaskCompleted", "ConfigChange", "WorktreeCreate", "WorktreeRemove", "InstructionsLoaded",
               "CwdChanged", "FileChanged", "Elicitation", "ElicitationResult")
_SCRIPT_EXT = (".py", ".sh", ".bash", ".js", ".mjs", ".cjs", ".ts", ".rb", ".pl", ".ps1")
MAX_JSON_BYTES = 4 * 1024 * 1024


def json_position(text: str, path: list[Any]) -> tuple[int, int]:
    """Line and column of the last string key in `path`, found by walking the keys in order."""
    offset, found = 0, None
    for key in path:
        if not isinstance(key, str):
            continue
        quoted = re.escape(json.dumps(key, ensure_ascii=False)[1:-1])
        match = re.compile(r'"' + quoted + r'"\s*:').search(text, offset)
        if not match:
            break
        offset, found = match.end(), match.start()
    if found is None:
        return 1, 1
    line = text.count("\n", 0, found) + 1
    return line, found - (text.rfind("\n", 0, found) + 1) + 1


def loads_strict(text: str) -> Any:
    """JSON as perfpack walks it: perfpack.safeio's strict reader (no NaN/Infinity, depth and digit
    limits)."""
    from perfpack.safeio import loads_json_strict

    return loads_json_strict(text, what="JSON", allow_lone_surrogates=True)


def read_json(target: Target, display: str) -> tuple[Any, str | None, list[Finding]]:
    from perfpack.safeio import read_user_bytes

    try:  # regular files only (a FIFO never blocks), at most MAX_JSON_BYTES
        raw = read_user_bytes(target.path, what="", max_bytes=MAX_JSON_BYTES)
    except (PerfpackError, OSError) as exc:
        why = exc.message.strip().removeprefix(f"{target.path}: ") if isinstance(exc, PerfpackError) else \
            f"cannot read: {exc.strerror or exc}"
        return None, None, [rule("PP101").finding(display, 1, 1, show(why, 200), "check the file")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, None, [rule("PP101").finding(display, 1, 1, f"not valid UTF-8 (byte {exc.start})",
                                                  "save it as UTF-8")]
    try:
        return loads_strict(text), text, []
    except PerfpackError as exc:
        refused, syntax = exc, _syntax_error(text)
    if syntax is None:  # valid JSON that perfpack refuses to walk (depth, huge numbers)
        why = refused.message.removeprefix("JSON: refused: ")
        return None, text, [rule("PP401").finding(display, 1, 1,
                                                  f"JSON {show(why)}: Claude Code reads it, but "
                                                  "perfpack does not check further", "simplify the file",
                                                  severity="warning")]
    what = {PLUGIN: "Claude Code refuses the plugin", HOOKS: "none of the plugin's hooks run",
            SETTINGS: "Claude Code ignores the whole settings file silently"}[target.kind]
    return None, text, [rule("PP401").finding(display, syntax.lineno, syntax.colno, f"JSON does not parse: "
                                              f"{syntax.msg}; {what}",
                                              "fix the JSON syntax (trailing commas and "
                                              "comments are not allowed)")]


def _syntax_error(text: str) -> json.JSONDecodeError | None:
    """Why JSON.parse would fail on `text` (None: it parses). Only run once the strict reader refused."""
    def constant(name: str) -> Any:
        raise json.JSONDecodeError(f"{name} is not JSON", text, 0)

    try:
        json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as exc:
        return exc
    except (RecursionError, ValueError):
        return None
    return None


def _entries(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def check_plugin(target: Target, display: str, version: str = "") -> list[Finding]:
    """plugin.json as the CLI's manifest check reads it.

    Each rule below was seen refusing or loading a plugin."""
    from perfpack.validate import claude_code as cc

    version = version or cc.default_version()
    data, text, out = read_json(target, display)
    if text is None or data is None:
        return out
    out += check_home_paths(display, text)
    refused = "Claude Code refuses the whole plugin (invalid manifest)"
    if not isinstance(data, dict):
        return out + [rule("PP402").finding(display, 1, 1, f"plugin.json must be a JSON object: {refused}",
                                            '{"name": "my-plugin"}')]
    name = data.get("name")
    line, col = json_position(text, ["name"])
    if not isinstance(name, str) or not name.strip():
        out.append(rule("PP402").finding(display, line, col, f"plugin.json has no `name` string: {refused}",
                                         '"name": "my-plugin"'))
    elif re.search(r"\s", name) or (":" in name and cc.since(version, "2.1.332")):
        out.append(rule("PP402").finding(display, line, col,
                                         f"plugin name `{show(name)}` has a space or `:`: {refused}",
                                         '"name": "' + re.sub(r"[\s:]+", "-", name.strip()) + '"'))
    if "version" in data and not isinstance(data["version"], str):
        line, col = json_position(text, ["version"])
        out.append(rule("PP402").finding(display, line, col, f"`version` must be a string: {refused}",
                                         '"version": "1.0.0"'))
    for key in ("agents", "commands", "skills", "outputStyles"):
        if key not in data:
            continue
        for index, entry in enumerate(_entries(data[key])):
            where = [key, index] if isinstance(data[key], list) else [key]
            line, col = json_position(text, where)
            if not isinstance(entry, str) or not entry.startswith("./") or ".." in entry.split("/"):
                out.append(rule("PP402").finding(display, line, col,
                                                 f"`{key}` entry {show(entry)} is not a path "
                                                 f"starting with ./ inside the plugin: {refused}",
                                                 f'"{key}": ["./{key}/name.md"]'))
            elif key == "agents" and not entry.endswith(".md"):
                out.append(rule("PP402").finding(display, line, col,
                                                 f"`agents` entry `{show(entry)}` is a folder; "
                                                 f"the CLI takes only .md files there: {refused}",
                                                 "list the agent files (\"./agents/a.md\") or drop `agents`: "
                                                 "./agents/ loads by itself"))
            elif not (target.root / entry).exists():
                out.append(rule("PP410").finding(display, line, col,
                                                 f"`{key}` lists `{show(entry)}`, which does not "
                                                 "exist: the CLI logs an error and loads nothing for it",
                                                 "fix the path or remove the entry"))
    for key, shape in (("author", dict), ("keywords", list)):
        if key in data and not isinstance(data[key], shape):
            line, col = json_position(text, [key])
            want = "an object with a name" if shape is dict else "a list"
            fix = '"author": {"name": "..."}' if shape is dict else '"keywords": ["..."]'
            if cc.since(version, "2.1.332"):
                out.append(rule("PP408").finding(display, line, col, f"`{key}` should be {want}; Claude Code "
                                                 f"{version} tolerates it (2.1.197 refused the plugin)", fix))
            else:  # the oracle: 2.1.197 refuses the whole plugin for it
                out.append(rule("PP402").finding(display, line, col, f"`{key}` must be {want}: {refused} "
                                                 f"(Claude Code {version}; 2.1.332 tolerates it)", fix))
    out += _unlisted_agents(target, display, data)
    if cc.since(version, "2.1.337"):
        out += _bin_files(target, display)
    hooks = data.get("hooks")
    for entry in _entries(hooks):
        if isinstance(entry, str) and entry.rstrip("/").replace("\\", "/") in ("./hooks/hooks.json",
                                                                               "hooks/hooks.json"):
            line, col = json_position(text, ["hooks"])
            out.append(rule("PP405").finding(display, line, col,
                                             "plugin.json names ./hooks/hooks.json, which Claude "
                                             "Code loads automatically: it fails with "
                                             "\"Duplicate hooks file\"",
                                             "remove the `hooks` entry from plugin.json"))
    return out


def _bin_files(target: Target, display: str) -> list[Finding]:
    """Files in the plugin's bin/ (`claude plugin validate` 2.1.337+: claude.ai refuses the plugin). Only
    names are looked at; a bin/ that is a link is not followed (the CLI follows it: any link counts)."""
    folder = target.root / "bin"
    if not folder.is_dir():  # missing, or a file named bin: the CLI says nothing
        return []
    manifest = ".claude-plugin/plugin.json"
    prefix = display[: -len(manifest)] if display.endswith(manifest) else ""
    first = None
    if folder.is_symlink():
        first = folder
    else:
        for here, dirs, files in os.walk(folder, followlinks=False):
            names = sorted(files) + sorted(d for d in dirs if os.path.islink(os.path.join(here, d)))
            if names:
                first = Path(here) / names[0]
                break
            dirs.sort()
    if first is None:
        return []
    rel = f"{prefix}{first.relative_to(target.root).as_posix()}"
    return [rule("PP411").finding(rel, 1, 1,
                                  "a file in the plugin's bin/ folder: claude.ai's plugin directory "
                                  "refuses the plugin, though Claude Code loads it (`claude plugin "
                                  "validate` warns)",
                                  "move the files to another folder (libexec/) and run them by path, or put "
                                  "it on PATH with a SessionStart hook writing to $CLAUDE_ENV_FILE")]


def _unlisted_agents(target: Target, display: str, data: dict[str, Any]) -> list[Finding]:
    """When plugin.json lists agent files, only those load: every other file in agents/ is dropped."""
    listed = [e for e in _entries(data.get("agents")) if isinstance(e, str) and e.endswith(".md")]
    if "agents" not in data or not listed:
        return []
    wanted = {(target.root / e).resolve() for e in listed}
    folder = target.root / "agents"
    manifest = ".claude-plugin/plugin.json"
    prefix = display[: -len(manifest)] if display.endswith(manifest) else ""
    out = []
    for path in sorted(folder.rglob("*.md")) if folder.is_dir() else []:
        if path.resolve() not in wanted:
            rel = f"{prefix}{path.relative_to(target.root)}"
            out.append(rule("PP409").finding(rel, 1, 1,
                                             "plugin.json lists its agents and not this file: Claude Code "
                                             "never loads it", f'add "./{path.relative_to(target.root)}" to '
                                             "`agents` in plugin.json, or delete the file"))
    return out


def check_hooks(target: Target, display: str) -> list[Finding]:
    data, text, out = read_json(target, display)
    if text is None or data is None:
        return out
    out += check_home_paths(display, text)
    if target.kind == SETTINGS:
        if not isinstance(data, dict) or "hooks" not in data:
            return out
        data = {"hooks": data["hooks"]}
    elif not isinstance(data, dict) or "hooks" not in data:
        found = [k for k in data if k in HOOK_EVENTS] if isinstance(data, dict) else []
        hint = f" (found event names {', '.join(found)} at the top level)" if found else ""
        return out + [rule("PP404").finding(display, 1, 1,
                                            "hooks.json has no top-level \"hooks\" key" + hint +
                                            ": Claude Code loads no hooks from it",
                                            'wrap the events: {"hooks": {"PreToolUse": [...]}}')]
    for error in schemas.iter_errors("hooks", data):
        path = list(error.absolute_path)
        line, col = json_position(text, path)
        where = ".".join(str(p) for p in path) or "(top level)"
        extra = "; Claude Code ignores the whole settings file silently" if target.kind == SETTINGS else ""
        out.append(rule("PP403").finding(display, line, col, f"{where}: {error.message[:200]}{extra}",
                                         'each event is a list of {"matcher": ..., "hooks": '
                                         '[{"type": "command", "command": ...}]}'))
    events = data.get("hooks")
    if not isinstance(events, dict):
        return out
    for event, groups in events.items():
        if event not in HOOK_EVENTS:
            close = did_you_mean(event, HOOK_EVENTS)
            if close:
                line, col = json_position(text, ["hooks", event])
                out.append(rule("PP407").finding(display, line, col,
                                                 f"unknown hook event `{event}` (did you mean "
                                                 f"`{close}`?): its hooks never run",
                                                 f"rename it to {close}"))
        for group in groups if isinstance(groups, list) else []:
            for handler in (group.get("hooks") if isinstance(group, dict) else None) or []:
                if isinstance(handler, dict) and isinstance(handler.get("command"), str):
                    out += _check_script(target, display, text, event, handler["command"])
    return out


def _check_script(target: Target, display: str, text: str, event: str, command: str) -> list[Finding]:
    from perfpack.shell import tokenize

    read = tokenize(command)  # as bash splits it: `a.sh;b` is three tokens, here-document bodies are text
    tokens = read[0] if read else command.split()  # unbalanced quotes: the words as written
    out = []
    for index, token in enumerate(tokens):
        if any(c.isspace() for c in token) or "=" in token.split("/")[0]:
            continue  # `bash -c '...'` bodies and VAR=value assignments are not script paths
        has_var = bool(re.match(r"\$\{?CLAUDE_(PLUGIN_ROOT|PROJECT_DIR)\}?(/|$)", token))
        if has_var and "PLUGIN_ROOT" in token and target.kind == SETTINGS:
            continue  # no plugin root for project settings
        expanded = re.sub(r"\$\{?CLAUDE_PLUGIN_ROOT\}?", str(target.root).replace("\\", "/"), token)
        expanded = re.sub(r"\$\{?CLAUDE_PROJECT_DIR\}?", str(target.root).replace("\\", "/"), expanded)
        if "$" in expanded or "*" in expanded or "?" in expanded:
            continue
        scriptish = expanded.endswith(_SCRIPT_EXT)
        if not (has_var or (expanded.startswith("/") and (index == 0 or scriptish))
                or (scriptish and "/" in expanded and target.kind == SETTINGS)):
            continue
        if has_var and "PROJECT_DIR" in token and target.kind != SETTINGS:
            continue  # a plugin's project dir is the user's project, unknown here
        resolved = Path(expanded) if expanded.startswith("/") else target.root / expanded
        try:
            exists = resolved.exists()
        except OSError:  # e.g. a name too long for the file system: no such script can exist
            exists = False
        if not exists:
            start = text.find(json.dumps(command, ensure_ascii=False)[1:-1][:40])
            line = text.count("\n", 0, start) + 1 if start >= 0 else 1
            col = start - (text.rfind("\n", 0, start) + 1) + 1 if start >= 0 else 1
            out.append(rule("PP406").finding(display, line, col,
                                             f"{event} hook runs `{token}`, which does not exist "
                                             f"({resolved}): the hook fails on every event",
                                             "fix the path; use ${CLAUDE_PLUGIN_ROOT} or "
                                             "${CLAUDE_PROJECT_DIR}"))
    return out
