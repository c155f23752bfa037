"""Reads the YAML frontmatter of an agent or command file the way Claude Code does.

The frontmatter must start at byte 0 with a `---` line; the first later `---` line ends it. What
Claude Code tolerates and what it silently drops is recorded (BOM, CRLF, YAML errors) so checkers
can report it with a line number. Used by the validator, the installer and the routing compiler.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any


@lru_cache(maxsize=1)
def _loader() -> Any:
    """The YAML 1.2 core-schema loader, built on first use: flat frontmatter (most files) never needs PyYAML.

    YAML 1.2 core schema, as Claude Code's parser reads frontmatter (the oracle confirms it on every supported
    version): `yes`/`no`/`on`/`off` and dates stay strings; only true/false are booleans.
    """
    import yaml

    try:  # libyaml is ~10x faster; the pure-Python loader gives the same results
        base: type = yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - depends on the PyYAML build
        base = yaml.SafeLoader

    class Loader(base):
        yaml_implicit_resolvers: dict = {}

    replaced = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:null"}
    for first, resolvers in getattr(base, "yaml_implicit_resolvers", {}).items():
        Loader.yaml_implicit_resolvers[first] = [(tag, rx) for tag, rx in resolvers if tag not in replaced]
    Loader.add_implicit_resolver("tag:yaml.org,2002:bool",
                                 re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    Loader.add_implicit_resolver("tag:yaml.org,2002:int",
                                 re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                                 list("-+0123456789"))
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
        list("-+.0123456789"))
    Loader.add_multi_constructor("!", _untagged)
    Loader.add_constructor("tag:yaml.org,2002:binary", lambda loader, node: loader.construct_scalar(node))
    Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                                 ["~", "n", "N", ""])
    return Loader


def _untagged(loader: Any, suffix: str, node: Any) -> Any:
    """Unknown tags (`!tag value`) are dropped as Claude Code's parser does: the plain value remains."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


BOM = "\ufeff"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024  # agent files are KBs; anything far larger is not one
# Limits on the YAML itself, checked before anything walks the parsed value: an alias bomb ("billion laughs")
# is tiny as text and as a node graph, but expands to billions of values once anything iterates it.
MAX_YAML_BYTES = 256 * 1024  # the frontmatter of real packs is < 10 KB
MAX_YAML_VALUES = 20_000  # values after expanding aliases
MAX_YAML_DEPTH = 64  # nesting of mappings and lists
_DEEP_FLOW = re.compile(r"[\[{](?:\s*[\[{]){" + str(MAX_YAML_DEPTH) + "}")
_DELIMITER = re.compile(r"---[ \t]*")


@dataclass(frozen=True)
class Position:
    """1-based line and column of a key, and of its value, in the file."""

    line: int
    col: int
    value_line: int
    value_col: int


@dataclass(frozen=True)
class YamlProblem:
    line: int
    col: int
    message: str


@dataclass
class Frontmatter:
    path: Path
    size: int = 0
    text: str | None = None  # decoded text, BOM removed, newlines normalised to \n
    unreadable: str | None = None  # why the file could not be read as text (binary, not UTF-8, too big)
    has_bom: bool = False
    has_crlf: bool = False
    present: bool = False  # the file starts with a `---` line (after a BOM, if any)
    closed: bool = False  # a closing `---` line was found
    yaml_text: str = ""
    yaml_start_line: int = 2  # line number of the first YAML line
    end_line: int = 0  # line number of the closing `---`
    data: dict[str, Any] | None = None  # parsed mapping; None when absent or broken
    error: YamlProblem | None = None  # strict YAML error
    lenient_data: dict[str, Any] | None = None  # what a lenient re-read (as Claude Code retries) gives
    positions: dict[str, Position] = field(default_factory=dict)
    duplicate_keys: list[tuple[str, int, int]] = field(default_factory=list)
    body: str = ""
    body_start_line: int = 1
    _lines: list[str] | None = field(default=None, repr=False, compare=False)

    @property
    def lines(self) -> list[str]:
        """The file's lines (text split on \\n), split once and shared by every check."""
        if self._lines is None:
            self._lines = (self.text or "").split("\n")
        return self._lines

    def position(self, key: str) -> tuple[int, int]:
        """Line and column of `key`, or of the frontmatter's start when the key is absent."""
        pos = self.positions.get(key)
        return (pos.line, pos.col) if pos else (1, 1)

    def value_position(self, key: str) -> tuple[int, int]:
        pos = self.positions.get(key)
        return (pos.value_line, pos.value_col) if pos else (1, 1)


