"""Running a profiler and the command under it as one process group that is always cleaned up.

The profiler starts in a new session; its launcher and the profiled command (and whatever it spawns
without leaving the group) share that group. Ctrl-C or a --duration stops the group with SIGINT (the
profiler then writes what it has); anything still alive after a grace period is killed, and nothing
outlives perfpack.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

GRACE_S = 5.0
NOTICE_S = 30.0  # without a terminal, a run this long is mentioned once on stderr
LINGER_S = 1.0  # how long a profiler may go on after the profiled command ended (children it left)
POLL_S = 0.2


def _progress(elapsed: float, terminal: bool, noticed: bool) -> bool:
    """Say how long the profiled program has run so far; True once something was written."""
    if terminal:
        sys.stderr.write(f"\rprofiling: {elapsed:.0f} s (Ctrl-C stops and keeps what was recorded) ")
    elif not noticed and elapsed >= NOTICE_S:
        sys.stderr.write(f"perfpack profile: the program is still running after {elapsed:.0f} s under the "
                         "profiler (it slows a program down; --duration N stops it after N s and keeps what "
                         "was recorded)\n")
    else:
        return noticed
    sys.stderr.flush()
    return True


class Session:
    def __init__(
        self, argv: Sequence[str], *, cwd: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        from perfpack.bench.runner import enable_subreaper

        # A daemon the program starts (double fork, setsid) leaves the group but comes back to us
        # when orphaned, and is killed with the rest (see kill()).
        enable_subreaper()
        self._before = _children()
        self.lines: list[str] = []
        self._started = threading.Event()
        self._ready_marker: str | None = None
        self.proc = subprocess.Popen(
            list(argv),
            stdin=None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd,
            env=env,
        )
        self.pgid = self.proc.pid
        self._reader = threading.Thread(target=self._read, daemon=True)

    def watch_for(self, marker: str | None) -> None:
        """Start reading the profiler's output; `marker`: the line that says it is sampling."""
        self._ready_marker = marker
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if len(self.lines) < 1000:
                self.lines.append(line)
            if self._ready_marker and self._ready_marker in line:
                self._started.set()
        self._started.set()  # EOF: the profiler is gone (or never started)

    def wait_started(self, timeout: float) -> bool:
        """True once the profiler printed its ready marker; False if it exited or timed out first."""
        self._started.wait(timeout)
        return any(self._ready_marker in line for line in self.lines) if self._ready_marker else False

    def wait(self, *, duration: float | None = None, ended: Callable[[], bool] | None = None) -> str:
        """Wait for the profiler to finish. Returns "" (it ended by itself), "duration" or "interrupt".

        `ended`: whether the profiled command itself has exited. A profiler following child processes
        (py-spy) goes on as long as one it found lives, so a command that exits leaving a child behind
        (a daemon, a stray sleep) would hold the profile open: LINGER_S after the command ended, the
        group is stopped as --duration stops it (the profiler keeps what it recorded).

        A long run says so on stderr: the seconds so far on a terminal, else one line after NOTICE_S
        (a profiler slows a program down, memray's allocation tracking several times)."""
        started = time.monotonic()
        deadline = None if duration is None else started + duration
        ended_at: float | None = None
        stopped = ""
        noticed = False
        terminal = sys.stderr.isatty()
        try:
            while True:
                now = time.monotonic()
                left = None if deadline is None else max(0.0, deadline - now)
                if terminal:
                    tick: float | None = 1.0
                else:
                    tick = None if noticed else max(0.1, NOTICE_S - (now - started))
                timeouts = [t for t in (left, tick, POLL_S if ended else None) if t is not None]
                try:
                    self.proc.wait(timeout=min(timeouts) if timeouts else None)
                    break
                except subprocess.TimeoutExpired:
                    now = time.monotonic()
                    if deadline is not None and now >= deadline:
                        stopped = "duration"
                        self.stop()
                        break
                    if ended is not None and ended_at is None and ended():
                        ended_at = now
                    if ended_at is not None and now - ended_at >= LINGER_S:
                        self.stop()
                        break
                    noticed = _progress(now - started, terminal, noticed)
        except KeyboardInterrupt:
            stopped = "interrupt"
            self.stop()
        self._reader.join(timeout=GRACE_S)
        if terminal and noticed:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
        return stopped

    def stop(self) -> None:
        """SIGINT to the group (the profiler writes its output), then SIGTERM, then SIGKILL."""
        for sig, grace in ((signal.SIGINT, GRACE_S), (signal.SIGTERM, 2.0)):
            self.signal(sig)
            try:
                self.proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue
            except KeyboardInterrupt:  # a second Ctrl-C: stop at once
                break
        self.kill()

    def signal(self, sig: int) -> None:
        try:
            os.killpg(self.pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self) -> None:
        """Kill whatever is left of the group and the orphans that came back to us; reap them all."""
        self.signal(signal.SIGKILL)
        try:
            self.proc.wait(timeout=GRACE_S)
        except subprocess.TimeoutExpired:
            pass
        _kill_orphans(self._before)

    def output(self) -> str:
        return "\n".join(self.lines)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _children(pid: int | None = None) -> set[int]:
    """All live descendants of `pid` (default: us), from /proc (bounded walk)."""
    out: set[int] = set()
    todo = [os.getpid() if pid is None else pid]
    while todo and len(out) < 100_000:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{parent}/task/{tid}/children", "rb") as handle:
                    kids = [int(x) for x in handle.read().split()]
            except (OSError, ValueError):
                continue
            for kid in kids:
                if kid not in out:
                    out.add(kid)
                    todo.append(kid)
    return out


def _kill_orphans(before: set[int]) -> None:
    """Kill our descendants that were not there before the session: orphans of the profiled program
    that came back to us (we are a child subreaper). Our direct children among them are reaped."""
    victims = _children() - before
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    deadline = time.monotonic() + GRACE_S
    pending = set(victims)
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # not ours to reap (a grandchild): gone once its parent is
                pending.discard(pid)
                continue
            if done:
                pending.discard(pid)
        if pending:
            time.sleep(0.005)
