"""Merge perfpack's hook entries into a Claude Code settings.json without disturbing the user's content."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError

HOOK_TIMEOUT_S = 10
# Our hook commands run perfpack's hook.py with one of these events; that is how we recognise them.
_OURS = {
    "UserPromptSubmit": re.compile(r"perfpack[/\\]+hook\.py['\"]?\s+user-prompt-submit\b"),
    "PreToolUse": re.compile(r"perfpack[/\\]+hook\.py['\"]?\s+pre-tool-use\b"),
}


@dataclass
class SettingsText:
    """A parsed settings.json and how it was written, so it can be written back the same way."""

    data: dict[str, Any]
    indent: str | int | None
    trailing_newline: bool
    bom: bool
    raw: bytes | None  # None when the file did not exist
    crlf: bool = False


def read_settings(path: Path) -> SettingsText:
    """Parse settings.json; a clear PerfpackError (and nothing written) for anything we cannot keep intact."""
    if not path.exists() and not path.is_symlink():
        return SettingsText({}, 2, True, False, None)
    if path.is_dir():
        raise PerfpackError(f"{path} is a directory, not a settings file", hint="move it aside and re-run")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PerfpackError(f"{path}: cannot read: {exc.strerror or exc}") from None
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = raw[3:].decode("utf-8") if bom else raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PerfpackError(
            f"{path}: not UTF-8 text (byte {exc.start}); left unchanged",
            hint="save it as UTF-8 JSON and re-run",
        ) from None
    if not text.strip():
        return SettingsText({}, 2, True, bom, raw)
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise PerfpackError(
            f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg}); left unchanged",
            hint="fix the file (Claude Code ignores an invalid settings.json whole) and re-run",
        ) from None
    except _DuplicateKey as exc:
        raise PerfpackError(
            f"{path}: duplicate key {exc.args[0]!r}; left unchanged", hint="keep one of them and re-run"
        ) from None
    if not isinstance(data, dict):
        raise PerfpackError(
            f"{path}: the top level must be a JSON object, not {type(data).__name__}; left unchanged"
        )
    hooks = data.get("hooks")
    if hooks is not None and not isinstance(hooks, dict):
        raise PerfpackError(f'{path}: "hooks" must be an object, not {type(hooks).__name__}; left unchanged')
    for event in _OURS:
        if hooks is not None and event in hooks and not isinstance(hooks[event], list):
            raise PerfpackError(f'{path}: "hooks.{event}" must be a list; left unchanged')
    return SettingsText(data, _detect_indent(text), text.endswith("\n"), bom, raw, crlf="\r\n" in text)


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _detect_indent(text: str) -> str | int | None:
    body = text.strip()
    if "\n" not in body:
        return None  # a one-line file stays one line
    for line in body.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) != len(line):
            lead = line[: len(line) - len(stripped)]
            return "\t" if lead.startswith("\t") else len(lead)
    return 2


def render_settings(settings: SettingsText, data: dict[str, Any]) -> bytes:
    text = json.dumps(data, indent=settings.indent, ensure_ascii=False)
    if settings.trailing_newline or settings.raw is None:
        text += "\n"
    if settings.crlf:
        text = text.replace("\n", "\r\n")  # JSON strings hold no raw newline, so this touches layout only
    return (b"\xef\xbb\xbf" if settings.bom else b"") + text.encode("utf-8")


def is_ours(event: str, command: Any) -> bool:
    return isinstance(command, str) and bool(_OURS[event].search(command))


def merge_hooks(data: dict[str, Any], commands: dict[str, str]) -> dict[str, Any]:
    """A copy of `data` with our hook for each event: an existing entry of ours is updated in place
    (no duplicates on re-run), otherwise one group is appended after the user's own."""
    result = json.loads(json.dumps(data))  # deep copy that keeps key order
    hooks = result.setdefault("hooks", {})
    for event, command in commands.items():
        groups = hooks.setdefault(event, [])
        found = False
        for group in groups:
            if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
                continue
            for handler in group["hooks"]:
                if isinstance(handler, dict) and is_ours(event, handler.get("command")):
                    if found:
                        handler["_perfpack_duplicate"] = True
                        continue
                    handler["type"] = "command"
                    handler["command"] = command
                    handler["timeout"] = HOOK_TIMEOUT_S
                    found = True
            group["hooks"] = [
                h for h in group["hooks"] if not (isinstance(h, dict) and h.get("_perfpack_duplicate"))
            ]
        if not found:
            group: dict[str, Any] = {}
            if event == "PreToolUse":
                group["matcher"] = "Bash"
            group["hooks"] = [{"type": "command", "command": command, "timeout": HOOK_TIMEOUT_S}]
            groups.append(group)
    return result


def created_by_merge(data: dict[str, Any]) -> tuple[bool, list[str]]:
    """What merge_hooks would create in `data`: the "hooks" key itself, and which event lists."""
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return True, list(_OURS)
    return False, [event for event in _OURS if event not in hooks]


def remove_hooks(data: dict[str, Any], created: tuple[bool, list[str]] | None = None) -> dict[str, Any]:
    """A copy of `data` without our hook handlers, and without the groups that held only them.

    An event list or "hooks" object left empty is dropped only if merge created it (`created`, from
    created_by_merge before the merge); with created=None, whenever it is left empty."""
    result = json.loads(json.dumps(data))
    hooks = result.get("hooks")
    if not isinstance(hooks, dict):
        return result
    for event in _OURS:
        groups = hooks.get(event)
        if not isinstance(groups, list):
            continue
        kept_groups = []
        for group in groups:
            if isinstance(group, dict) and isinstance(group.get("hooks"), list):
                before = len(group["hooks"])
                group["hooks"] = [
                    h
                    for h in group["hooks"]
                    if not (isinstance(h, dict) and is_ours(event, h.get("command")))
                ]
                if before and not group["hooks"]:
                    continue  # the group held only our handler
            kept_groups.append(group)
        if kept_groups or (created is not None and event not in created[1]):
            hooks[event] = kept_groups
        else:
            del hooks[event]
    if not hooks and (created is None or created[0]):
        del result["hooks"]
    return result