def read_frontmatter(path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Frontmatter:
    """Read `path` and split off its frontmatter. Never raises for bad content; see `unreadable`."""
    path = path if isinstance(path, Path) else Path(path)
    from perfpack.errors import PerfpackError
    from perfpack.safeio import read_user_bytes

    try:  # regular files only: a FIFO or device is refused without blocking
        raw = read_user_bytes(path, what="", max_bytes=max_bytes)
    except PerfpackError as exc:
        return Frontmatter(path=path, unreadable=exc.message.strip().removeprefix(f"{path}: "))
    except OSError as exc:
        return Frontmatter(path=path, unreadable=f"cannot read: {exc.strerror or exc}")
    return parse_frontmatter_bytes(raw, path=path, max_bytes=max_bytes)


def parse_frontmatter_bytes(raw: bytes, *, path: Path | str = "<bytes>",
                            max_bytes: int = DEFAULT_MAX_BYTES) -> Frontmatter:
    result = Frontmatter(path=path if isinstance(path, Path) else Path(path), size=len(raw))
    if len(raw) > max_bytes:
        result.unreadable = f"larger than {max_bytes // 1024 // 1024} MB; not an agent or command file"
        return result
    if b"\x00" in raw[:8192]:
        result.unreadable = "binary file (contains NUL bytes)"
        return result
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        result.unreadable = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} on line {line})"
        return result
    return parse_frontmatter_text(text, result)


def parse_frontmatter_text(text: str, result: Frontmatter | None = None, *, fast: bool = True) -> Frontmatter:
    """Split and parse; `fast=False` reads every frontmatter with PyYAML (the fast path's reference)."""
    result = result or Frontmatter(path=Path("<text>"))
    if text.startswith(BOM):
        result.has_bom = True
        text = text[1:]
    if "\r\n" in text:
        result.has_crlf = True
        text = text.replace("\r\n", "\n")
    text = text.replace("\r", "\n")
    result.text = text
    lines = result._lines = text.split("\n")
    if not lines or not _DELIMITER.fullmatch(lines[0]):
        result.body = text
        result.body_start_line = 1
        return result
    result.present = True
    for index in range(1, len(lines)):
        if _DELIMITER.fullmatch(lines[index]):
            result.closed = True
            result.end_line = index + 1
            result.yaml_text = "\n".join(lines[1:index])
            result.body = "\n".join(lines[index + 1:])
            result.body_start_line = index + 2
            break
    else:
        result.yaml_text = "\n".join(lines[1:])
        return result
    _parse_yaml(result, fast)
    return result


def _expanded_size(node: Any, limit: int) -> tuple[int, int]:
    """(values, depth) of a composed YAML node graph with every alias expanded; stops counting past `limit`.

    Shared nodes (aliases) are memoised, so the walk is linear in the graph even when the expansion is not.
    """
    import yaml

    memo: dict[int, tuple[int, int]] = {}

    def walk(current: Any, depth: int) -> tuple[int, int]:
        key = id(current)
        if key in memo:
            return memo[key]
        if depth > MAX_YAML_DEPTH:
            return limit + 1, depth
        memo[key] = (limit + 1, depth)  # a node that contains itself counts as too large
        size, deepest = 1, 0
        if isinstance(current, yaml.SequenceNode):
            children = current.value
        elif isinstance(current, yaml.MappingNode):
            children = [n for pair in current.value for n in pair]
        else:
            children = []
        for child in children:
            child_size, child_depth = walk(child, depth + 1)
            size = min(size + child_size, limit + 1)
            deepest = max(deepest, child_depth + 1)
        memo[key] = (size, deepest)
        return memo[key]

    return walk(node, 0)


def _may_exceed_limits(yaml_text: str) -> bool:
    """False when the text alone proves the limits hold, so the node walk can be skipped (most files).

    Without an anchor (`&`) there is no alias to expand, and the text's size (<= MAX_YAML_BYTES) bounds
    the values. Nesting is at most the deepest indentation plus the `- ` entries on one line plus every
    flow bracket in the text: when that sum is under the limit, so is the depth.
    """
    if "&" in yaml_text:
        return True
    brackets = yaml_text.count("[") + yaml_text.count("{")
    deepest = 0
    for line in yaml_text.split("\n"):
        stripped = line.lstrip()
        deepest = max(deepest, len(line) - len(stripped) + stripped.count("- ") + stripped.count("? "))
    return brackets + deepest >= MAX_YAML_DEPTH


