"""UserPromptSubmit handler: suggests the matching performance agent, once per agent per session.

Standard library only, and no `json`/`re`/`_json` import on the usual path: see engine.py. Every failure
means exit 0, no output.
"""


from perfpack import lightos
from perfpack.fastjson import dumps, loads_object
from perfpack.route.engine import default_rules_path, load_rules, route

STATE_FILE = "route-sessions.txt"
MAX_SESSIONS = 200  # the state file keeps the most recent sessions only
COMPACT_AT = 1000  # lines; then the file is rewritten with the last MAX_SESSIONS sessions
_OFF = ("0", "off", "false", "no")


def _rules_arg(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--rules" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--rules="):
            return arg.split("=", 1)[1]
    return None


def not_for_routing(prompt: str) -> bool:
    """Prompts that get no routing advice: a slash command (`/optimize checkout latency`, `/plugin:cmd`),
    which brings its own plan, and the CLI's own `<task-notification>` turns (2.1.332 hands a background
    subagent's result back as a prompt). A prompt that starts with a path (`/var/log is slow`) is routed."""
    text = prompt.lstrip()
    if text.startswith("<task-notification>"):
        return True
    head = text.partition(" ")[0].partition("\n")[0]
    return len(head) > 1 and head[0] == "/" and "/" not in head[1:]


def context_text(agent: str, terms: list[str], summary: str) -> str:
    """The additionalContext line, at most 300 characters."""
    why = ", ".join(f'"{t}"' for t in terms[:4])
    focus = f" ({summary})" if summary else ""
    text = (f"perfpack routing: this is a performance request (matched {why}). Delegate it to the "
            f"{agent} subagent{focus} with the Agent (Task) tool unless the user asked otherwise.")
    if len(text) > 300:
        text = f"perfpack routing: performance request (matched {why}); delegate to the {agent} subagent."
        text = text[:300]
    return text


def _state_folder(cwd: str | None) -> str:
    """Where the session state (and the plugin route's rules cache) lives: the project's .claude/perfpack,
    else the user's cache folder.

    Never through a symlinked .claude or .claude/perfpack (a repository can commit such a link), and
    never a shared folder such as /tmp, where another local user could plant a symlink or a FIFO at
    the name; "" when there is no such place (then nothing is recorded).
    """
    root = lightos.getenv("CLAUDE_PROJECT_DIR") or cwd
    if root:
        claude = lightos.join(root, ".claude")
        folder = lightos.join(claude, "perfpack")
        if lightos.is_real_dir(claude) and lightos.is_real_dir(folder):
            return folder
    cache = lightos.getenv("XDG_CACHE_HOME") or ""
    if not cache.startswith("/"):
        home = lightos.getenv("HOME") or ""
        cache = lightos.join(home, ".cache") if home.startswith("/") else ""
    folder = lightos.join(cache, "perfpack") if cache else ""
    if not folder or not lightos.private_dir(folder):
        return ""
    return folder


def _already_suggested(state_path: str, session: str, agent: str) -> bool:
    """True if `agent` was suggested in `session`; otherwise records it. Never raises.

    The state is an append-only text file, one `SESSION<TAB>agent` line per suggestion: appending
    is far cheaper than rewriting and renaming a file on every prompt. Past COMPACT_AT lines it is
    rewritten once with the most recent MAX_SESSIONS sessions only.
    """
    record = session.replace("\t", " ").replace("\n", " ").replace("\r", " ")[:200] + "\t" + agent
    if not state_path:
        return False
    try:
        try:  # never through a symlink at the name, never blocked by a FIFO there
            raw = lightos.read_regular(state_path, 1024 * 1024, follow_symlinks=False)[:1024 * 1024]
        except FileNotFoundError:
            raw = b""
        lines = raw.decode("utf-8", "replace").splitlines()
        if record in lines:
            return True
        lines.append(record)
        if len(lines) > COMPACT_AT:
            _compact(state_path, lines)
        else:
            # a torn or foreign last line must not swallow this record
            separator = b"\n" if raw and not raw.endswith(b"\n") else b""
            lightos.append(state_path, separator + (record + "\n").encode("utf-8"))
    except Exception:  # the state is a nicety; never fail the prompt for it
        pass
    return False


def _compact(state_path: str, lines: list[str]) -> None:
    recent: dict[str, None] = {}
    for line in reversed(lines):
        recent.setdefault(line.partition("\t")[0], None)
        if len(recent) >= MAX_SESSIONS:
            break
    kept = [line for line in lines if line.partition("\t")[0] in recent]
    from perfpack.fsutil import atomic_write_bytes

    atomic_write_bytes(state_path, "".join(line + "\n" for line in kept).encode("utf-8"), fsync=False)


def handle(argv: list[str], stdin_bytes: bytes) -> tuple[int, str]:
    """Claude Code UserPromptSubmit hook: (exit code, stdout). Fails open."""
    if (lightos.getenv("PERFPACK_ROUTE") or "1").lower() in _OFF:
        return 0, ""
    try:
        payload = loads_object(stdin_bytes.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return 0, ""
    if not isinstance(payload, dict):
        return 0, ""
    prompt = payload.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip() or not_for_routing(prompt):
        return 0, ""
    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
    rules_path = _rules_arg(argv) or default_rules_path(cwd)
    if not rules_path:
        return 0, ""
    state_folder = _state_folder(cwd)
    try:
        rules = load_rules(rules_path, use_cache=True, cache_folder=state_folder)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError, RecursionError):
        return 0, ""
    try:
        decision = route(prompt, rules)
    except Exception:  # a rules file of the right version but wrong shape
        return 0, ""
    if decision.agent is None:
        return 0, ""
    session = payload.get("session_id")
    if isinstance(session, str) and session:
        state_path = lightos.join(state_folder, STATE_FILE) if state_folder else ""
        if _already_suggested(state_path, session, decision.agent):
            return 0, ""
    text = context_text(decision.agent, decision.terms, decision.summary)
    return 0, ('{"hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "additionalContext": '
               + dumps(text) + "}}\n")
