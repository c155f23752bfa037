"""Claude Code PreToolUse hook: on a Bash `git commit`, check the staged change and the message.

Standard library only, and nothing imported before the cheap test: a Bash call without the bytes "git"
and "commit" returns at once. Any trouble fails open (exit 0, no output). By default it only adds advice
for the agent (what to split); `hook-mode = "deny"` refuses.

It runs before the user approves the command, so it never runs git in a repository the command names
unless that is the session's own project (a cloned repository's `core.fsmonitor` would run otherwise),
and always with git's config-driven helpers (fsmonitor, external diff, textconv) turned off.
"""

from __future__ import annotations

# git global options that take a value, and commit options that take one (besides -m / -F).
_GIT_VALUE_OPTIONS = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path"}
_COMMIT_VALUE_OPTIONS = {"-c", "-C", "-t", "--author", "--date", "--template", "--cleanup", "--reuse-message",
                         "--reedit-message", "--fixup", "--squash", "--trailer", "--pathspec-from-file",
                         "-S", "--gpg-sign", "--untracked-files", "-u"}
_OPTIONAL_VALUE = {"-S", "--gpg-sign", "-u", "--untracked-files"}  # value only when attached
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
GIT_TIMEOUT = 10.0
MAX_COMMAND_BYTES = 1024 * 1024  # a longer Bash command is not read (fail open) rather than slow
# Config-driven commands git could run while the hook looks at the index and the work tree.
_SAFE_GIT = ("-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false", "-c", "diff.external=",
             "-c", "core.hooksPath=/dev/null")


class CommitCall:
    """What one `git commit` in a shell command will do, as far as it can be read."""

    def __init__(self) -> None:
        self.cwd: str | None = None
        self.messages: list[str] = []
        self.message_file: str | None = None
        self.message_unknown = False  # -F - without a heredoc, -C/-c reuse: cannot be known
        self.signoff = False
        self.all = False
        self.amend = False
        self.trailers: list[str] = []
        self.fixup: str | None = None
        self.pathspecs: list[str] = []
        # `git add PATHS && git commit` in one command: the hook runs before the add, so count those too.
        self.added: list[str] | None = None  # None: no add before; []: everything (git add -A / .)
        self.added_tracked_only = False  # git add -u


def handle(argv: list[str], stdin: bytes) -> tuple[int, str]:
    """Hook entry: (exit code, stdout). Returns (0, "") for everything that is not a checkable commit."""
    if b"commit" not in stdin or b"git" not in stdin or len(stdin) > MAX_COMMAND_BYTES:
        return 0, ""
    try:
        import json

        payload = json.loads(stdin)
        if not isinstance(payload, dict) or payload.get("tool_name") != "Bash":
            return 0, ""
        tool_input = payload.get("tool_input")
        command = tool_input.get("command") if isinstance(tool_input, dict) else None
        if not isinstance(command, str) or not _mentions_git_commit(command):
            return 0, ""
        cwd = payload.get("cwd")
        calls = parse_commands(command)
        if not calls:
            return 0, ""
        return _check(calls[0], cwd if isinstance(cwd, str) and cwd else None)
    except Exception:  # fail open: a hook must never break the agent's tool call
        return 0, ""


def _mentions_git_commit(command: str) -> bool:
    """`git ... commit` within one simple command, in linear time.

    (The regex `\\bgit\\b[^;&|\\n]*?\\bcommit\\b` over the whole line is quadratic: 40 KB of
    "git git ... xcommit" took 51 s.) The first `git` of a segment is enough: any later one has the
    same text after it.
    """
    import re

    for segment in re.split(r"[;&|\n]", command):
        git = re.search(r"\bgit\b", segment)
        if git is not None and re.search(r"\bcommit\b", segment[git.end():]):
            return True
    return False


