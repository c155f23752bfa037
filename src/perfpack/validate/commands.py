"""Checks of slash-command and skill files: keys, arguments, and `!` lines against allowed-tools."""

from __future__ import annotations

import re
from typing import Any

from perfpack.findings import Finding
from perfpack.frontmatter import Frontmatter
from perfpack.validate import claude_code as cc
from perfpack.validate import schemas
from perfpack.validate.agents import split_tools
from perfpack.validate.markdown import Context, MdFile, check_schema, did_you_mean, short, show
from perfpack.validate.rules import rule

AGENT_ONLY_KEYS = {"tools", "color", "maxTurns", "permissionMode", "skills", "memory", "isolation",
                   "mcpServers", "background", "initialPrompt", "disallowedTools"}
# `!`cmd`` at line start or after whitespace, and ```! fenced blocks, run before the model sees the text.
BANG_INLINE = re.compile(r"(?:^|(?<=\s))!`([^`\n]+)`")
ARG_IN_SHELL = re.compile(r"\$ARGUMENTS(?:\[\d+\])?|\$\{?ARGUMENTS\}?|\$\d+\b")


def check_command(md: MdFile, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    data, fm, path = md.data, md.fm, md.display
    if data is not None:
        out += check_schema(md, "command", data)
        for key in data:
            if key in schemas.known_keys("command"):
                continue
            line, col = fm.position(key)
            if key in AGENT_ONLY_KEYS:
                fix = ("use `allowed-tools` (space or comma separated)" if key == "tools"
                       else f"remove `{key}`")
                out.append(rule("PP304").finding(path, line, col,
                                                 f"`{key}` is an agent key; commands ignore it", fix))
            else:
                close = did_you_mean(key, schemas.known_keys("command"))
                out.append(rule("PP110").finding(
                    path, line, col, f"unknown key `{key}`: Claude Code ignores it silently"
                    + (f" (did you mean `{close}`?)" if close else ""),
                    f"rename it to `{close}`" if close else f"remove `{key}`"))
    if fm.text is None:
        return out
    patterns = bash_patterns((data or {}).get("allowed-tools"))
    if patterns is not None:
        patterns += ctx.settings_allow.get(md.target.root, [])
    named = _named_arguments((data or {}).get("arguments"))
    for line, col, command in bang_commands(fm):
        args = [m.group(0) for m in ARG_IN_SHELL.finditer(command)]
        args += [f"${n}" for n in named if re.search(rf"\${{?{re.escape(n)}\b", command)]
        if args:
            out.append(rule("PP302").finding(
                path, line, col, f"`{args[0]}` inside a ! line is substituted raw, before the "
                                 "shell runs: a user-typed "
                "argument becomes shell code", "remove the argument from the ! line; let "
                                               "the model pass it to a "
                "tool call instead"))
        if patterns is None:
            continue  # bare `Bash` allows everything, and skips the CLI's own checks (the oracle)
        if md.target.plugin and PLUGIN_ROOT_VAR in command:
            # the oracle (p045-p047): a plugin's root is substituted before the checks, as an absolute path
            # outside the project: quoted or as the program it runs, `ls ${CLAUDE_PLUGIN_ROOT}` is refused
            command = command.replace(PLUGIN_ROOT_VAR, PLUGIN_ROOT_SEEN)
            patterns = [p.replace(PLUGIN_ROOT_VAR, PLUGIN_ROOT_SEEN) for p in patterns]
        why = cli_refusal(command, ctx.version or cc.default_version())
        if why and why.startswith("an environment assignment") and _assignment_allowed(command, patterns):
            why = None  # the oracle: `Bash(FOO=1:*)` lets `FOO=1 echo a` run (c111, both versions)
        if why:
            out.append(rule("PP305").finding(
                path, line, col, f"`{show(short(command, 60))}`: {why}; Claude Code refuses "
                                 "this ! line whatever "
                "allowed-tools lists, and aborts the whole command",
                "move the logic into a script the ! line "
                "calls (Bash(./script.sh:*)), or let the model run it as a tool call"))
            continue
        refused = [seg for seg in split_shell(command) if not _allowed(seg, patterns)]
        if refused:
            first = refused[0].split()[0] if refused[0].split() else refused[0]
            out.append(rule("PP301").finding(
                path, line, col, f"`{short(refused[0], 60)}` is not allowed by "
                                 "allowed-tools: Claude Code aborts "
                "the whole command silently (nothing is sent to the model)",
                f"add Bash({first}:*) to allowed-tools, or remove the ! line"))
    return out


PLUGIN_ROOT_VAR = "${CLAUDE_PLUGIN_ROOT}"
PLUGIN_ROOT_SEEN = "/plugin-root"  # what the checks see: an absolute path outside the project
_BRACE = re.compile(r"\{[^{}\s]*(?:,|\.\.)[^{}\s]*\}|@\{")
_OUTSIDE = re.compile(r"(?:^|\s)(?:~|\.\.(?:/|\s|$)|/(?!dev/null\b)[\w.-])")


def _unquoted(command: str) -> str:
    """The command with single-quoted text blanked out (what the shell would expand is what is left)."""
    return re.sub(r"'[^']*'", "''", command)


def cli_refusal(command: str, version: str = "") -> str | None:
    """Why the CLI's own checks refuse a ! line even when allowed-tools allows the command (2.1.197 and
    2.1.332 alike, from the oracle's recorded reasons); None when they let it through."""
    # the oracle (c277): 2.1.332 leaves `$1` in a ! line alone and refuses it as a variable; 2.1.197 runs it
    if re.search(r"\$[1-9]", _unquoted(command)) and cc.since(version or cc.default_version(), "2.1.332"):
        return "a positional `$N` the CLI does not substitute here (it refuses it as a variable)"
    text = _unquoted(ARG_IN_SHELL.sub("arg", command))  # arguments are pasted in before the checks run
    if _BRACE.search(text):
        return "brace expansion"
    if "$(" in text.replace("$((", "") or "`" in text:
        return "a nested command that cannot be checked before it runs"
    if "${" in text or re.search(r'"[^"]*\$\w', text):
        return "a variable expansion the checker cannot see through"
    if re.search(r"\$[1-9]", text):
        return "a positional parameter"
    if re.search(r"(?:^|[;&|]\s*)[A-Za-z_]\w*=\S*\s+\S", text):
        return "an environment assignment in front of the command"
    if re.search(r"(?:^|[;&|]\s*)eval\b", text):
        return "eval"
    if re.search(r"(?<![<>0-9&])>>?(?!\s*/dev/null)(?!&)", text):
        return "an output redirection (a write the checker asks about)"
    for segment in split_shell(text):
        words = segment.split()
        if words and words[0] not in ("echo", "printf") and _OUTSIDE.search(" " + " ".join(words[1:])):
            return "a path outside the project's working directory"
    return None


def _named_arguments(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,]+", value) if re.fullmatch(r"[A-Za-z_]\w*", v)]
    if isinstance(value, dict):
        return [str(k) for k in value if re.fullmatch(r"[A-Za-z_]\w*", str(k))]
    if isinstance(value, list):
        names = []
        for item in value:
            name = item.get("name") if isinstance(item, dict) else item
            if isinstance(name, str) and re.fullmatch(r"[A-Za-z_]\w*", name):
                names.append(name)
        return names
    return []


def bang_commands(fm: Frontmatter) -> list[tuple[int, int, str]]:
    """(line, col, shell command) for every !`…` and ```! block in the body."""
    found = []
    lines = fm.body.split("\n")
    index = 0
    while index < len(lines):
        text = lines[index]
        line_no = fm.body_start_line + index
        if text.strip().startswith("```!"):
            block = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith("```"):
                block.append(lines[index])
                index += 1
            for offset, command in enumerate(block):
                if command.strip():
                    found.append((line_no + 1 + offset, 1, command.strip()))
            index += 1
            continue
        for match in BANG_INLINE.finditer(text):
            found.append((line_no, match.start() + 1, match.group(1).strip()))
        index += 1
    return found


def bash_patterns(value: Any) -> list[str] | None:
    """Bash permission patterns from allowed-tools; None when bare `Bash` allows every command."""
    if isinstance(value, str):
        entries = [e for e, _ in split_tools(value)]
        entries = [part for e in entries for part in (_split_spaces(e))]
    elif isinstance(value, list):
        entries = [str(v).strip() for v in value]
    else:
        return []
    patterns = []
    for entry in entries:
        if entry in ("Bash", "Bash(*)", "Bash(:*)", "Bash()"):
            return None
        match = re.fullmatch(r"Bash\((.*)\)", entry, re.DOTALL)
        if match:
            patterns.append(match.group(1).strip())
    return patterns


def _split_spaces(entry: str) -> list[str]:
    """allowed-tools may also be space separated: `Read Bash(git status:*)`; keep spaces inside (...)."""
    parts, depth, current = [], 0, ""
    for char in entry:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        if char.isspace() and depth == 0:
            if current:
                parts.append(current)
            current = ""
        else:
            current += char
    if current:
        parts.append(current)
    return parts


def split_shell(command: str) -> list[str]:
    """Split a shell line into simple commands on &&, ||, ;, | outside quotes (perfpack.shell)."""
    from perfpack.shell import split_commands

    return split_commands(command)


_READ_ONLY = {"cat", "head", "tail", "ls", "pwd", "echo", "wc", "grep", "rg", "date", "whoami", "uname",
              "which", "type", "file", "stat", "du", "df", "sort", "uniq", "cut", "tr", "basename", "dirname",
              "realpath", "readlink", "printenv", "id", "hostname", "nproc", "tree", "diff", "cd", "true",
              "false", "test", "jq", "printf", "column", "seq", "sleep"}
_READ_ONLY_GIT = {"status", "log", "diff", "show", "branch", "rev-parse", "remote", "ls-files", "describe",
                  "blame", "shortlog", "tag"}


def _read_only(segment: str) -> bool:
    cleaned = re.sub(r"\d?>&\d|\d?>\s*/dev/null|\$\(\([^)]*\)\)", "", segment)
    if ">" in cleaned or "$(" in cleaned or "`" in cleaned:
        return False
    words = cleaned.split()
    while words and re.fullmatch(r"[A-Za-z_]\w*=\S*", words[0]):
        words = words[1:]
    if not words:
        return True
    if words[0] == "git":
        return len(words) > 1 and words[1] in _READ_ONLY_GIT
    if words[0] == "xargs":
        return len(words) > 1 and _read_only(" ".join(words[1:]).split("<")[0])
    if words[0] == "find":
        return not any(w in ("-exec", "-execdir", "-delete", "-ok", "-fprint") for w in words)
    return words[0] in _READ_ONLY


def _assignment_allowed(command: str, patterns: list[str]) -> bool:
    """An allowed-tools entry that itself starts with the assignment (`Bash(FOO=1:*)`) matches every part."""
    return any(re.match(r"[A-Za-z_]\w*=", p) for p in patterns) and \
        all(_allowed(seg, patterns) for seg in split_shell(command))


def _allowed(segment: str, patterns: list[str]) -> bool:
    if _read_only(segment):
        return True
    for pattern in patterns:
        if pattern.endswith(":*"):
            prefix = pattern[:-2].rstrip()
            if segment == prefix or segment.startswith(prefix + " "):
                return True
        elif "*" in pattern:
            regex = ".*".join(re.escape(part) for part in pattern.split("*"))
            if re.fullmatch(regex, segment, re.DOTALL) or (pattern.endswith(" *")
                                                           and segment == pattern[:-2]):
                return True
        elif segment == pattern:
            return True
    return False
