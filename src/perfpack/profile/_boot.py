# perfpack's in-process bootstrap for a Python program, run BY PATH with the program's own interpreter:
#   PYTHON [OPTIONS] _boot.py ENGINE DIR GATE MODE PROGRAM [--memray-path PATH] -- ARGS...
# ENGINE: run (no profiler inside: py-spy samples from outside) | cprofile | memray | tracemalloc.
# MODE: script | module | code | stdin (as `python FILE`, `python -m MOD`, `python -c CODE`, `python -`).
# The program runs as `__main__` with the sys.argv and sys.path[0] Python itself would give it.
# DIR: the profile's folder: the program's stdout and stderr go to DIR/output.txt (so they cannot flood
# the summary), its exit status, wall time (the program's own run) and the interpreter's start-up before
# it to DIR/status, the engine's data to DIR/<engine file>.
# GATE: a FIFO to wait on before the program starts ("-" for none): perfpack writes "go" once py-spy
# has attached to this process, so a py-spy that cannot attach costs nothing (the program has not run,
# and the fallback engine runs it once).
# Standard library only (memray is imported when asked for), Python 3.8+.
import os
import pkgutil  # noqa: F401  (runpy imports it on first use: imported before the gate, with runpy,
import runpy  # so that the profile starts with the program, not with perfpack's own imports)
import sys
import threading
import time
import types

_THIS = os.path.abspath(__file__)


def _set_path0(value):
    """sys.path[0] as Python sets it for the program: its folder (or the cwd), none with -I or -P."""
    here = os.path.dirname(_THIS)
    if sys.path and sys.path[0] == here:
        del sys.path[0]
    if not (sys.flags.isolated or getattr(sys.flags, "safe_path", False)):
        sys.path.insert(0, value)


def _run(mode, program, args):
    if mode == "script":
        sys.argv = [program] + args
        _set_path0(os.path.dirname(os.path.abspath(program)))
        runpy.run_path(program, run_name="__main__")
    elif mode == "module":
        sys.argv = [program] + args
        _set_path0(os.getcwd())
        runpy.run_module(program, run_name="__main__", alter_sys=True)
    else:
        if mode == "stdin":
            code, name = sys.stdin.read(), "<stdin>"
        else:
            code, name = program, "<string>"
        sys.argv = ["-c" if mode == "code" else "-"] + args
        _set_path0("")
        main = types.ModuleType("__main__")
        main.__dict__["__builtins__"] = __builtins__
        sys.modules["__main__"] = main
        exec(compile(code, name, "exec"), main.__dict__)


class _CProfile:
    """cProfile on the main thread and on every thread started after it (each thread its own profiler)."""

    def __init__(self, out):
        import cProfile

        self.out = out
        self.cProfile = cProfile
        self.profilers = []
        self.lock = threading.Lock()

    def _thread_start(self, frame, event, arg):
        prof = self.cProfile.Profile(builtins=False)
        with self.lock:
            self.profilers.append(prof)
        prof.enable()  # replaces this function as the thread's profiler

    def __enter__(self):
        threading.setprofile(self._thread_start)
        # builtins=False: a C function's time counts to its Python caller (as py-spy sees it), and
        # programs making millions of C calls are not slowed, and skewed, by an event for each
        self.main = self.cProfile.Profile(builtins=False)
        self.main.enable()
        return self

    def __exit__(self, *exc):
        self.main.disable()
        threading.setprofile(None)
        import marshal

        merged = {}
        with self.lock:
            profilers = [self.main] + self.profilers
        for prof in profilers:
            prof.snapshot_stats()  # reads a running thread's profiler without disabling it
            for func, (cc, nc, tt, ct, callers) in prof.stats.items():
                if func[0] == _THIS:
                    continue
                callers = {k: v for k, v in callers.items() if k[0] != _THIS}
                if func in merged:
                    old = merged[func]
                    for k, v in callers.items():
                        if k in old[4]:
                            o = old[4][k]
                            callers[k] = tuple(a + b for a, b in zip(o, v))  # noqa: B905 (3.8+)
                    for k, v in old[4].items():
                        callers.setdefault(k, v)
                    merged[func] = (old[0] + cc, old[1] + nc, old[2] + tt, old[3] + ct, callers)
                else:
                    merged[func] = (cc, nc, tt, ct, callers)
        with open(self.out, "wb") as handle:  # pstats' own format: `python -m pstats FILE` reads it
            marshal.dump(merged, handle)
        return False


