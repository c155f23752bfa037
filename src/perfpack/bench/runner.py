"""Run a command once and measure it: wall time, CPU of the tree, peak RSS of the process tree, exit code.

Low overhead by design: posix_spawn (no fork of the Python heap), a pidfd to wait on, and /proc sampling
of the tree only while the command is still running (first sample after 1 ms), so `true` costs little
more than under `hyperfine -N`.
"""

from __future__ import annotations

import os
import resource
import select
import shutil
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from perfpack.errors import PerfpackError

_PROC = Path("/proc")
_HAS_PROC = (_PROC / "self" / "status").exists()
_FIRST_SAMPLE_S = 0.003  # shorter runs cost nothing extra; their RSS comes from wait4 when it can
_MAX_SAMPLE_S = 0.010
_subreaper = False  # set by enable_subreaper(): orphans of the command become our children


@dataclass
class Run:
    """One measured run."""

    wall_s: float
    cpu_s: float  # user + system of the command and the descendants it waited for
    rss_bytes: int | None  # peak RSS of the whole tree; None if too short to observe (see docs)
    exit_code: int  # negative: killed by that signal
    timed_out: bool = False


def resolve_command(argv: Sequence[str], *, shell: bool, cwd: str | None = None) -> list[str]:
    """The argv to spawn: `sh -c CMD` with --shell, otherwise the program found on PATH (a path with a
    slash is taken relative to `cwd`, default the current directory)."""
    if not argv:
        raise PerfpackError("no command to run", hint="put it after `--`, e.g. perfpack bench -- sleep 0.1")
    if shell:
        return ["/bin/sh", "-c", " ".join(argv)]
    program = argv[0]
    if os.sep in program:
        path = os.path.join(cwd, program) if cwd is not None else program
        found = path if os.access(path, os.X_OK) and not os.path.isdir(path) else None
    else:
        found = shutil.which(program)
    if not found:
        from perfpack.terminal import one_line

        where = f" in {one_line(cwd)}" if cwd is not None and os.sep in program else ""
        raise PerfpackError(f"command not found or not executable{where}: {one_line(repr(program))}",
                            hint="check the name, or use --shell for shell syntax (pipes, builtins)")
    return [os.path.abspath(found), *argv[1:]]


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as handle:
                    kids.extend(int(x) for x in handle.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return kids


def _tree(pid: int) -> list[int]:
    """pid and all its live descendants (bounded walk)."""
    if not _HAS_PROC:
        try:
            import psutil

            return [pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))]
        except Exception:
            return [pid]
    out: list[int] = []
    todo, seen = [pid], set()
    while todo and len(out) < 100_000:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        out.append(p)
        todo.extend(_children(p))
    return out