def _yaml_limit_problem(result: Frontmatter) -> str | None:
    """Why this frontmatter is refused before it is parsed (size, nesting), or None."""
    if len(result.yaml_text) > MAX_YAML_BYTES:
        return f"frontmatter is larger than {MAX_YAML_BYTES // 1024} KB"
    if _DEEP_FLOW.search(result.yaml_text):
        return f"frontmatter nests more than {MAX_YAML_DEPTH} levels deep"
    return None


def _parse_yaml(result: Frontmatter, fast: bool = True) -> None:
    offset = result.yaml_start_line - 1
    problem = _yaml_limit_problem(result)
    if problem:
        result.error = YamlProblem(result.yaml_start_line, 1, problem)
        return
    if fast and _fast_parse(result):
        return
    import yaml  # only here: the fast path above reads most files without it
    try:
        loader = _loader()(result.yaml_text)
        try:
            node = loader.get_single_node()
            if node is not None and _may_exceed_limits(result.yaml_text):
                size, depth = _expanded_size(node, MAX_YAML_VALUES)
                if size > MAX_YAML_VALUES or depth > MAX_YAML_DEPTH:
                    what = (f"nests more than {MAX_YAML_DEPTH} levels deep" if depth > MAX_YAML_DEPTH else
                            f"expands to more than {MAX_YAML_VALUES:,} values (aliases: a YAML alias bomb)")
                    result.error = YamlProblem(node.start_mark.line + 1 + offset, 1, f"frontmatter {what}")
                    return
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + offset) if mark else result.yaml_start_line
        col = (mark.column + 1) if mark else 1
        message = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
        result.error = YamlProblem(line, col, message)
        result.lenient_data = _lenient_parse(result.yaml_text)
        return
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        result.error = YamlProblem(result.yaml_start_line, 1, message)
        return
    if data is None:
        result.data = {}
        return
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        line = (node.start_mark.line + 1 + offset) if node is not None else result.yaml_start_line
        result.error = YamlProblem(line, 1, f"frontmatter is a {type(data).__name__}, not a mapping of keys")
        return
    for index, line in enumerate(result.yaml_text.split("\n")):
        if _BLOCK_INDICATOR_VALUE.match(line):  # `key: - x` / `key: ? x`: YAML 1.2 parsers reject it
            result.error = YamlProblem(result.yaml_start_line + index, line.index(":") + 3,
                                       "a block indicator (`- ` or `? `) cannot start a "
                                       "value on the key's line")
            result.lenient_data = _lenient_parse(result.yaml_text)
            return
    result.data = {str(key): value for key, value in data.items()}
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = str(key_node.value)
        position = Position(key_node.start_mark.line + 1 + offset, key_node.start_mark.column + 1,
                            value_node.start_mark.line + 1 + offset, value_node.start_mark.column + 1)
        if key in seen:
            result.duplicate_keys.append((key, position.line, position.col))
        else:
            seen.add(key)
        result.positions[key] = position


_BLOCK_INDICATOR_VALUE = re.compile(r"[A-Za-z_][\w-]*[ \t]*:[ \t]+[-?](?:[ \t]|$)")
_TOP_LEVEL_KEY = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(.*))?$")


def _lenient_parse(yaml_text: str) -> dict[str, Any] | None:
    """Re-read broken frontmatter as Claude Code's fallback does: one `key: value` a line, value as text.

    Indented lines continue the previous value. Returns None if even this does not give a mapping.
    """
    import yaml

    lines: list[str] = []
    for line in yaml_text.split("\n"):
        line = re.sub(r"^\t+", lambda m: "  " * len(m.group(0)), line)  # tab indentation is tolerated
        match = _TOP_LEVEL_KEY.match(line)
        if match and match.group(2) and re.match(r"[-?](?:[ \t]|$)", match.group(2)):
            return None
        if match and match.group(2) and not match.group(2).startswith(("'", '"', "[", "{", "|", ">")):
            lines.append(f"{match.group(1)}: {json.dumps(match.group(2).strip())}")
        elif match or not line.strip() or line.startswith((" ", "\t", "-")):
            lines.append(line)
        else:
            return None
    try:
        loader = _loader()("\n".join(lines))
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            size, depth = _expanded_size(node, MAX_YAML_VALUES)
            if size > MAX_YAML_VALUES or depth > MAX_YAML_DEPTH:
                return None
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return None
    return {str(k): v for k, v in data.items()} if isinstance(data, dict) else None