class _Tracemalloc:
    """tracemalloc, with the live allocations snapshotted each time memory reaches a new high (10 %
    above the last snapshot): checked when a function returns (a profile hook: the moment a builder
    hands its result back is when memory peaks) and every few ms by a watcher thread (long loops).
    A snapshot of a big heap is slow, so after one that took T seconds the next waits 4 T, unless
    memory grew by half: snapshots cost at most about a fifth more time. The last snapshot is the
    allocations at, or close below, the peak."""

    FRAMES = 16  # deep enough to reach the calling function from inside a library; 64 costs 4x the time
    INTERVAL = 0.005
    GROWTH = 1.10

    def __init__(self, out):
        import tracemalloc

        self.out = out
        self.tracemalloc = tracemalloc
        self.best = None
        self.best_size = 0
        self.threshold = 1 << 20
        self.next_at = 0.0
        self.lock = threading.Lock()
        self.done = threading.Event()

    def _watch(self):
        while not self.done.wait(self.INTERVAL):
            self._check()

    def _hook(self, frame, event, arg):
        if event in ("return", "c_return") and self.tracemalloc.get_traced_memory()[0] > self.threshold:
            self._check()

    def _check(self):
        if not self.lock.acquire(blocking=False):
            return
        try:
            current = self.tracemalloc.get_traced_memory()[0]
            if current <= self.threshold or not self.tracemalloc.is_tracing():
                return
            now = time.perf_counter()
            if now < self.next_at and current < self.best_size * 1.5:
                return
            self.best = None  # free the old snapshot before taking the new one
            self.best = self.tracemalloc.take_snapshot()
            self.best_size = current
            self.threshold = current * self.GROWTH
            done = time.perf_counter()
            self.next_at = done + 4 * (done - now)
        finally:
            self.lock.release()

    def __enter__(self):
        self.tracemalloc.start(self.FRAMES)
        self.watcher = threading.Thread(target=self._watch, name="perfpack-tracemalloc", daemon=True)
        self.watcher.start()
        threading.setprofile(self._hook)
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc):
        import json

        sys.setprofile(None)
        threading.setprofile(None)
        self.done.set()
        self.watcher.join(2.0)
        tracemalloc = self.tracemalloc
        _, peak = tracemalloc.get_traced_memory()
        self._check()
        snapshot = self.best
        tracemalloc.stop()
        allocations = []
        if snapshot is not None:
            snapshot = snapshot.filter_traces(
                [tracemalloc.Filter(False, _THIS), tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            for stat in snapshot.statistics("traceback")[:2000]:
                frames = [[f.filename, f.lineno] for f in stat.traceback]  # oldest (outermost) first
                allocations.append([frames, stat.size, stat.count])
        data = {"peak_bytes": peak, "snapshot_bytes": self.best_size, "allocations": allocations}
        with open(self.out, "w") as handle:
            json.dump(data, handle)
        return False


class _Memray:
    def __init__(self, out):
        import memray

        try:
            # each object pymalloc hands out, not the 1 MiB arenas it takes from the system: an arena is
            # charged to whichever line happened to need it ("1.0 MiB in 1 block" for a few KB of floats)
            self.tracker = memray.Tracker(out, follow_fork=True, trace_python_allocators=True)
        except TypeError:  # a memray older than 1.4
            self.tracker = memray.Tracker(out, follow_fork=True)

    def __enter__(self):
        self.tracker.__enter__()
        return self

    def __exit__(self, *exc):
        self.tracker.__exit__(*exc)
        return False


class _Nothing:
    def __init__(self, out):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_DATA = {
    "run": None,
    "cprofile": "cprofile.pstats",
    "memray": "memray.bin",
    "tracemalloc": "tracemalloc.json",
}


def _status(folder, text):
    tmp = os.path.join(folder, "status.tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, os.path.join(folder, "status"))


def _exit_code(exc):
    """The exit status an exception ending the program gives, as the interpreter computes it."""
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    if isinstance(exc, KeyboardInterrupt):
        return -2  # the interpreter re-raises SIGINT: killed by signal 2
    return 1


def _age():
    """Seconds since this process started (the interpreter's start-up so far), or None where it cannot be
    told: /proc/self/stat's start time (clock ticks since boot) against CLOCK_BOOTTIME."""
    try:
        with open("/proc/self/stat", "rb") as handle:
            started = int(handle.read().rsplit(b")", 1)[-1].split()[19]) / os.sysconf("SC_CLK_TCK")
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def main():
    startup = _age()  # before the gate: the wait for the profiler is nobody's start-up
    argv = sys.argv[1:]
    engine, folder, gate, mode, program = argv[0], argv[1], argv[2], argv[3], argv[4]
    rest = argv[5:]
    if gate != "-":
        with open(gate, "rb") as fifo:
            if fifo.read(2) != b"go":
                return
    out = os.open(os.path.join(folder, "output.txt"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    if rest[:1] == ["--memray-path"]:
        sys.path.insert(0, rest[1])
        try:
            import memray  # noqa: F401  (loaded now; the path is not left for the program to see)
        finally:
            sys.path.remove(rest[1])
        rest = rest[2:]
    args = rest[1:] if rest[:1] == ["--"] else rest
    data = _DATA[engine] and os.path.join(folder, _DATA[engine])
    engines = {"run": _Nothing, "cprofile": _CProfile, "memray": _Memray, "tracemalloc": _Tracemalloc}
    runner = engines[engine](data)
    start = time.perf_counter()
    code = 0
    try:
        with runner:
            _run(mode, program, args)
            for thread in threading.enumerate():  # as the interpreter does at exit: the program has
                if thread is not threading.current_thread() and not thread.daemon:  # not ended before
                    thread.join()
    except BaseException as exc:
        code = _exit_code(exc)
        raise
    finally:
        _status(folder, f"pid={os.getpid()}\nexit={code}\nwall_s={time.perf_counter() - start:.6f}\n"
                + ("" if startup is None else f"startup_s={startup:.6f}\n"))


if __name__ == "__main__":
    main()
