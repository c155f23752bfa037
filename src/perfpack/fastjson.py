"""JSON for the hot paths without `import json`.

`import json` imports `re`, and with it enum, functools and friends: on this machine about half of a bare
interpreter start. The routing hook runs on every prompt and `perfpack memory` once per agent action, so
both read and write JSON through here:

- `loads` / `dumps` use CPython's C accelerator (`_json`, the same code `json` runs underneath); `dumps`
  gives exactly the text `json.dumps` gives for the same arguments (tests/unit/test_fastjson.py).

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
    """json.loads(text, strict=strict).

    Raises ValueError (json.JSONDecodeError, except for too deep nesting)."""
    try:
        import _json

        # typeshed types the context as a make_scanner; it only reads the JSONDecoder attributes above
        scanner = _json.make_scanner(_ScannerContext(strict))  # type: ignore[arg-type]
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


def loads_object(text: str) -> object:
    """json.loads(text) for a hook's payload. A flat object of strings, booleans and nulls (what Claude Code
    sends) is read here in Python without `_json`: loading that C accelerator (a shared library) costs a hook
    start about half a millisecond, more than reading the payload. Anything else goes to `loads`."""
    flat = _flat_object(text)
    return flat if flat is not None else loads(text)


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX = frozenset("0123456789abcdefABCDEF")
_LITERALS = (("true", True), ("false", False), ("null", None))


def _flat_object(text: str) -> "dict | None":
    """The object `text` holds when it is one of only string, true, false and null values; None for
    anything else (numbers, nesting, any doubt), which `loads` then reads or rejects as json.loads does."""
    n = len(text)
    i = _skip(text, 0)
    if i >= n or text[i] != "{":
        return None
    out: dict = {}
    i = _skip(text, i + 1)
    if i < n and text[i] == "}":
        return out if _skip(text, i + 1) == n else None
    while True:
        key = _string(text, i) if i < n and text[i] == '"' else None
        if key is None:
            return None
        i = _skip(text, key[1])
        if i >= n or text[i] != ":":
            return None
        i = _skip(text, i + 1)
        if i < n and text[i] == '"':
            value = _string(text, i)
            if value is None:
                return None
            out[key[0]], i = value
        else:
            for word, literal in _LITERALS:
                if text.startswith(word, i):
                    out[key[0]] = literal
                    i += len(word)
                    break
            else:
                return None
        i = _skip(text, i)
        if i < n and text[i] == ",":
            i = _skip(text, i + 1)
        elif i < n and text[i] == "}":
            return out if _skip(text, i + 1) == n else None
        else:
            return None


def _string(text: str, i: int) -> "tuple[str, int] | None":
    """The JSON string starting at the quote text[i] and the index after its closing quote; None for an
    invalid one (a raw control character, an unknown escape). One C-level find per escape, not per char."""
    parts = []
    i += 1
    while True:
        quote = text.find('"', i)
        if quote < 0:
            return None
        backslash = text.find("\\", i, quote)
        end = quote if backslash < 0 else backslash
        chunk = text[i:end]
        if not chunk.isprintable() and any(char < " " for char in chunk):
            return None  # strict JSON: control characters must be escaped
        parts.append(chunk)
        if backslash < 0:
            return "".join(parts), quote + 1
        kind = text[backslash + 1:backslash + 2]
        if kind == "u":
            digits = text[backslash + 2:backslash + 6]
            if len(digits) != 4 or not _HEX.issuperset(digits):
                return None
            code = int(digits, 16)
            i = backslash + 6
            # a high surrogate and a low one escaped after it are one character, as json.loads reads them
            if 0xD800 <= code <= 0xDBFF and text.startswith("\\u", i):
                low = text[i + 2:i + 6]
                if len(low) == 4 and _HEX.issuperset(low) and 0xDC00 <= int(low, 16) <= 0xDFFF:
                    code = 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)
                    i += 6
            parts.append(chr(code))
        elif kind in _ESCAPES:
            parts.append(_ESCAPES[kind])
            i = backslash + 2
        else:
            return None


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
        if isinstance(value, dict):  # not `is_dict`: mypy narrows on isinstance only
            items = iter(sorted(value.items()) if sort_keys else value.items())
        else:
            items = iter(value)
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


_MAX_DEPTH = 200  # dumps refuses deeper values, as json's recursion limit would


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == -float("inf"):
        return "-Infinity"
    return float.__repr__(value)


def _skip(s: str, i: int) -> int:
    """Index of the first character at or after `i` that is not JSON whitespace."""
    n = len(s)
    while i < n and s[i] in " \t\n\r":
        i += 1
    return i
