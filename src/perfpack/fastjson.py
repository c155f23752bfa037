"""JSON for the hot paths without `import json`.

`import json` imports `re`, and with it enum, functools and friends: on this machine about half of a bare
interpreter start. The routing hook runs on every prompt and `perfpack memory` once per agent action, so
both read and write JSON through here:

- `loads` / `dumps` use CPython's C accelerator (`_json`, the same code `json` runs underneath); `dumps`
  gives exactly the text `json.dumps` gives for the same arguments (tests/unit/test_fastjson.py).
- `parse_small` / `dumps_string` are pure Python, for the hook's one small payload: even loading `_json`
  costs ~4% of a start there.

Everything else (export, import, reports) uses the json module as usual.
"""

# No `from __future__ import annotations`: importing __future__ costs ~0.5 ms of the hook.


# --- the C accelerator ------------------------------------------------------------------------------------


class _ScannerContext:
    """The attributes `_json.make_scanner` reads from json.JSONDecoder, with json.loads's defaults."""

    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # NaN, Infinity, -Infinity, as json.loads accepts them
    memo: dict = {}

    def __init__(self, strict: bool) -> None:
        self.strict = strict


def loads(text: str, *, strict: bool = True):
    """json.loads(text, strict=strict); raises ValueError (json.JSONDecodeError, except for too deep nesting)."""
    try:
        import _json

        scanner = _json.make_scanner(_ScannerContext(strict))
    except (ImportError, AttributeError):  # pragma: no cover - CPython always has _json
        import json

        return json.loads(text, strict=strict)
    try:
        value, end = scanner(text, _skip(text, 0))
        if _skip(text, end) == len(text):
            return value
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except (StopIteration, ValueError, SystemError):
        # SystemError: the scanner raises json.decoder.JSONDecodeError only when json.decoder is loaded
        pass
    import json  # only on the error path: json.JSONDecodeError says where the text breaks

    try:
        return json.loads(text, strict=strict)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def dumps(
    value: object,
    *,
    indent: int | None = None,
    sort_keys: bool = False,
    ensure_ascii: bool = True,
    separators: tuple[str, str] | None = None,
) -> str:
    """json.dumps(value, ...) for JSON data: dicts with str keys, lists, tuples, str, int, float, bool, None.

    Anything else raises TypeError, as json.dumps does without a `default`.
    """
    try:
        import _json

        quote = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    except (ImportError, AttributeError):  # pragma: no cover - CPython always has _json
        import json

        return json.dumps(value, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii,
                          separators=separators)
    item_sep, key_sep = separators or ((", " if indent is None else ","), ": ")
    out: list[str] = []
    _encode(value, out, quote, indent, item_sep, key_sep, sort_keys, 0)
    return "".join(out)