def parse_commands(command: str) -> list[CommitCall]:
    """Every `git commit` in a shell command line, with its message, -s, -a, --amend (roughly: no eval)."""
    from perfpack.shell import OPERATORS, tokenize

    read = tokenize(command)
    if read is None:  # unbalanced quotes: not something we can read
        return []
    tokens, bodies = read
    calls = []
    cd_dir: str | None = None
    pending: dict = {"paths": None, "tracked": False}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "cd" and index + 1 < len(tokens) and tokens[index + 1] not in OPERATORS:
            cd_dir = tokens[index + 1]  # `cd sub && git commit`: remember where it runs
            index += 2
            continue
        is_git = token == "git" or token.endswith("/git")
        if is_git and index + 1 < len(tokens) and tokens[index + 1] == "add":
            index = _parse_add(tokens, index + 2, pending)
            continue
        if is_git:
            call, index = _parse_git(tokens, index + 1, bodies)
            if call is not None:
                if pending["paths"] is not None:
                    call.added, call.added_tracked_only = pending["paths"], pending["tracked"]
                if call.cwd is None:
                    call.cwd = cd_dir
                elif cd_dir and not call.cwd.startswith("/"):
                    call.cwd = cd_dir.rstrip("/") + "/" + call.cwd
                calls.append(call)
            continue
        index += 1
    return calls


def _parse_add(tokens: list[str], index: int, pending: dict) -> int:
    from perfpack.shell import OPERATORS

    paths: list[str] = []
    everything = False
    while index < len(tokens) and tokens[index] not in OPERATORS:
        token = tokens[index]
        index += 1
        if token in ("-A", "--all", "."):
            everything = True
        elif token in ("-u", "--update"):
            everything, pending["tracked"] = True, True
        elif not token.startswith("-"):
            paths.append(token)
    known = pending["paths"] or []
    pending["paths"] = [] if everything or pending["paths"] == [] else known + paths
    return index


def _message_value(value: str, bodies: list[str]) -> str:
    import re

    from perfpack.shell import PLACEHOLDER_RE

    # Claude Code's usual form: -m "$(cat <<'EOF' ... EOF )" -> the heredoc's body.
    match = re.fullmatch(r"\s*\$\(\s*cat\s+" + PLACEHOLDER_RE.pattern + r"\s*\)\s*", value)
    if match:
        return bodies[int(match.group(1))]
    return PLACEHOLDER_RE.sub(lambda m: bodies[int(m.group(1))], value)


def _parse_git(tokens: list[str], index: int, bodies: list[str]) -> tuple[CommitCall | None, int]:
    from perfpack.shell import OPERATORS, PLACEHOLDER_RE

    call = CommitCall()
    # git's global options, up to the subcommand.
    while index < len(tokens) and tokens[index].startswith("-") and tokens[index] not in OPERATORS:
        option = tokens[index]
        if option in _GIT_VALUE_OPTIONS and index + 1 < len(tokens):
            if option == "-C":
                call.cwd = tokens[index + 1] if call.cwd is None else call.cwd + "/" + tokens[index + 1]
            index += 2
        else:
            index += 1
    if index >= len(tokens) or tokens[index] != "commit":
        return None, index
    index += 1
    stdin_body: str | None = None
    only_options = True
    while index < len(tokens) and tokens[index] not in OPERATORS:
        token = tokens[index]
        index += 1
        if token in ("<", ">", ">>", "<<", ">&", "<&") or _is_redirection(token):
            index += 1  # a redirection and its target
            continue
        placeholder = PLACEHOLDER_RE.fullmatch(token)
        if placeholder:
            stdin_body = bodies[int(placeholder.group(1))]
            continue
        if not only_options or not token.startswith("-") or token == "-":
            if token == "--" and only_options:
                only_options = False
            else:
                call.pathspecs.append(token)
            continue
        if token.startswith("--"):
            name, equals, value = token.partition("=")
            if name in ("--message", "--file") and not equals and index < len(tokens):
                value, index = tokens[index], index + 1
            if name == "--message":
                call.messages.append(_message_value(value, bodies))
            elif name == "--file":
                call.message_file = value
            elif name == "--signoff":
                call.signoff = True
            elif name == "--no-signoff":
                call.signoff = False
            elif name == "--all":
                call.all = True
            elif name == "--amend":
                call.amend = True
            elif name in _COMMIT_VALUE_OPTIONS:
                if not equals and name not in _OPTIONAL_VALUE and index < len(tokens):
                    value, index = tokens[index], index + 1
                if name == "--trailer":
                    call.trailers.append(value)
                elif name in ("--fixup", "--squash"):
                    call.fixup = name[2:]
                elif name in ("--reuse-message", "--reedit-message"):
                    call.message_unknown = True
            continue
        # A cluster of short options: -asm "msg", -mmsg, -F file.
        for position in range(1, len(token)):
            flag = token[position]
            rest = token[position + 1:]
            if flag in "mF":
                if not rest and index < len(tokens):
                    rest, index = tokens[index], index + 1
                if flag == "m":
                    call.messages.append(_message_value(rest, bodies))
                else:
                    call.message_file = rest
                break
            if flag == "s":
                call.signoff = True
            elif flag == "a":
                call.all = True
            elif "-" + flag in _COMMIT_VALUE_OPTIONS:
                if "-" + flag not in _OPTIONAL_VALUE and not rest and index < len(tokens):
                    index += 1
                if flag in "cC":
                    call.message_unknown = True
                break
    if call.message_file == "-":
        call.message_file = None
        if stdin_body is not None:
            call.messages.append(stdin_body)
        else:
            call.message_unknown = True
    return call, index


