"""The SubagentStop / Stop hook: an agent that ends with figures perfpack never measured is sent back once.

Run through src/perfpack/hook.py (`hook.py subagent-stop` / `hook.py stop`), standard library only and
without `os`, `json` or `re` on this path. Order of work, cheapest first:

1. the payload (C JSON scanner); `stop_hook_active` (a stop hook already sent this agent back) -> pass;
2. SubagentStop: only the pack's agents (`agent_type`, plugin-namespaced or not; hooks.json's matcher
   already keeps the CLI from starting us for others);
3. the final message (`last_assistant_message`, else the transcript's last assistant text, read from the
   end in small chunks); no digit in it, or no claim -> pass, nothing else read;
3b. Stop: only a turn that /optimize started (the transcript's last real prompt is the command);
4. the project's ledger, the claims, the match. Unverified figures -> block with each figure and the
   perfpack command that would measure it. Once: the agent's next stop comes with `stop_hook_active`
   (both supported CLI versions send it; they also end a turn after 8 blocks in a row).

Any trouble of its own (unreadable ledger, damaged transcript, a FIFO, a symlink, a huge file) lets the
stop through: src/perfpack/hook.py turns every exception into exit 0 without output.
"""

PACK_AGENTS = ("performance-optimization-specialist", "performance-engineer", "performance-engineering-lead")
OPTIMIZE_COMMANDS = ("/optimize", "/perfpack:optimize")
MAX_LEDGER_BYTES = 64 * 1024 * 1024
MAX_TRANSCRIPT_SCAN = 16 * 1024 * 1024  # bytes read back from a transcript's end, in chunks
CHUNK = 64 * 1024  # below malloc's mmap threshold: each read reuses freed heap memory, no fresh page
# Claude Code appends to the transcript in batches: a turn that ends within milliseconds (a loaded machine,
# a fast model) can reach the Stop hook before its prompt is on disk, or before the file exists at all.
# Wait this long for it, in steps.
PROMPT_WAIT_S, PROMPT_POLL_S = 2.0, 0.05

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from perfpack.evidence.match import Figures


def handle_subagent_stop(argv: list[str], stdin: bytes) -> tuple[int, str]:
    return handle(stdin, subagent=True)


def handle_stop(argv: list[str], stdin: bytes) -> tuple[int, str]:
    return handle(stdin, subagent=False)


def handle(stdin: bytes, *, subagent: bool) -> tuple[int, str]:
    """(exit code, stdout) for one Stop/SubagentStop event; (0, "") lets the stop through."""
    from perfpack.fastjson import loads_object

    payload = loads_object(stdin.decode("utf-8", "replace"))
    if not isinstance(payload, dict) or payload.get("stop_hook_active") is True:
        return 0, ""
    if subagent:
        agent = str(payload.get("agent_type") or "")
        if agent.rpartition(":")[2] not in PACK_AGENTS:
            return 0, ""
        transcript = payload.get("agent_transcript_path") or payload.get("transcript_path")
    else:
        transcript = payload.get("transcript_path")
        if not isinstance(transcript, str):
            return 0, ""
    message = payload.get("last_assistant_message")
    if not isinstance(message, str) or not message.strip():
        message = _final_message(transcript) if isinstance(transcript, str) else ""
    if not any(char in message for char in "0123456789"):
        return 0, ""

    from perfpack.evidence.claims import MAX_CLAIMS, extract_claims

    claims = extract_claims(message)
    if not claims:
        return 0, ""
    if not subagent and not _started_by_optimize_when_written(str(transcript)):
        return 0, ""  # the main session's ordinary turn: only /optimize's report is checked
    figures = ledger_figures(_project_root(payload))
    if figures is None:
        return 0, ""  # a ledger we cannot trust to read (a link, a FIFO, huge, damaged): not our call
    from perfpack.evidence.match import match_all

    found = match_all(claims, figures)
    if all(record is not None for record in found) and len(claims) < MAX_CLAIMS:
        return 0, ""
    from perfpack.evidence.check import Checked, summary

    reason = ("perfpack evidence check: your final message states figures that perfpack's ledger of "
              "measurements does not back (every figure you report must come from a perfpack measurement "
              "in this project).\n" + summary(Checked(claims, found), limit=1600) +
              "\nMeasure each with the command shown and report what it printed, or withdraw or mark it as "
              "an estimate; then give your final message again.")
    from perfpack.fastjson import dumps

    return 0, dumps({"decision": "block", "reason": reason}) + "\n"


