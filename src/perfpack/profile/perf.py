"""Linux `perf` for native (non-Python) programs: record with call graphs, read `perf script` back.

Frame-pointer call graphs (`-g`): cheap, and complete for code built with frame pointers; elsewhere the
stacks are shallow but the innermost function (where the time is) is still right.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from perfpack.profile.model import NATIVE, PROCESS, Frame, Stack

_HEADER = re.compile(r"^(?P<comm>.*?)\s+(?P<pid>\d+)(?:/\d+)?\s*$")
_FRAME = re.compile(r"^\s*(?P<addr>[0-9a-fA-F]+)\s+(?P<sym>.*?)\s+\((?P<dso>[^()]*)\)\s*$")
_OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$")


def find_perf() -> str | None:
    return shutil.which("perf")


def usable(binary: str) -> tuple[bool, str]:
    """Can perf sample here? (perf_event_open may be forbidden: perf_event_paranoid, seccomp.)"""
    try:
        proc = subprocess.run(
            [binary, "record", "-q", "-F", "99", "-o", "/dev/null", "--", "true"],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"perf cannot run: {exc}"
    if proc.returncode != 0:
        text = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return False, "perf cannot sample here: " + (text[0] if text else f"exit {proc.returncode}")
    return True, ""


def version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.decode("utf-8", "replace").strip().removeprefix("perf version ").strip()


def record_argv(
    binary: str, *, data: str, rate: int, pid: int | None = None, command: list[str] | None = None
) -> list[str]:
    argv = [binary, "record", "-q", "-g", "-F", str(rate), "-o", data]
    if pid is not None:
        return [*argv, "-p", str(pid)]
    return [*argv, "--", *(command or [])]


def script(binary: str, data: str) -> str:
    proc = subprocess.run(
        [binary, "script", "-i", data, "-F", "comm,pid,ip,sym,dso"], capture_output=True, timeout=600
    )
    return proc.stdout.decode("utf-8", "replace")


def parse_script(text: str, *, drop_pids: set[str] | None = None) -> list[tuple[Stack, int]]:
    """`perf script` samples (a header line, then frames innermost first, a blank line) as stacks."""
    merged: dict[Stack, int] = {}
    cache: dict[tuple[str, str], Frame] = {}

    def flush(header: tuple[str, str] | None, frames: list[Frame]) -> None:
        if header is None or (drop_pids and header[1] in drop_pids):
            return
        stack = (Frame(header[0], header[1], 0, PROCESS), *reversed(frames))
        merged[stack] = merged.get(stack, 0) + 1

    header: tuple[str, str] | None = None
    frames: list[Frame] = []
    for line in text.splitlines():
        if not line.strip():
            flush(header, frames)
            header, frames = None, []
            continue
        if not line[:1].isspace():
            flush(header, frames)
            match = _HEADER.match(line)
            header = (match.group("comm"), match.group("pid")) if match else (line.strip(), "0")
            frames = []
            continue
        match = _FRAME.match(line)
        if not match:
            continue
        sym, dso = _OFFSET.sub("", match.group("sym")), match.group("dso")
        if sym == "[unknown]":
            sym = "??"
        key = (sym, dso)
        frame = cache.get(key)
        if frame is None:
            frame = cache[key] = Frame(sym, "" if dso == "[unknown]" else dso, 0, NATIVE)
        frames.append(frame)
    flush(header, frames)
    return list(merged.items())