def _is_redirection(token: str) -> bool:
    """`2>`, `>>`, `<&`, `1>&`: a redirection operator (its target is the next token)."""
    body = token.rstrip("&")
    return bool(body) and body.lstrip("0123456789") != "" and set(body.lstrip("0123456789")) <= {"<", ">"}


def _git(cwd: str | None, *args: str) -> bytes | None:
    import os
    import subprocess

    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
    try:
        proc = subprocess.run(["git", *_SAFE_GIT, *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT,
                              stdin=subprocess.DEVNULL, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def _diff_args(call: CommitCall, has_head: bool, has_parent: bool) -> list[str]:
    from perfpack.commits.logpass import DIFF_OPTIONS

    options = ["diff", "--no-ext-diff", "--no-textconv", *DIFF_OPTIONS]
    if call.amend and has_head:
        # The amended commit = HEAD's parent + the index (+ tracked changes with -a).
        base = "HEAD^" if has_parent else EMPTY_TREE
        against = [base] if call.all or call.pathspecs else ["--cached", base]
        return options + against + ["--", *call.pathspecs]
    if (call.all or call.pathspecs) and has_head:
        return options + ["HEAD", "--", *call.pathspecs]
    return options + ["--cached", "--"]


def _with_added(call: CommitCall, cwd: str | None, top: str, staged: list, has_head: bool) -> list:
    """The staged files plus what the `git add` before the commit will stage (tracked and new files)."""
    from perfpack.commits.logpass import DIFF_OPTIONS
    from perfpack.commits.parse import parse_numstat
    from perfpack.commits.rules import FileChange
    from perfpack.errors import PerfpackError
    from perfpack.safeio import read_user_bytes

    paths = ["--", *(call.added or [])]
    covered: list = []
    if has_head:
        raw = _git(cwd, "diff", "--no-ext-diff", "--no-textconv", *DIFF_OPTIONS, "HEAD", *paths)
        covered = parse_numstat(raw or b"")
    if not call.added_tracked_only:
        raw = _git(cwd, "ls-files", "-z", "--others", "--exclude-standard", "--full-name", *paths)
        import os

        for name in (raw or b"").split(b"\0")[:10000]:
            if not name:
                continue
            text = name.decode("utf-8", "replace")
            try:  # regular files only: a symlink to a FIFO or /dev/zero must not block or flood the hook
                data = read_user_bytes(os.path.join(top, os.fsdecode(name)), what="file", max_bytes=8 << 20)
            except PerfpackError:
                data = b"\0"  # too large or not a regular file: counted as a file, with no lines
            except OSError:
                continue
            binary = b"\0" in data[:8000]
            count = 0 if binary else data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
            covered.append(FileChange(text, count, 0, binary))
    seen = {change.path for change in covered}
    return covered + [change for change in staged if change.path not in seen]


def _message(call: CommitCall, cwd: str | None, top: str) -> str | None:
    import os

    if call.message_unknown:
        return None
    if call.messages:
        message = "\n\n".join(part.strip("\n") for part in call.messages)
    elif call.message_file:
        path = os.path.join(cwd or top, call.message_file)  # an absolute message_file stays as it is
        from perfpack.errors import PerfpackError
        from perfpack.safeio import read_user_bytes

        try:  # a FIFO or a device named by -F must not block the hook
            message = read_user_bytes(path, what="message", max_bytes=1024 * 1024).decode("utf-8", "replace")
        except (OSError, PerfpackError):
            return None
    else:
        return None  # the editor will ask for it; the commit-msg hook can check it then
    extra = list(call.trailers) + (["Signed-off-by: (added by git commit -s)"] if call.signoff else [])
    if extra:
        from perfpack.commits.rules import parse_message

        # git appends trailers to an existing trailer block, or starts one.
        joiner = "\n" if parse_message(message).trailers else "\n\n"
        message = message.rstrip("\n") + joiner + "\n".join(extra)
    return message


def _repository_of(path: str) -> str | None:
    """The folder holding the `.git` that git would use for `path`, found without running git."""
    import os

    folder = os.path.realpath(path)
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _session_project(cwd: str | None) -> str | None:
    import os

    return os.environ.get("CLAUDE_PROJECT_DIR") or cwd


def _check(call: CommitCall, cwd: str | None) -> tuple[int, str]:
    import json
    import os

    project = _session_project(cwd)
    if call.cwd:
        cwd = call.cwd if os.path.isabs(call.cwd) or not cwd else os.path.join(cwd, call.cwd)
    if call.fixup:
        return 0, ""  # fixup!/squash! commits are folded into another commit later
    # Only the session's own repository: `git -C /elsewhere commit` must not make git run there (its
    # config could name commands) before the user has approved anything.
    if not cwd or not project or not os.path.isdir(cwd):
        return 0, ""
    target = _repository_of(cwd)
    if target is None or target != _repository_of(project):
        return 0, ""
    top_raw = _git(cwd, "rev-parse", "--show-toplevel")
    if not top_raw:
        return 0, ""
    top = top_raw.decode("utf-8", "replace").strip()

    from perfpack.commits.parse import parse_numstat
    from perfpack.commits.rules import CommitInfo, Policy, check_commit, skip_reason
    from perfpack.errors import PerfpackError
    from perfpack.project import load_config

    try:
        policy = Policy.from_config(load_config(top, "commits"))
    except PerfpackError:
        return 0, ""
    has_head = _git(cwd, "rev-parse", "--verify", "--quiet", "HEAD") is not None
    has_parent = has_head and _git(cwd, "rev-parse", "--verify", "--quiet", "HEAD^") is not None
    raw = _git(cwd, *_diff_args(call, has_head, has_parent))
    if raw is None:
        return 0, ""
    files = parse_numstat(raw)
    if call.added is not None:
        files = _with_added(call, cwd, top, files, has_head)
    message = _message(call, cwd, top)
    commit = CommitInfo(ref="(this commit)", message=message or "", files=files, ref_kind="staged")
    if message is not None and skip_reason(commit, policy):
        return 0, ""
    if message is None:
        policy.mixed_words, policy.require_signoff, policy.require_assisted_by = [], False, False
    findings = check_commit(commit, policy)
    if not findings:
        return 0, ""
    return 0, json.dumps(_output(findings, policy), ensure_ascii=False)


def _output(findings: list, policy) -> dict:
    lines = ["perfpack: this `git commit` breaks the project's atomic-commit rules:"]
    for finding in findings:
        lines.append(f"- {finding.rule} {finding.name}: {finding.message}")
        if finding.fix:
            lines.append(f"  fix: {finding.fix}")
    if any(finding.rule in ("PC101", "PC102", "PC201") for finding in findings):
        lines.append("Split the change: stage one concern at a time (`git add -p`, "
                     "`git restore --staged PATH`) and commit each with its own message.")
    text = "\n".join(lines)
    output: dict = {"hookEventName": "PreToolUse"}
    if policy.hook_mode == "deny":
        output["permissionDecision"] = "deny"
        output["permissionDecisionReason"] = text
    else:
        output["additionalContext"] = text
    return {"hookSpecificOutput": output}