# --- files, read without following links out and without blocking on a FIFO --------------------------------


def _read_regular(path: str, limit: int, *, tail: bool = False) -> bytes | None:
    """At most `limit` bytes of a regular file (the last ones with `tail`), never through a symlink; None for
    anything else, or for a larger file without `tail`."""
    from perfpack.lightos import read_regular

    try:
        data = read_regular(path, limit, follow_symlinks=False, tail=tail)
    except (OSError, ValueError):
        return None
    return data if len(data) <= limit else None


def _project_root(payload: "dict[str, Any]") -> str:
    """$CLAUDE_PROJECT_DIR, else the nearest folder at or above the payload's cwd holding .claude or .git."""
    from perfpack.lightos import absolute, dirname, getenv, join, stat

    project = getenv("CLAUDE_PROJECT_DIR")
    if project:
        return project
    folder = absolute(str(payload.get("cwd") or "."))
    here = folder
    while True:
        for marker in (".claude", ".git"):
            try:
                stat(join(folder, marker))
                return folder
            except (OSError, ValueError):
                pass
        parent = dirname(folder)
        if not parent or parent == folder:
            return here
        folder = parent


def ledger_figures(root: str) -> "Figures | None":
    """The ledger's figures: from its index when that is current (one read), else from the ledger itself
    (and the index rewritten for the next stop). [] figures without a ledger; None for one we cannot read."""
    from perfpack.evidence.match import figures_of, index_paths, ledger_key, load_index

    figures = load_index(root, _read_regular)
    if figures is not None:
        return figures
    ledger = index_paths(root)[0]
    key = ledger_key(ledger)
    records = read_ledger(root)
    if records is None:
        return None
    figures = figures_of(records)
    if key is not None and records and ledger_key(ledger) == key:
        from perfpack.evidence import index

        try:
            index.save(root, figures, key)
        except (OSError, ValueError):
            pass  # a read-only project: the next stop reads the ledger again
    return figures


def read_ledger(root: str) -> "list[dict[str, Any]] | None":
    """The ledger's records (damaged lines skipped); [] when there is none; None when it cannot be read
    as a ledger: a link, a FIFO, a folder, over 64 MB, or not one record in it."""
    from perfpack.lightos import _native, join

    path = join(root, ".claude", "perfpack", "ledger.jsonl")
    data = _read_regular(path, MAX_LEDGER_BYTES)
    if data is None:
        try:
            _native.lstat(path)
        except FileNotFoundError:
            return []  # nothing measured in this project yet
        except (OSError, ValueError):
            return None
        return None
    scan = _scanner()  # one scanner for all lines
    records = []
    for raw in data.splitlines():
        entry = _parse(scan, raw, "strict")  # a ledger line that is not UTF-8 is damaged
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            records.append(entry)
    return records if records or not data.strip() else None


def _scanner():
    import _json

    from perfpack.fastjson import _ScannerContext

    return _json.make_scanner(_ScannerContext(True))


def _parse(scan: "Any", raw: bytes, errors: str = "replace") -> object:
    """One JSON line, or None when it is not exactly one JSON value (never the slow `json` error path)."""
    try:
        line = raw.decode("utf-8", errors).strip()
        value, end = scan(line, 0)
    except (ValueError, RecursionError, StopIteration, SystemError, IndexError):
        return None
    return value if end == len(line) else None