# --- a fast path for the common, flat frontmatter -----------------------------------------------------------
# Most agent and command frontmatter is `key: plain text` lines, quoted strings without escapes, `[a, b]` and
# `- item` lists. Reading those by hand costs a tenth of PyYAML's Python constructor. Anything else --
# nesting, multi-line or escaped scalars, anchors, tags, comments after values, numbers other than plain
# decimals, duplicate keys -- returns False and PyYAML reads the text. tests/unit/test_frontmatter_fast.py
# checks that both give the same data and positions on every shape the fast path accepts.
_FAST_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?:( +)(.*))?")
_FAST_ITEM = re.compile(r"( *)- +(.*)")
# YAML line breaks other than \n, tabs, BOMs and characters YAML does not allow: leave them to PyYAML
# (named one by one: the negated class of the allowed ranges takes ~40 ms to compile, at every start)
_FAST_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_PLAIN_FIRST_BAD = frozenset("-?:,[]{}#&*!|>'\"%@`")
_RESERVED_KEYS = frozenset({"true", "false", "null", "y", "n", "yes", "no", "on", "off"})
_NOT_A_SCALAR = object()


def _fast_scalar(text: str) -> Any:
    """A one-line scalar as the YAML 1.2 loader reads it, or _NOT_A_SCALAR when only PyYAML may decide."""
    if not text:
        return _NOT_A_SCALAR
    first = text[0]
    if first == '"':
        inner = text[1:-1]
        if len(text) >= 2 and text[-1] == '"' and '"' not in inner and "\\" not in inner:
            return inner
        return _NOT_A_SCALAR
    if first == "'":
        inner = text[1:-1]
        if len(text) >= 2 and text[-1] == "'" and "'" not in inner:
            return inner
        return _NOT_A_SCALAR
    if first in _PLAIN_FIRST_BAD or text in ("~", "=", "<<") or ": " in text or " #" in text \
            or text.endswith(":") or text != text.rstrip():
        return _NOT_A_SCALAR
    if first in "+.0123456789":
        if text.isdigit() and (text == "0" or first != "0"):
            return int(text)
        return _NOT_A_SCALAR  # other numbers: the loader's own rules (octal, hex, floats)
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if text in ("null", "Null", "NULL"):
        return None
    return text


def _fast_parse(result: Frontmatter) -> bool:
    """Fill result.data and positions from flat frontmatter; False (nothing changed) for anything else."""
    text = result.yaml_text
    if not text or _FAST_UNSAFE.search(text):
        return False
    lines = text.split("\n")
    data: dict[str, Any] = {}
    positions: dict[str, Position] = {}
    start = result.yaml_start_line
    index, count = 0, len(lines)
    while index < count:
        line = lines[index]
        stripped = line.strip()
        if not stripped or line[0] == "#":  # a comment line at column 1 (an indented one: PyYAML decides)
            index += 1
            continue
        match = _FAST_KEY.fullmatch(line)
        if match is None:
            return False
        key, gap, raw = match.groups()
        if key in data or key.lower() in _RESERVED_KEYS:
            return False
        line_no = start + index
        index += 1
        raw = (raw or "").rstrip(" ")
        if raw:
            if raw[0] == "[":
                value = _fast_flow_list(raw)
            else:
                value = _fast_scalar(raw)
            if value is _NOT_A_SCALAR:
                return False
            positions[key] = Position(line_no, 1, line_no, len(key) + 2 + len(gap))
        else:
            items: list[Any] = []
            indent = None
            item_line = item_col = 0
            while index < count:
                item = lines[index]
                if not item.strip():
                    break
                found = _FAST_ITEM.fullmatch(item)
                if found is None:
                    if item[0] == " ":
                        return False  # nested mapping, continuation line, comment inside: PyYAML decides
                    break
                if indent is None:
                    indent = len(found.group(1))
                    item_line, item_col = start + index, indent + 1
                elif len(found.group(1)) != indent:
                    return False
                scalar = _fast_scalar(found.group(2).rstrip(" "))
                if scalar is _NOT_A_SCALAR:
                    return False
                items.append(scalar)
                index += 1
            if not items:
                return False  # `key:` with no value: PyYAML's null and its position
            value = items
            positions[key] = Position(line_no, 1, item_line, item_col)
        data[key] = value
    if not data:
        return False
    result.data = data
    result.positions = positions
    return True


def _fast_flow_list(raw: str) -> Any:
    """`[a, b]` of plain words on one line, else _NOT_A_SCALAR."""
    if raw[-1] != "]" or any(c in raw[1:-1] for c in "[]{}\"'#:&*!|>%@`"):
        return _NOT_A_SCALAR
    inner = raw[1:-1].strip()
    if not inner:
        return []
    out = []
    for part in inner.split(","):
        part = part.strip()
        value = _fast_scalar(part)
        if value is _NOT_A_SCALAR or part.startswith("-"):
            return _NOT_A_SCALAR
        out.append(value)
    return out
