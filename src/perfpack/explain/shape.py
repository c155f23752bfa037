"""The shape of a SQL statement: its text with literals and parameters replaced by `?`.

`SELECT * FROM t WHERE id = 42` and `... id = 43` have one shape, so a program's statements can be
counted per shape. Standard library only and cheap: the capture bootstrap loads this file by path
inside the user's program and calls it once per statement.
"""

from __future__ import annotations

import re

# One pass over the text. Order matters: comments and quoted things first, so that a number or a
# quote inside them is not taken for a literal.
_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<string>[Ee]'(?:[^'\\]|\\.|'')*(?:'|\Z)|(?:[XxBbNn]|[Uu]&)?'(?:[^']|'')*(?:'|\Z))
    | (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*)?\$.*?(?:\$(?P=tag)?\$|\Z))
    | (?P<ident>"(?:[^"]|"")*(?:"|\Z)|`[^`]*(?:`|\Z)|\[[^\]]*(?:\]|\Z))
    | (?P<param>\?\d*|\$\d+|%\([^)]*\)s|%s|[:@][A-Za-z_][A-Za-z_0-9]*)
    | (?P<number>(?:0[xX][0-9A-Fa-f]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![A-Za-z_0-9]))
    | (?P<word>[A-Za-z_][A-Za-z_0-9$]*)
    | (?P<cast>::)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)+\s*\)")
_VALUES_ROWS = re.compile(r"(\(\?(?:, \?)*\))(?:\s*,\s*\1)+")
_SIGN_KEYWORDS = frozenset(
    {
        "SELECT",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "THEN",
        "ELSE",
        "WHEN",
        "BETWEEN",
        "IN",
        "IS",
        "LIMIT",
        "OFFSET",
        "VALUES",
        "RETURN",
        "SET",
        "LIKE",
        "CASE",
        "BY",
        "ON",
        "HAVING",
    }
)


def shape(sql: str) -> str:
    """`sql` with every literal and parameter as `?`, comments dropped, whitespace collapsed.

    `IN (1, 2, 3)` and `IN (?, ?)` both become `IN (?)`; the multi-row VALUES of a batched insert
    become one row, which keeps its columns (`VALUES (?, ?, ?)`). Keywords keep their case; identifiers
    are untouched.
    """
    out: list[str] = []
    space = False
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind in ("ws", "comment"):
            space = bool(out)
            continue
        if kind in ("string", "dollar", "param", "number"):
            text = "?"
            if kind == "number" and _unary_minus(out):
                del out[-1]
                space = bool(out) and out[-1] == " "
                if space:
                    del out[-1]
        else:
            text = match.group()
        if space and out:
            out.append(" ")
        space = False
        out.append(text)
    text = "".join(out).rstrip(";").rstrip()
    return _tidy_lists(text) if "?" in text else text


def _unary_minus(out: list[str]) -> bool:
    """Is the "-" just written a sign (after an operator, "(", "," or a keyword) rather than a minus?"""
    if not out or out[-1] != "-":
        return False
    before = [t for t in out[:-1] if t != " "][-1:]
    if not before:
        return True
    prev = before[0]
    if prev[-1] in "=<>(,+-*/%|":
        return True
    return prev.upper() in _SIGN_KEYWORDS


def _tidy_lists(text: str) -> str:
    # "( ? , ? )" -> "(?, ?)" first, so lists of any spacing collapse the same way
    text = re.sub(r"\(\s*\?", "(?", text)
    text = re.sub(r"\?\s*\)", "?)", text)
    text = re.sub(r"\?\s*,\s*(?=\?)", "?, ", text)
    text = _VALUES_ROWS.sub(r"\1", text)
    return _LIST.sub(_collapse_unless_row, text)


def _collapse_unless_row(match: re.Match[str]) -> str:
    # an IN list's length is data (IN (?) whatever its size); a VALUES row's is the column count
    if match.string[: match.start()].rstrip().upper().endswith("VALUES"):
        return match.group()
    return "(?)"


def split_statements(sql: str) -> list[str]:
    """Split a script on `;` outside quotes and comments; empty statements are dropped."""
    return [text for _line, text in split_with_lines(sql)]


def split_with_lines(sql: str) -> list[tuple[int, str]]:
    """split_statements(), each with the line (1-based) where its first code starts."""
    parts: list[tuple[int, str]] = []
    start = 0
    for match in _TOKEN.finditer(sql):
        if match.lastgroup == "other" and match.group() == ";":
            parts.append((start, sql[start : match.start()]))
            start = match.end()
    parts.append((start, sql[start:]))
    out = []
    for offset, part in parts:
        if _has_code(part):
            stripped = part.strip()
            first = next(m.start() for m in _TOKEN.finditer(part) if m.lastgroup not in ("ws", "comment"))
            out.append((sql.count("\n", 0, offset + first) + 1, stripped))
    return out


def _has_code(part: str) -> bool:
    return any(m.lastgroup not in ("ws", "comment") for m in _TOKEN.finditer(part))


def first_word(sql: str) -> str:
    """The statement's first keyword, upper case ('' when there is none): SELECT, WITH, UPDATE..."""
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        if kind in ("ws", "comment"):
            continue
        return match.group().upper() if kind == "word" else ""
    return ""