def _blocks_backwards(path: str):
    """A regular file's whole lines, from its end backwards, in blocks of about CHUNK bytes (a final
    message is near the end: one small read, not the whole transcript), at most MAX_TRANSCRIPT_SCAN bytes."""
    from perfpack.lightos import _native

    flags = _native.O_RDONLY | getattr(_native, "O_NONBLOCK", 0) | getattr(_native, "O_NOFOLLOW", 0) \
        | getattr(_native, "O_CLOEXEC", 0)
    try:
        fd = _native.open(path, flags)
    except (OSError, ValueError):
        return
    try:
        info = _native.fstat(fd)
        if info.st_mode & 0o170000 != 0o100000:
            return
        position, carry, scanned = info.st_size, b"", 0
        while position > 0 and scanned < MAX_TRANSCRIPT_SCAN:
            step = min(CHUNK, position, MAX_TRANSCRIPT_SCAN - scanned)
            position -= step
            scanned += step
            _native.lseek(fd, position, 0)
            data = _native.read(fd, step) + carry
            cut = data.find(b"\n")
            if cut < 0:
                carry = data  # one line longer than the chunk so far
            else:
                carry = data[:cut]
                yield data[cut + 1:]
        if position == 0:
            yield carry  # the first line (a partial one when the scan stopped earlier is dropped)
    except (OSError, ValueError):
        return
    finally:
        _native.close(fd)


def _entries_backwards(path: str, needle: bytes, skip: bytes = b""):
    """The transcript's JSON entries from its end backwards, only lines that hold `needle` and not
    `skip`. Found with C-level searches in each block: the lines between (tool output) are never split
    or copied, let alone parsed."""
    scan = None
    for block in _blocks_backwards(path):
        end = len(block)
        while end > 0:
            hit = block.rfind(needle, 0, end)
            if hit < 0:
                break
            start = block.rfind(b"\n", 0, hit) + 1
            stop = block.find(b"\n", hit, end)
            stop = end if stop < 0 else stop
            end = start - 1  # next: the lines before this one
            if skip and block.find(skip, start, stop) >= 0:
                continue
            if scan is None:
                scan = _scanner()
            entry = _parse(scan, block[start:stop])
            if isinstance(entry, dict):
                yield entry


def _final_message(path: str) -> str:
    from perfpack.evidence.transcript import assistant_text

    for entry in _entries_backwards(path, b'"assistant"'):
        text = assistant_text(entry)
        if text:
            return text
    return ""


def _started_by_optimize_when_written(path: str) -> bool:
    """`_started_by_optimize`, waiting up to PROMPT_WAIT_S for a prompt when the transcript has none yet."""
    started = _started_by_optimize(path)
    if started is not None:
        return started
    import time

    from perfpack.lightos import _native

    try:
        if _native.lstat(path).st_mode & 0o170000 != 0o100000:
            return False  # a link, a FIFO: nothing to wait for (fail open)
    except (OSError, ValueError):
        pass  # not created yet (2.1.197 may write a short session's transcript after its Stop hook starts)

    deadline = time.monotonic() + PROMPT_WAIT_S
    while started is None and time.monotonic() < deadline:
        time.sleep(PROMPT_POLL_S)
        started = _started_by_optimize(path)
    return bool(started)


def _started_by_optimize(path: str) -> bool | None:
    """Whether the transcript's last real user prompt (not a tool result) ran /optimize; None when it holds
    no prompt (yet)."""
    for entry in _entries_backwards(path, b'"user"', b'"tool_result"'):
        if entry.get("type") != "user" or entry.get("isMeta") is True:
            continue
        message = entry.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            texts = [block.get("text") for block in content if isinstance(block, dict)]
            if any(isinstance(block, dict) and block.get("type") == "tool_result" for block in content):
                continue
            content = "\n".join(text for text in texts if isinstance(text, str))
        if not isinstance(content, str):
            continue
        for command in OPTIMIZE_COMMANDS:
            if f"<command-name>{command}</command-name>" in content:
                return True
        if "<command-name>" in content or "<local-command" in content:
            return False
        return content.lstrip().startswith(OPTIMIZE_COMMANDS)
    return None
