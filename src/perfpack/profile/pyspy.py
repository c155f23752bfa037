"""py-spy as the sampling engine: find it, run it outside the process, and read its raw (folded) stacks.

py-spy reads the target's memory from outside (process_vm_readv; ptrace to pause it), so it needs the
right to trace the target: a child of py-spy normally, a PID only with CAP_SYS_PTRACE or a permissive
Yama policy. Whether it can is found out by trying on perfpack's own launcher before the command
starts (see _launch.py): when it cannot, the command has not run and a fallback engine runs it once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig

from perfpack.profile.model import NATIVE, PROCESS, PY, THREAD, Frame, Stack

READY = "py-spy> Sampling process"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<where>[^()]*)\)$", re.DOTALL)
_PY_WHERE = re.compile(r"^(?P<file>.*(?:\.pyw?|\.pyx|>)):(?P<line>\d+)$", re.DOTALL)
_PROCESS = re.compile(r'^process (?P<pid>\d+):"(?P<cmd>.*)"$', re.DOTALL)
_COUNTED = re.compile(r" \d+$")
_THREAD = re.compile(r"^thread \((?:0x)?[0-9A-Fa-f]+\)(?:: .*)?$", re.DOTALL)
_COUNTS = re.compile(r"Samples: (\d+) Errors: (\d+)")


def find_pyspy() -> str | None:
    """The py-spy binary: $PERFPACK_PY_SPY, next to this interpreter (the wheel's script), or on PATH."""
    override = os.environ.get("PERFPACK_PY_SPY")
    if override is not None:
        return override if override and os.access(override, os.X_OK) else None
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(folder, "py-spy")
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("py-spy")


def version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.decode("utf-8", "replace").strip().removeprefix("py-spy ").strip()


def record_argv(
    binary: str,
    *,
    raw_out: str,
    rate: int,
    native: bool,
    threads: bool,
    subprocesses: bool,
    pid: int | None = None,
    command: list[str] | None = None,
) -> list[str]:
    argv = [
        binary,
        "record",
        "--format",
        "raw",
        "--output",
        raw_out,
        "--rate",
        str(rate),
        "--full-filenames",  # and each frame's current line: analysis.first_lines keys frames by function
    ]
    if subprocesses:
        argv.append("--subprocesses")
    if native:
        argv.append("--native")  # native stacks need the program paused while they are read
    else:
        # read the stacks without pausing the program: pausing it 100 times a second (and once more per
        # child process followed) made it ~9 % slower
        argv.append("--nonblocking")
    if threads:
        argv.append("--threads")
    if pid is not None:
        argv += ["--pid", str(pid)]
    else:
        argv += ["--", *(command or [])]
    return argv


def counts(output: str) -> tuple[int, int]:
    """(samples, errors) from py-spy's closing line."""
    match = _COUNTS.search(output)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def failure(output: str) -> str:
    """py-spy's own reason for failing, one line (its first `Error:` line, without the backtrace)."""
    for line in output.splitlines():
        if line.startswith("Error:"):
            return line.removeprefix("Error:").strip()
    lines = [line.strip() for line in output.splitlines() if line.strip() and not line.startswith("py-spy>")]
    return lines[0] if lines else "py-spy exited without sampling"


def parse_frame(text: str) -> Frame:
    match = _PROCESS.match(text)
    if match:
        return Frame(match.group("cmd"), match.group("pid"), 0, PROCESS)
    if _THREAD.match(text):  # `thread (0x7F3A)` or, with a name, `thread (28870): MainThread`
        return Frame(text, "", 0, THREAD)
    match = _FRAME.match(text)
    if not match:
        return Frame(text, "", 0, NATIVE)
    function, where = match.group("function"), match.group("where")
    py = _PY_WHERE.match(where)
    if py:
        plain = function.rsplit(".", 1)[-1]  # Class.method -> method, f.<locals>.<lambda> -> <lambda>
        return Frame(
            plain, py.group("file"), int(py.group("line")), PY, qualname=function if plain != function else ""
        )
    file, _, line = where.rpartition(":")
    if file and line.isdigit():
        return Frame(function, file, int(line), NATIVE)
    return Frame(function, where, 0, NATIVE)


def split_stack(text: str) -> list[str]:
    """Split a raw stack on `;`, keeping process markers whole: a command line may hold `";` itself,
    so a marker ends at the first `";` followed by another marker or by a frame."""
    parts: list[str] = []
    rest = text
    while rest.startswith("process "):
        end = -1
        search = 0
        while True:
            found = rest.find('";', search)
            if found < 0:
                break
            after = rest[found + 2 :]
            if (
                after.startswith(("process ", "thread (")) or _FRAME.match(after.split(";", 1)[0])
            ):
                end = found
                break
            search = found + 1
        if end < 0:
            if rest.endswith('"'):  # a sample that is only the process marker
                parts.append(rest)
                rest = ""
            break
        parts.append(rest[: end + 1])
        rest = rest[end + 2 :]
    parts.extend(rest.split(";") if rest else [])
    return parts


def read_raw(path: str) -> str:
    """py-spy's raw file at `path`, its process markers (command lines: the profiled one, its children's,
    an attached PID's) redacted (perfpack.redact) in the file itself and in the text returned: the folded
    stacks, the flame graph and profile.json are made from it, and the file stays with the profile."""
    from perfpack.redact import redact_text

    with open(path, encoding="utf-8", errors="replace") as handle:
        data = handle.read()
    records = _records(data)
    redacted = []
    for record in records:
        text, _, count = record.rstrip().rpartition(" ")
        parts = split_stack(text)
        for i, part in enumerate(parts):
            match = _PROCESS.match(part)
            if match:
                parts[i] = f'process {match.group("pid")}:"{redact_text(match.group("cmd"))}"'
        redacted.append(f"{';'.join(parts)} {count}")
    if redacted != records:
        from perfpack.fsutil import atomic_write_text

        data = "".join(f"{record}\n" for record in redacted)
        atomic_write_text(path, data, fsync=False)
    return data


def _records(data: str) -> list[str]:
    """Raw lines, a stack whose file or command line holds a newline (py-spy does not escape it) joined
    back: every record ends with its sample count."""
    out: list[str] = []
    pending = ""
    for line in data.split("\n"):
        pending = f"{pending}\n{line}" if pending else line
        if _COUNTED.search(pending):
            out.append(pending)
            pending = ""
    return out


def parse_raw(
    data: str, *, drop_pids: set[str] | None = None, drop_file: str = "", root_label: str = ""
) -> list[tuple[Stack, int]]:
    """py-spy's raw output (`frame;frame;... count` per line) as stacks. `drop_pids`: processes whose own
    samples are dropped and whose marker is removed (perfpack's launcher). `drop_file`: perfpack's
    bootstrap: its frames (and the interpreter's start-up frames above them) are removed, and samples
    that are only the bootstrap (waiting for py-spy to attach) are dropped. `root_label`: the command
    line shown for the root process (the user's command, not perfpack's bootstrap)."""
    cache: dict[str, Frame] = {}
    merged: dict[Stack, int] = {}
    for line in _records(data):
        text, _, count = line.rstrip().rpartition(" ")
        if not text or not count.isdigit():
            continue
        frames = []
        for part in split_stack(text):
            frame = cache.get(part)
            if frame is None:
                frame = cache[part] = parse_frame(part)
            frames.append(frame)
        if drop_pids:
            procs = [f for f in frames if f.kind == PROCESS]
            if procs and procs[-1].file in drop_pids:
                continue  # the launcher's own samples
            frames = [f for f in frames if not (f.kind == PROCESS and f.file in drop_pids)]
        if drop_file:
            kept = _without_bootstrap(frames, drop_file)
            if kept is None:
                continue
            frames = kept
        if root_label and drop_file:
            # the root process and its forks carry the bootstrap's command line: show the user's
            frames = [Frame(root_label if i == 0 else f"{root_label} (fork {f.file})", f.file, 0, PROCESS)
                      if f.kind == PROCESS and drop_file in f.function else f for i, f in enumerate(frames)]
        stack = tuple(frames)
        merged[stack] = merged.get(stack, 0) + int(count)
    return list(merged.items())


_STARTUP = frozenset(
    {"<frozen site>", "<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>"}
)


def _without_bootstrap(frames: list[Frame], boot: str) -> list[Frame] | None:
    """Frames with perfpack's bootstrap (and runpy's frames that run the program) cut out of each
    process's part of the stack; None when the sample is only the bootstrap itself."""
    last = -1
    for i, frame in enumerate(frames):
        if frame.kind == PY and frame.file == boot:
            last = i
    if last >= 0 and frames[last].function != "_run":
        return None  # the bootstrap itself (waiting for py-spy, writing the status), not the program
    if last < 0:
        # Threads and child processes have no bootstrap frame and are kept; the interpreter's own
        # start-up (site, before the bootstrap runs) is not the program's and is dropped.
        code = [f for f in frames if f.kind == PY]
        if code and code[0].file in _STARTUP and sum(1 for f in frames if f.kind == PROCESS) <= 1:
            return None
        return frames
    if last == len(frames) - 1:
        return None
    start = 0
    for i in range(last, -1, -1):
        if frames[i].kind == PROCESS:
            start = i + 1
            break
    rest = frames[last + 1 :]
    while rest and rest[0].kind == PY and rest[0].file.endswith(("runpy.py", "<frozen runpy>")):
        rest = rest[1:]
    if not rest:
        return None
    return frames[:start] + rest