def _memory(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS since exec) in bytes of one process; (0, 0) if it is gone."""
    if not _HAS_PROC:
        try:
            import psutil

            rss = psutil.Process(pid).memory_info().rss
            return rss, rss
        except Exception:
            return 0, 0
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith(b"VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return rss, hwm


def enable_subreaper() -> bool:
    """Make orphaned descendants of the benchmarked command re-parent to us (Linux), so a timeout's
    victims are reaped here at once instead of lingering as zombies under an idle init."""
    try:
        import ctypes

        global _subreaper

        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
        return _subreaper
    except (OSError, AttributeError):
        return False


def reap_orphans() -> None:
    """Collect exited orphans that re-parented to us (non-blocking, bounded)."""
    for _ in range(10_000):
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_tree(pid: int, known: set[int] | None = None) -> set[int]:
    """Stop, then kill the process group of `pid`, every descendant, and `known` pids.

    Returns the pids hit."""
    import psutil

    victims: set[int] = set(known or ())
    try:
        os.killpg(pid, signal.SIGSTOP)  # freeze the group so nothing forks while we collect it
    except OSError:
        pass
    for _ in range(3):  # collect, freeze what we found, collect again (bounded)
        try:
            found = {p.pid for p in psutil.Process(pid).children(recursive=True)}
        except psutil.Error:
            found = set()
        if _subreaper:  # double-forked daemons of the command were re-parented to us
            try:
                found |= {p.pid for p in psutil.Process().children(recursive=True)}
            except psutil.Error:
                pass
        new = found - victims
        victims |= found
        for p in new:
            try:
                os.kill(p, signal.SIGSTOP)
            except OSError:
                pass
        if not new:
            break
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    for p in victims | {pid}:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    return victims


def _wait_gone(pids: set[int], timeout: float = 3.0) -> None:
    import psutil

    # A killed orphan may linger as a zombie until its new parent reaps it;
    # it runs nothing, so it counts as gone.
    end = time.monotonic() + timeout
    pending = set(pids)
    for p in pids:  # reap those that became ours (see enable_subreaper)
        try:
            os.waitpid(p, os.WNOHANG)
        except ChildProcessError:
            pass
    while pending and time.monotonic() < end:
        for p in list(pending):
            try:
                if psutil.Process(p).status() == psutil.STATUS_ZOMBIE:
                    pending.discard(p)
            except psutil.Error:
                pending.discard(p)
        if pending:
            time.sleep(0.005)


_null_fd = -1


def _devnull() -> int:
    """One read-write /dev/null descriptor for the whole process (close-on-exec; dup2 gives the child its
    copy), instead of the child opening /dev/null twice on every run as hyperfine does not."""
    global _null_fd
    if _null_fd < 0:
        _null_fd = os.open(os.devnull, os.O_RDWR)
    return _null_fd


def run_once(argv: Sequence[str], *, timeout: float | None = None, show_output: bool = False,
             env: Mapping[str, str] | Mapping[bytes, bytes] | None = None, cwd: str | None = None,
             stderr_fd: int | None = None) -> Run:
    """Spawn `argv` (already resolved: absolute program path) in its own process group and measure it.

    `env`: the command's environment; pass a plain dict (engine.Plan keeps one) where runs repeat, as
    os.environ (the default) is slower for posix_spawn to convert. `cwd`: run there (posix_spawn has no
    chdir action, so we step in and out around the spawn). `stderr_fd`: where the command's stderr goes
    when its output is not shown (default /dev/null), so a failing run's last lines can be reported."""
    null = _devnull()
    file_actions = [(os.POSIX_SPAWN_DUP2, null, 0)]
    if not show_output:
        file_actions += [(os.POSIX_SPAWN_DUP2, null, 1),
                         (os.POSIX_SPAWN_DUP2, null if stderr_fd is None else stderr_fd, 2)]
    # The spawned child inherits our memory high-water mark into its ru_maxrss (Linux keeps the
    # pre-exec mm's peak), so wait4's figure only counts when it exceeds ours.
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    environ = os.environ if env is None else env
    here = os.open(".", os.O_RDONLY | os.O_CLOEXEC) if cwd is not None else -1
    start = time.perf_counter()
    try:
        if cwd is not None:
            os.chdir(cwd)
        pid = os.posix_spawn(argv[0], list(argv), environ, file_actions=file_actions, setpgroup=0)
    except OSError as exc:
        from perfpack.terminal import one_line

        raise PerfpackError(f"cannot start {one_line(argv[0])}"
                            + (f" in {one_line(cwd)}" if cwd is not None else "")
                            + f": {exc.strerror}") from None
    finally:
        if here >= 0:
            os.fchdir(here)
            os.close(here)
    peak_sum = 0
    peak_one = 0
    seen: set[int] = {pid}
    timed_out = False
    pidfd = -1
    try:
        pidfd = os.pidfd_open(pid)
        deadline = start + timeout if timeout else None
        interval = _FIRST_SAMPLE_S
        while True:
            wait = interval
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - time.perf_counter()))
            ready, _, _ = select.select([pidfd], [], [], wait)
            if ready:
                break
            total = 0
            for p in _tree(pid):
                seen.add(p)
                rss, hwm = _memory(p)
                total += rss
                peak_one = max(peak_one, hwm)
            peak_sum = max(peak_sum, total)
            interval = min(interval * 2, _MAX_SAMPLE_S)
            if deadline is not None and time.perf_counter() >= deadline:
                timed_out = True
                victims = kill_tree(pid, seen)
                _, status, usage = os.wait4(pid, 0)
                _wait_gone(victims)
                break
        if not timed_out:
            _, status, usage = os.wait4(pid, 0)
        end = time.perf_counter()
    except BaseException:
        # Interrupted (Ctrl-C) or a bug: never leave the command running behind us.
        try:
            victims = kill_tree(pid, seen)
            os.waitpid(pid, 0)
            _wait_gone(victims)
        except (OSError, ChildProcessError):
            pass
        raise
    finally:
        if pidfd >= 0:
            os.close(pidfd)
    waited_peak = usage.ru_maxrss * 1024
    # Our high-water mark can grow between the first reading and the exec (argv/env copies); the
    # child inherited it at exec time, so compare with the reading after the run, which bounds it.
    own_peak = max(own_peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    rss = max(peak_sum, peak_one)
    if waited_peak > own_peak:
        rss = max(rss, waited_peak)
    return Run(wall_s=end - start, cpu_s=usage.ru_utime + usage.ru_stime, rss_bytes=rss or None,
               exit_code=os.waitstatus_to_exitcode(status), timed_out=timed_out)