def _encode(value, out, quote, indent, item_sep, key_sep, sort_keys, depth) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("JSON nested too deeply")
    if isinstance(value, str):
        out.append(quote(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, (list, tuple, dict)):
        if not value:
            out.append("{}" if isinstance(value, dict) else "[]")
            return
        is_dict = isinstance(value, dict)
        if is_dict:
            items = sorted(value.items()) if sort_keys else value.items()
        else:
            items = value
        if indent is None:
            inner, close = item_sep, ""
        else:
            inner = item_sep + "\n" + " " * (indent * (depth + 1))
            close = "\n" + " " * (indent * depth)
        out.append("{" if is_dict else "[")
        if indent is not None:
            out.append(inner[len(item_sep):])
        first = True
        for item in items:
            if not first:
                out.append(inner)
            first = False
            if is_dict:
                key, item = item
                if not isinstance(key, str):
                    raise TypeError(f"keys must be str, not {type(key).__name__}")
                out.append(quote(key))
                out.append(key_sep)
            _encode(item, out, quote, indent, item_sep, key_sep, sort_keys, depth + 1)
        out.append(close)
        out.append("}" if is_dict else "]")
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return float.__repr__(value)


# --- pure Python, for one small payload ---------------------------------------------------------------------

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_NUMBER_CHARS = frozenset("+-0123456789.eE")
_HEX = frozenset("0123456789abcdefABCDEF")
_MAX_DEPTH = 200


def parse_small(text: str):
    """A small pure-Python JSON reader (strings found with str.find). Raises ValueError.

    For the hook's stdin payload, one small object of strings: cheaper than loading `_json`.
    Refuses nesting deeper than 200 levels (json accepts it; bounded recursion here).
    """
    value, end = _value(text, _skip(text, 0), 0)
    if _skip(text, end) != len(text):
        raise ValueError("extra data after JSON value")
    return value


def _skip(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] in " \t\n\r":
        i += 1
    return i


def _value(s: str, i: int, depth: int):
    if depth > _MAX_DEPTH:
        raise ValueError("JSON nested too deeply")
    if i >= len(s):
        raise ValueError("unexpected end of JSON")
    ch = s[i]
    if ch == '"':
        return _string(s, i)
    if ch == "{":
        result = {}
        i = _skip(s, i + 1)
        if s.startswith("}", i):
            return result, i + 1
        while True:
            if not s.startswith('"', i):
                raise ValueError(f"expected a key at {i}")
            key, i = _string(s, i)
            i = _skip(s, i)
            if not s.startswith(":", i):
                raise ValueError(f"expected ':' at {i}")
            result[key], i = _value(s, _skip(s, i + 1), depth + 1)
            i = _skip(s, i)
            if s.startswith(",", i):
                i = _skip(s, i + 1)
            elif s.startswith("}", i):
                return result, i + 1
            else:
                raise ValueError(f"expected ',' or '}}' at {i}")
    if ch == "[":
        items = []
        i = _skip(s, i + 1)
        if s.startswith("]", i):
            return items, i + 1
        while True:
            item, i = _value(s, i, depth + 1)
            items.append(item)
            i = _skip(s, i)
            if s.startswith(",", i):
                i = _skip(s, i + 1)
            elif s.startswith("]", i):
                return items, i + 1
            else:
                raise ValueError(f"expected ',' or ']' at {i}")
    for word, literal in (("true", True), ("false", False), ("null", None)):
        if s.startswith(word, i):
            return literal, i + len(word)
    j = i
    while j < len(s) and s[j] in _NUMBER_CHARS:
        j += 1
    token = s[i:j]
    if not token or token[0] == "+" or (token.lstrip("-")[:1] == "0" and token.lstrip("-")[1:2].isdigit()):
        raise ValueError(f"unexpected character at {i}")
    try:
        return (float(token) if any(c in token for c in ".eE") else int(token)), j
    except ValueError:
        raise ValueError(f"bad number at {i}") from None


def _string(s: str, i: int):
    parts = []
    start = i + 1
    while True:
        quote = s.find('"', start)
        if quote == -1:
            raise ValueError("unterminated string")
        backslash = s.find("\\", start, quote)
        if backslash == -1:
            parts.append(s[start:quote])
            return "".join(parts), quote + 1
        parts.append(s[start:backslash])
        escape = s[backslash + 1: backslash + 2]
        if escape == "u":
            digits = s[backslash + 2: backslash + 6]
            if len(digits) != 4 or not _HEX.issuperset(digits):
                raise ValueError("bad \\u escape")
            code = int(digits, 16)
            start = backslash + 6
            if 0xD800 <= code < 0xDC00 and s.startswith("\\u", start):
                low_digits = s[start + 2: start + 6]
                if len(low_digits) == 4 and _HEX.issuperset(low_digits):
                    low = int(low_digits, 16)
                    if 0xDC00 <= low < 0xE000:
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        start += 6
            parts.append(chr(code))
        elif escape in _ESCAPES:
            parts.append(_ESCAPES[escape])
            start = backslash + 2
        else:
            raise ValueError("bad escape")


def dumps_string(text: str) -> str:
    """A JSON string literal for `text`, ASCII only (as json.dumps writes it), without loading `_json`."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code > 0xFFFF:  # a surrogate pair, as JSON spells characters outside the BMP
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return '"' + "".join(out) + '"'
