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
