"""Reading shell command lines the way bash would, without running them: one tokenizer for perfpack.

Used by the PreToolUse commit hook (which `git commit` will this Bash call run, with what message) and
by the validator (which simple commands a slash command's `!` line runs). Standard library only, and
linear in the length of the line: a hook must answer within Claude Code's timeout whatever the input.
"""

from __future__ import annotations

import re

PLACEHOLDER = "__PERFPACK_HEREDOC_{}__"
PLACEHOLDER_RE = re.compile(r"__PERFPACK_HEREDOC_(\d+)__")
OPERATORS = frozenset({";", "&&", "||", "|", "&", ";;", "(", ")", "|&"})
_HEADER_RE = re.compile(r"<<(-?)[ \t]*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")


def extract_heredocs(text: str) -> tuple[str, list[str]]:
    """`text` with each here-document's header replaced by a placeholder and its body removed.

    Returns the rewritten text and the bodies (placeholder N is bodies[N]). Quotes are honoured (a `<<`
    inside quotes is text, but `"$(cat <<'EOF' ...)"` is a command substitution, where it is not),
    `<<-` strips leading tabs from the terminator line, a body without its terminator runs to the end
    (as bash reads it), and a terminator followed by `)` closes a `$(...)`. One pass over the text:
    many unterminated headers cannot make it quadratic.
    """
    out: list[str] = []
    bodies: list[str] = []
    pending: list[tuple[bool, str, int]] = []  # (dash, delimiter, body index) waiting for the next newline
    # Innermost context last: "'" and '"' are quotes; "$(" and "(" are (sub)shells, where quotes and
    # here-documents start afresh.
    stack: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        top = stack[-1] if stack else ""
        if top == "'":
            if char == "'":
                stack.pop()
            out.append(char)
            i += 1
            continue
        if char == "\\":
            out.append(text[i:i + 2])
            i += 2
            continue
        if top == '"':
            if char == '"':
                stack.pop()
            elif text.startswith("$(", i):
                stack.append("$(")
                out.append("$(")
                i += 2
                continue
            out.append(char)
            i += 1
            continue
        if char in "'\"":
            stack.append(char)
        elif text.startswith("$(", i):
            stack.append("$(")
            out.append("$(")
            i += 2
            continue
        elif char == "(":
            stack.append("(")
        elif char == ")" and top in ("$(", "("):
            stack.pop()
        elif text.startswith("<<<", i):  # a here-string, not a here-document
            out.append("<<<")
            i += 3
            continue
        elif char == "<" and text.startswith("<<", i):
            match = _HEADER_RE.match(text, i)
            if match:
                bodies.append("")
                pending.append((match.group(1) == "-", match.group(3), len(bodies) - 1))
                out.append(PLACEHOLDER.format(len(bodies) - 1))
                i = match.end()
                continue
        elif char == "\n" and pending:
            out.append("\n")
            i = _read_bodies(text, i + 1, pending, bodies)
            pending = []
            continue
        out.append(char)
        i += 1
    return "".join(out), bodies


def _read_bodies(text: str, start: int, pending: list[tuple[bool, str, int]], bodies: list[str]) -> int:
    """Read the bodies that follow a line with here-document headers; return where the text resumes."""
    position, n = start, len(text)
    for dash, delimiter, index in pending:
        lines: list[str] = []
        while position < n:
            start = position
            end = text.find("\n", position)
            end = n if end < 0 else end
            line = text[start:end]
            position = min(end + 1, n)
            candidate = (line.lstrip("\t") if dash else line).strip()
            if candidate == delimiter:
                break
            if candidate.startswith(delimiter) and candidate[len(delimiter):].lstrip().startswith(")"):
                position = text.index(")", start)  # `EOF)`: the `)` still closes its `$(` for the caller
                break
            lines.append(line)
        bodies[index] = "\n".join(lines)
    return position


MAX_TOKENIZE_CHARS = 32 * 1024  # of a command line once here-document bodies are out (100 KB took 2 s)


def tokenize(command: str) -> tuple[list[str], list[str]] | None:
    """Words and operators of a command line (here-document bodies taken out), or None if unreadable.

    Returns (tokens, bodies): a token that is a placeholder (see PLACEHOLDER_RE) stands for bodies[N].
    None for unbalanced quotes: not something a check can read.
    """
    import shlex

    text, bodies = extract_heredocs(command)
    if len(text) > MAX_TOKENIZE_CHARS:
        return None  # shlex builds each token by string concatenation: quadratic in a long quoted word
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer), bodies
    except ValueError:
        return None


def split_commands(command: str) -> list[str]:
    """Split a shell line into simple commands on `&&`, `||`, `;`, `|` outside quotes (text kept as is)."""
    segments, current, quote, index = [], "", "", 0
    while index < len(command):
        char = command[index]
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"':
                current += char
                index += 1
                char = command[index] if index < len(command) else ""
            current += char
        elif char in "'\"":
            quote = char
            current += char
        elif command.startswith(("&&", "||"), index):
            segments.append(current)
            current = ""
            index += 1
        elif char in ";|" and not command.startswith(">|", index - 1):
            segments.append(current)
            current = ""
        else:
            current += char
        index += 1
    segments.append(current)
    return [s.strip() for s in segments if s.strip()]
