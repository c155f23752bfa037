"""Merge perfpack's hook entries into a Claude Code settings.json without disturbing the user's content."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError

HOOK_TIMEOUT_S = 10
MAX_SETTINGS_BYTES = 8 * 1024 * 1024
# How we recognise our own handlers: they run perfpack's hook.py (by absolute path in installs before
# 0.3, through .claude/perfpack/local/ since) with one of these events, or export local/env.sh.
_OURS = {
    "SessionStart": re.compile(r"perfpack[/\\]+local[/\\]+env\.sh\b"),
    "UserPromptSubmit": re.compile(r"perfpack[/\\]+(?:local[/\\]+)?hook\.py['\"]?\s+user-prompt-submit\b"),
    "PreToolUse": re.compile(r"perfpack[/\\]+(?:local[/\\]+)?hook\.py['\"]?\s+pre-tool-use\b"),
    "SubagentStop": re.compile(r"perfpack[/\\]+(?:local[/\\]+)?hook\.py['\"]?\s+subagent-stop\b"),
    "Stop": re.compile(r"perfpack[/\\]+(?:local[/\\]+)?hook\.py['\"]?\s+stop\b"),
}
# Keys of a handler that install owns; any other key a user added to our handler is kept on update.
_MANAGED_KEYS = ("type", "command", "args", "timeout", "if")


@dataclass(frozen=True)
class HookSpec:
    """One handler of ours and the keys of the group that holds it (e.g. {"matcher": "Bash"})."""

    handler: dict[str, Any]
    group: dict[str, Any]

    @classmethod
    def command(cls, event: str, command: str) -> HookSpec:
        group = {"matcher": "Bash"} if event == "PreToolUse" else {}
        return cls({"type": "command", "command": command, "timeout": HOOK_TIMEOUT_S}, group)


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
    """Parse settings.json; a clear PerfpackError (and nothing written) for anything we cannot keep intact.

    Read through perfpack.safeio: a FIFO or device is refused without blocking, and JSON is strict (no
    NaN/Infinity, no 1e400 that would come back as `Infinity`, bounded depth and digits, no lone
    surrogates), so what install writes back is always JSON that Claude Code accepts.
    """
    from perfpack.safeio import loads_json_strict, read_user_bytes

    try:
        raw = read_user_bytes(path, what="settings file", max_bytes=MAX_SETTINGS_BYTES)
    except FileNotFoundError:
        if path.is_symlink():
            raise PerfpackError(f"{path} is a symbolic link to a missing file; left unchanged",
                                hint="point it at an existing file or remove it") from None
        return SettingsText({}, 2, True, False, None)
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
        json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_any, parse_float=_any,
                   parse_int=_any)
    except json.JSONDecodeError as exc:
        raise PerfpackError(
            f"{path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg}); left unchanged",
            hint="fix the file (Claude Code ignores an invalid settings.json whole) and re-run",
        ) from None
    except _DuplicateKey as exc:
        raise PerfpackError(
            f"{path}: duplicate key {exc.args[0]!r}; left unchanged", hint="keep one of them and re-run"
        ) from None
    except RecursionError:
        pass  # loads_json_strict below says it in one line
    data = loads_json_strict(text, what=f"{path}")
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


def _any(value: str) -> str:
    return value  # the duplicate-key pass only looks at keys; numbers are judged by loads_json_strict


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


def merge_hooks(data: dict[str, Any], specs: dict[str, HookSpec] | dict[str, str]) -> dict[str, Any]:
    """A copy of `data` with our handler for each event: an existing handler of ours is updated in place
    (no duplicates on re-run), otherwise one group is appended after the user's own."""
    result = json.loads(json.dumps(data))  # deep copy that keeps key order
    hooks = result.setdefault("hooks", {})
    for event, spec in specs.items():
        if isinstance(spec, str):
            spec = HookSpec.command(event, spec)
        groups = hooks.setdefault(event, [])
        found = False
        for group in groups:
            if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
                continue
            kept = []
            for handler in group["hooks"]:
                if isinstance(handler, dict) and is_ours(event, handler.get("command")):
                    if found:
                        continue  # a duplicate of ours
                    extra = {k: v for k, v in handler.items() if k not in _MANAGED_KEYS}
                    handler = {**json.loads(json.dumps(spec.handler)), **extra}
                    found = True
                kept.append(handler)
            group["hooks"] = kept
            if kept and all(isinstance(h, dict) and is_ours(event, h.get("command")) for h in kept):
                # a group of ours alone: its matcher follows the pack's (an upgrade from an install
                # without one); a group the user shares with us keeps the user's matcher
                rest = {k: v for k, v in group.items() if k != "matcher"}
                group.clear()
                group.update({k: v for k, v in spec.group.items() if k == "matcher"} | rest)
        if not found:
            new_group: dict[str, Any] = json.loads(json.dumps(spec.group))
            new_group["hooks"] = [json.loads(json.dumps(spec.handler))]
            groups.append(new_group)
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


def merge_attribution(data: dict[str, Any], commit: str | None,
                      previous: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """`data` with "attribution": {"commit": COMMIT} (the pack's commit convention, which Claude Code puts
    in place of its own Co-Authored-By line), and the record of what we set (None: nothing of ours).

    A value of the user's own wins: it is kept. Ours from an earlier install (`previous`) is updated."""
    result = json.loads(json.dumps(data))
    if commit is None:
        return result, None
    attribution = result.get("attribution")
    if attribution is None:
        result["attribution"] = {"commit": commit}
        return result, {"commit": commit, "key": True}
    if not isinstance(attribution, dict):
        return result, None
    if "commit" not in attribution:
        attribution["commit"] = commit
        return result, {"commit": commit, "key": False}
    if previous and attribution["commit"] == previous.get("commit"):
        attribution["commit"] = commit
        return result, {"commit": commit, "key": bool(previous.get("key"))}
    return result, None  # the user's own


def remove_attribution(data: dict[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
    """`data` without the attribution.commit we set (left alone if the user changed it since)."""
    result = json.loads(json.dumps(data))
    attribution = result.get("attribution")
    if not record or not isinstance(attribution, dict) or attribution.get("commit") != record.get("commit"):
        return result
    del attribution["commit"]
    if not attribution and record.get("key"):
        del result["attribution"]
    return result
