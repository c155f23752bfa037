"""`perfpack profile` as a plain function: choose the engine, run the command (or attach to a PID) once,
and turn what the engine saw into hot spots or allocation sites, files on disk and a ledger record."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.profile import analysis, pyspy
from perfpack.profile import perf as perf_engine
from perfpack.profile.model import CpuProfile, MemoryProfile, Stack
from perfpack.profile.session import Session
from perfpack.profile.target import LAUNCHER, NATIVE, PYTHON, Target
from perfpack.redact import redact_argv
from perfpack.terminal import one_line

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCH = os.path.join(HERE, "_launch.py")
BOOT = os.path.join(HERE, "_boot.py")
CPU_ENGINES = ("auto", "py-spy", "cprofile", "perf")
MEMORY_ENGINES = ("auto", "memray", "tracemalloc")
DEFAULT_PID_DURATION = 10.0
MIN_WALL_S = 0.05  # a command over before this has nothing to profile
USER_CODE_WALL_S = 1.0  # shorter than this with no sample in the program's own code: nothing to profile
ATTACH_TIMEOUT_S = 30.0
MIN_SAMPLES = 10  # fewer CPU samples than this say nothing about where time goes
MAX_RATE = 1000  # the highest --rate (perfpack.profile.cli)
MIN_BUSY = 0.02  # on the CPU less than this share of the run: not a CPU problem, nothing to profile
NOTE_BUSY = 0.25  # under this share, the summary says the program mostly waited
CONTENDED = 0.5  # CPU pressure over this share of the run: the machine was busy, the wait was for a CPU
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass
class Request:
    command: list[str] = field(default_factory=list)
    pid: int | None = None
    duration: float | None = None
    name: str | None = None
    top: int = 8
    out: str | None = None
    memory: bool = False
    engine: str = "auto"
    rate: int = 100
    native: bool = False
    threads: bool = False
    subprocesses: bool = True
    project: str | None = None


@dataclass
class Outcome:
    """A finished profile: where its files are, and what it found."""

    name: str
    root: str
    run_dir: str
    command: list[str]
    cpu: CpuProfile | None = None
    memory: MemoryProfile | None = None
    hotspots: list[analysis.HotSpot] = field(default_factory=list)  # functions
    imports: list[analysis.HotSpot] = field(default_factory=list)  # time spent importing modules
    sites: list[analysis.Site] = field(default_factory=list)
    total_weight: int = 0
    files: dict[str, str] = field(default_factory=dict)
    ledger_id: str = ""
    target_kind: str = ""  # PYTHON, LAUNCHER or NATIVE for a command; "" for --pid
    # share of the run during which some process on the machine was ready to run but had no CPU (Linux's
    # /proc/pressure/cpu); None where the kernel does not say
    cpu_contention: float | None = None


def profile(request: Request) -> Outcome:
    """Profile a command or a PID: see docs/profile.md. SIGTERM and SIGHUP stop it as Ctrl-C does (the
    program's group is stopped and what was measured is kept), so perfpack never leaves it running."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            previous[sig] = signal.signal(sig, stop)
        except ValueError:  # not the main thread: the caller handles signals
            break
    try:
        return _profile(request)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _profile(request: Request) -> Outcome:
    from perfpack.project import project_from_option

    root = str(project_from_option(request.project))
    if request.pid is not None and request.command:
        raise PerfpackError("give either --pid PID or a command after `--`, not both")
    if request.pid is None and not request.command:
        raise PerfpackError(
            "nothing to profile: give a command after `--` (perfpack profile -- python app.py) or --pid PID"
        )
    engines = MEMORY_ENGINES if request.memory else CPU_ENGINES
    if request.engine not in engines:
        raise PerfpackError(
            f"--engine {one_line(request.engine)} does not apply here; choose from {', '.join(engines)}"
        )
    cwd = os.getcwd()
    if request.pid is not None:
        if request.memory:
            raise PerfpackError(
                "--memory cannot attach to a running process; start the program under perfpack: "
                "perfpack profile --memory -- CMD"
            )
        pid_kind = _check_pid(request.pid)
        label = [f"--pid {request.pid}", _cmdline(request.pid)]
        run_dir, name = _prepare_dir(request, root, f"pid{request.pid}")
        outcome = Outcome(name=name, root=root, run_dir=run_dir, command=label)
        pressure = _cpu_pressure()
        outcome.cpu = _attach(request, pid_kind, run_dir)
        outcome.cpu_contention = _contention_since(pressure)
    else:
        from perfpack.profile.target import resolve

        target = resolve(request.command, cwd=cwd)
        if request.memory and target.kind != PYTHON:
            raise PerfpackError(
                f"--memory profiles Python programs; {one_line(request.command[0])} is "
                f"{target.why or 'not Python'}: run the Python command itself (python FILE, "
                "python -m MODULE, or a script with a Python #! line)"
            )
        run_dir, name = _prepare_dir(request, root, _slug(target))
        outcome = Outcome(name=name, root=root, run_dir=run_dir, command=redact_argv(request.command),
                          target_kind=target.kind)
        if request.memory:
            outcome.memory = _memory(request, target, run_dir, cwd)
        else:
            pressure = _cpu_pressure()
            outcome.cpu = _cpu(request, target, run_dir, cwd)
            outcome.cpu_contention = _contention_since(pressure)
    _analyse(outcome, request)
    _write_files(outcome)
    try:
        _check_ran(outcome)
    except PerfpackError as refused:
        # the files stay for a look (the program's output above all), but `profile diff` must not read a
        # profile this command refused as a measurement (corpus31 quoted such a diff's "-96.7 %")
        _write_profile_json(outcome, refused=refused.message)
        raise
    _record(outcome, request)
    return outcome


def _cpu_pressure() -> tuple[float, int] | None:
    """(now, microseconds some task has waited for a CPU since boot): Linux's pressure stall information."""
    try:
        with open("/proc/pressure/cpu", "rb") as handle:
            first = handle.readline()
        total = int(first.rsplit(b"total=", 1)[1])
    except (OSError, IndexError, ValueError):
        return None
    return time.monotonic(), total


def _contention_since(start: tuple[float, int] | None) -> float | None:
    end = _cpu_pressure()
    if start is None or end is None or end[0] <= start[0]:
        return None
    return max(0.0, min(1.0, (end[1] - start[1]) / 1e6 / (end[0] - start[0])))


def _waited_for(outcome: Outcome) -> str:
    """What the time off the CPU was, as far as perfpack can tell."""
    share = outcome.cpu_contention
    if share is not None and share >= CONTENDED:
        return (
            f"the machine's CPUs were contended for {100 * share:.0f}% of the run (processes waited for "
            "a CPU), so much of the rest was that wait, not the program's I/O, sleep or locks"
        )
    return "the rest it waited (I/O, sleep, locks): CPU is not all of its time"


def _record(outcome: Outcome, request: Request) -> None:
    """Append the printed figures to the project's ledger (for `perfpack evidence check`)."""
    from perfpack import ledger
    from perfpack.profile.summary import ledger_figures

    result = outcome.cpu or outcome.memory
    assert result is not None
    extra: dict[str, Any] = {
        "engine": result.engine,
        "memory": outcome.memory is not None,
        "profile": outcome.files.get("profile"),
    }
    command = outcome.command
    if request.pid is not None:  # a real argv, and the attached process's own argv beside it
        command = ["perfpack", "profile", "--pid", str(request.pid)]
        extra["target"] = _cmdline_argv(request.pid)
    outcome.ledger_id = ledger.record(
        outcome.root,
        kind="profile",
        name=outcome.name,
        command=command,
        figures=ledger_figures(outcome, top=request.top),
        extra=extra,
    )


# --- engines -------------------------------------------------------------------------------------------


class _CannotSample(Exception):
    """py-spy could not sample this command (the command has not started)."""


def _cpu(request: Request, target: Target, run_dir: str, cwd: str) -> CpuProfile:
    engine = request.engine
    if engine == "auto":
        engine = "perf" if target.kind == NATIVE else "py-spy"
    if engine == "perf":
        return _perf(request, target, run_dir, cwd)
    if engine == "py-spy":
        binary = pyspy.find_pyspy()
        if binary is None:
            reason = "py-spy is not installed (pip install py-spy)"
        else:
            try:
                return _pyspy(request, target, run_dir, cwd, binary)
            except _CannotSample as exc:
                reason = f"py-spy could not sample: {exc}{_ptrace_hint(target)}"
        if request.engine == "py-spy":
            raise PerfpackError(one_line(reason, limit=300))
        if target.kind != PYTHON:
            raise PerfpackError(
                one_line(
                    f"{reason}; the cProfile fallback needs the Python command itself, not "
                    f"{target.why}: run `python FILE` or `python -m MODULE` directly",
                    limit=400,
                )
            )
        return _cprofile(request, target, run_dir, cwd, why=reason)
    if target.kind != PYTHON:
        raise PerfpackError(
            f"cProfile profiles Python commands; {one_line(request.command[0])} is {target.why}"
        )
    return _cprofile(request, target, run_dir, cwd, why="asked for with --engine cprofile")


def _launch_argv(gate: str, run_dir: str, command: list[str]) -> list[str]:
    """A non-Python command under perfpack's launcher (see _launch.py), which reports its exit status."""
    return [
        sys.executable,
        "-I",
        "-S",
        LAUNCH,
        gate,
        os.path.join(run_dir, "status"),
        os.path.join(run_dir, "output.txt"),
        "--",
        *command,
    ]


def _boot_argv(
    target: Target, engine: str, run_dir: str, gate: str, extra: list[str] | None = None
) -> list[str]:
    """A Python command run by _boot.py in its own interpreter (see _boot.py)."""
    assert target.interpreter
    return [
        target.interpreter,
        *target.py_options,
        BOOT,
        engine,
        run_dir,
        gate,
        target.mode,
        target.program or "-",
        *(extra or []),
        "--",
        *target.args,
    ]


def _pyspy(request: Request, target: Target, run_dir: str, cwd: str, binary: str) -> CpuProfile:
    gate = os.path.join(run_dir, "gate")
    os.mkfifo(gate, 0o600)
    raw = os.path.join(run_dir, "py-spy.raw")
    if target.kind == PYTHON:
        # py-spy's root is the program's own interpreter: sampled from its first instruction (a child is
        # found only on py-spy's next look for new processes).
        command = _boot_argv(target, "run", run_dir, gate)
    else:
        command = _launch_argv(gate, run_dir, target.argv)
    argv = pyspy.record_argv(
        binary,
        raw_out=raw,
        rate=request.rate,
        native=request.native,
        threads=request.threads,
        subprocesses=request.subprocesses,
        command=command,
    )
    session = Session(argv, cwd=cwd)
    try:
        session.watch_for(pyspy.READY)
        if not session.wait_started(ATTACH_TIMEOUT_S):
            session.kill()
            raise _CannotSample(pyspy.failure(session.output()))
        if not _open_gate(gate, session):
            session.kill()
            raise _CannotSample("the program did not start: " + pyspy.failure(session.output()))
        stopped = session.wait(duration=request.duration, ended=lambda: _command_ended(run_dir))
    finally:
        session.kill()
        _unlink(gate)
    status = _status(run_dir)
    samples, errors = pyspy.counts(session.output())
    stacks: list[tuple[Stack, int]] = []
    if os.path.isfile(raw):
        stacks = pyspy.parse_raw(
            pyspy.read_raw(raw),
            drop_pids={status.get("launcher", "")},
            drop_file=BOOT,
            root_label=" ".join(redact_argv(request.command)),
        )
    why = "sampling from outside the process"
    if target.kind == LAUNCHER:
        why += f"; {target.why}: its Python child processes are sampled"
    profile = CpuProfile(
        engine="py-spy",
        engine_version=pyspy.version(binary),
        why=why,
        stacks=analysis.first_lines(_absolute(stacks, cwd)),
        weight_unit="samples",
        samples=sum(w for _, w in stacks),
        wall_s=float(status.get("wall_s", 0) or 0),
        startup_s=_startup(status),
        exit_code=_exit(status),
        rate_hz=request.rate,
        errors=errors,
        stopped=stopped,
    )
    if "exit" not in status and not stopped:
        profile.notes.append("the program ended without an exit status (os._exit or a signal)")
    if errors and errors * 10 > samples:
        profile.notes.append(f"py-spy could not read {errors} of {samples + errors} samples")
    return profile


def _ptrace_hint(target: Target) -> str:
    """Why reading another process's memory may be refused here, when it can be told."""
    reasons = []
    program = target.interpreter or target.argv[0]
    try:
        mode = os.stat(program).st_mode
        if mode & (stat.S_ISUID | stat.S_ISGID):
            reasons.append(f"{os.path.basename(program)} is set-user/group-ID, so its process cannot be read")
    except OSError:
        pass
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope", encoding="ascii") as handle:
            scope = handle.read().strip()
        if scope in ("2", "3"):
            reasons.append(f"kernel.yama.ptrace_scope is {scope}")
    except OSError:
        pass
    return f" ({'; '.join(reasons)})" if reasons else ""


def _open_gate(gate: str, session: Session, timeout: float = 10.0) -> bool:
    """Tell the launcher to start the command (it waits on the FIFO's other end)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            fd = os.open(gate, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            if session.proc.poll() is not None:
                return False
            time.sleep(0.002)
            continue
        try:
            os.write(fd, b"go")
        finally:
            os.close(fd)
        return True
    return False


def _cprofile(request: Request, target: Target, run_dir: str, cwd: str, *, why: str) -> CpuProfile:
    from perfpack.profile import cprofile

    data = os.path.join(run_dir, "cprofile.pstats")
    session = Session(_boot_argv(target, "cprofile", run_dir, "-"), cwd=cwd)
    try:
        session.watch_for(None)
        stopped = session.wait(duration=request.duration)
    finally:
        session.kill()
    status = _status(run_dir, session)
    stacks: list[tuple[Stack, int]] = []
    calls = 0
    notes = [
        "cProfile: deterministic, in the process; threads started by the program are included, "
        "child processes are not"
    ]
    if os.path.isfile(data):
        try:
            stacks, calls = cprofile.stacks(cprofile.load(data))
        except (ValueError, EOFError, TypeError, KeyError, IndexError) as exc:
            notes.append(f"cProfile's data could not be read: {exc}")
    elif "exit" in status:
        notes.append("cProfile wrote no data (the program ended with os._exit or was killed)")
    return CpuProfile(
        engine="cProfile",
        engine_version=f"Python {_py_version(target.interpreter or sys.executable)}",
        why=why,
        stacks=_absolute(stacks, cwd),
        weight_unit="us",
        samples=calls,
        wall_s=float(status.get("wall_s", 0) or 0),
        startup_s=_startup(status),
        exit_code=_exit(status),
        stopped=stopped,
        notes=notes,
    )


def _perf(
    request: Request, target: Target | None, run_dir: str, cwd: str, *, pid: int | None = None
) -> CpuProfile:
    binary = perf_engine.find_perf()
    what = (
        "not a Python program" if target is None or target.kind == NATIVE else (target.why or "this command")
    )
    if binary is None:
        raise PerfpackError(
            f"{one_line(request.command[0] if request.command else f'PID {pid}')} is {what}, and "
            "`perf` (for native code) is not installed: perfpack samples Python with py-spy and "
            "other programs with perf (Debian/Ubuntu: apt-get install linux-perf)"
        )
    ok, reason = perf_engine.usable(binary)
    if not ok:
        raise PerfpackError(one_line(f"{what}: {reason}", limit=400))
    data = os.path.join(run_dir, "perf.data")
    rate = request.rate if request.rate != 100 else 99  # 99 Hz: not in lock-step with timer ticks
    if pid is not None:
        argv = perf_engine.record_argv(binary, data=data, rate=rate, pid=pid)
    else:
        assert target is not None
        argv = perf_engine.record_argv(
            binary, data=data, rate=rate, command=_launch_argv("-", run_dir, target.argv)
        )
    started = time.monotonic()
    session = Session(argv, cwd=cwd)
    try:
        session.watch_for(None)
        duration = request.duration if pid is None else (request.duration or DEFAULT_PID_DURATION)
        stopped = session.wait(duration=duration)
    finally:
        session.kill()
    status = _status(run_dir) if pid is None else {}
    if not os.path.isfile(data) or os.path.getsize(data) == 0:
        lines = [ln for ln in session.lines if ln.strip()]
        raise PerfpackError(
            one_line("perf recorded nothing: " + (lines[0] if lines else "no data"), limit=400)
        )
    stacks = perf_engine.parse_script(
        perf_engine.script(binary, data), drop_pids={status.get("launcher", "")}
    )
    return CpuProfile(
        engine="perf",
        engine_version=perf_engine.version(binary),
        why="not a Python program: native stacks from the kernel's sampler",
        stacks=stacks,
        weight_unit="samples",
        samples=sum(w for _, w in stacks),
        wall_s=float(status.get("wall_s", 0) or 0) or round(time.monotonic() - started, 3),
        exit_code=_exit(status) if pid is None else None,
        rate_hz=rate,
        stopped=stopped,
    )


def _attach(request: Request, kind: str, run_dir: str) -> CpuProfile:
    assert request.pid is not None
    pid = request.pid
    duration = request.duration or DEFAULT_PID_DURATION
    if kind == NATIVE and request.engine in ("auto", "perf"):
        return _perf(request, None, run_dir, os.getcwd(), pid=pid)
    if request.engine in ("cprofile", "perf"):
        raise PerfpackError(
            f"--engine {request.engine} cannot attach to a running Python process; py-spy can"
        )
    binary = pyspy.find_pyspy()
    if binary is None:
        raise PerfpackError(
            "attaching to a running process needs py-spy, which is not installed (pip install py-spy)"
        )
    raw = os.path.join(run_dir, "py-spy.raw")
    argv = pyspy.record_argv(
        binary,
        raw_out=raw,
        rate=request.rate,
        native=request.native,
        threads=request.threads,
        subprocesses=request.subprocesses,
        pid=pid,
    )
    started = time.monotonic()
    session = Session(argv)
    try:
        session.watch_for(pyspy.READY)
        if not session.wait_started(ATTACH_TIMEOUT_S):
            session.kill()
            raise PerfpackError(
                one_line(f"py-spy cannot attach to PID {pid}: {pyspy.failure(session.output())}", limit=400)
            )
        stopped = session.wait(duration=duration)
    finally:
        session.kill()
    wall = time.monotonic() - started
    samples, errors = pyspy.counts(session.output())
    stacks: list[tuple[Stack, int]] = []
    if os.path.isfile(raw):
        stacks = analysis.first_lines(pyspy.parse_raw(pyspy.read_raw(raw)))
    return CpuProfile(
        engine="py-spy",
        engine_version=pyspy.version(binary),
        why=f"attached to PID {pid} from outside",
        stacks=stacks,
        weight_unit="samples",
        samples=sum(w for _, w in stacks) or samples,
        wall_s=round(wall, 3),
        exit_code=None,
        rate_hz=request.rate,
        errors=errors,
        stopped=stopped or "ended",
    )


def _memory(request: Request, target: Target, run_dir: str, cwd: str) -> MemoryProfile:
    from perfpack.profile import memory

    engine, why, extra = _memory_engine(request, target)
    out = os.path.join(run_dir, "memray.bin" if engine == "memray" else "tracemalloc.json")
    session = Session(_boot_argv(target, engine, run_dir, "-", extra), cwd=cwd)
    try:
        session.watch_for(None)
        stopped = session.wait(duration=request.duration)
    finally:
        session.kill()
    status = _status(run_dir, session)
    peak = 0
    allocations: list[tuple[Stack, int, int]] = []
    notes = []
    version = ""
    try:
        if engine == "memray" and os.path.isfile(out):
            version = memory.memray_available()[1]
            peak, allocations = memory.read_memray(out, cwd=cwd, boot=BOOT)
        elif engine == "tracemalloc" and os.path.isfile(out):
            from perfpack.safeio import read_json_file

            version = f"Python {_py_version(target.interpreter or sys.executable)}"
            data = read_json_file(out, what="tracemalloc data", max_bytes=256 * 1024 * 1024)
            peak, allocations = memory.read_tracemalloc(data, cwd=cwd, boot=BOOT)
            if data.get("snapshot_bytes") and peak:
                notes.append(
                    f"sites from a snapshot at {100.0 * data['snapshot_bytes'] / peak:.0f}% of the peak"
                )
        elif "exit" in status:
            notes.append(f"{engine} wrote no data (the program ended with os._exit or was killed)")
    except Exception as exc:  # a damaged capture: say so, keep the run's status
        notes.append(f"{engine}'s data could not be read: {one_line(exc, limit=200)}")
    return MemoryProfile(
        engine=engine,
        engine_version=version,
        why=why,
        peak_bytes=peak,
        allocations=allocations,
        wall_s=float(status.get("wall_s", 0) or 0),
        startup_s=_startup(status),
        exit_code=_exit(status),
        notes=notes + ([f"stopped by {stopped}"] if stopped else []),
    )


def _memory_engine(request: Request, target: Target) -> tuple[str, str, list[str]]:
    """memray when the program's interpreter can load it (its own, or ours when the ABI matches)."""
    from perfpack.profile import memory

    if request.engine == "tracemalloc":
        return "tracemalloc", "asked for with --engine tracemalloc", []
    have, _ = memory.memray_available()
    reason = "memray is not installed (pip install memray)"
    if have and target.interpreter:
        own_abi = _abi(sys.executable)
        their_abi, their_memray = _probe(target.interpreter)
        if their_memray:
            return "memray", "allocations at the high-water mark", []
        if their_abi and their_abi == own_abi:
            return "memray", "allocations at the high-water mark", ["--memray-path", memory.memray_site()]
        reason = f"memray cannot load into {one_line(target.interpreter)} ({their_abi or 'unknown ABI'})"
    if request.engine == "memray":
        raise PerfpackError(reason)
    return "tracemalloc", f"{reason}; tracemalloc (Python allocations only)", []


def _abi(python: str) -> str:
    import sysconfig

    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return str(sysconfig.get_config_var("SOABI"))
    return _probe(python)[0]


def _probe(python: str) -> tuple[str, bool]:
    import subprocess

    code = (
        "import sys, sysconfig, importlib.util as u; print(sysconfig.get_config_var('SOABI')); "
        "print(u.find_spec('memray') is not None)"
    )
    try:
        out = (
            subprocess.run([python, "-c", code], capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
            .stdout.decode("utf-8", "replace")
            .split()
        )
    except (OSError, subprocess.SubprocessError):
        return "", False
    return (out[0], out[1] == "True") if len(out) == 2 else ("", False)


# --- checks, files, analysis ---------------------------------------------------------------------------


def _check_pid(pid: int) -> str:
    """PYTHON or NATIVE for a live process of ours; a PerfpackError (one line) otherwise."""
    if pid <= 0:
        raise PerfpackError(f"--pid {pid}: not a process id")
    proc = f"/proc/{pid}"
    if not os.path.isdir("/proc/self"):
        raise PerfpackError("--pid needs Linux's /proc")
    try:
        info = os.stat(proc)
        with open(f"{proc}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[-1].split()[0:1]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        raise PerfpackError(f"no process with PID {pid} (it has exited, or never existed)") from None
    except OSError as exc:
        raise PerfpackError(f"PID {pid}: cannot read it: {exc.strerror}") from None
    if state == [b"Z"] or state == [b"X"]:
        raise PerfpackError(f"PID {pid} has exited (a zombie waiting for its parent)")
    if info.st_uid != os.getuid():
        raise PerfpackError(
            f"PID {pid} is not yours (it belongs to uid {info.st_uid}); perfpack profiles only "
            "your own processes: run perfpack as that user"
        )
    if pid == os.getpid() or pid in _ancestors():
        raise PerfpackError(f"PID {pid} is perfpack itself or the shell that runs it")
    try:
        exe = os.readlink(f"{proc}/exe")
    except OSError:
        raise PerfpackError(
            f"PID {pid}: its program cannot be read (a kernel thread, or a protected process); "
            "nothing perfpack can profile"
        ) from None
    from perfpack.profile.target import _PYTHON_NAME

    if _PYTHON_NAME.match(os.path.basename(exe).removesuffix(" (deleted)")):
        return PYTHON
    try:
        with open(f"{proc}/maps", "rb") as handle:
            if b"libpython" in handle.read(16 * 1024 * 1024):
                return PYTHON
    except OSError:
        pass
    return NATIVE


def _cmdline(pid: int) -> str:
    """The process's command line as shown, its secrets redacted (perfpack.redact)."""
    return one_line(" ".join(redact_argv(_cmdline_argv(pid))), limit=200) or "?"


def _cmdline_argv(pid: int) -> list[str]:
    """The process's argv as a list (from /proc/PID/cmdline), [] when it cannot be read."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read(65536)
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.rstrip(b"\0").split(b"\0")][:200] if raw else []


def _ancestors() -> set[int]:
    out: set[int] = set()
    pid = os.getppid()
    while pid > 1 and pid not in out and len(out) < 1000:
        out.add(pid)
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                pid = int(handle.read().rsplit(b")", 1)[-1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return out


def _prepare_dir(request: Request, root: str, default_stem: str) -> tuple[str, str]:
    from pathlib import Path

    from perfpack.project import state_dir

    if request.out:
        base = os.path.abspath(request.out)
        if not request.out or (os.path.exists(base) and not os.path.isdir(base)):
            raise PerfpackError(f"--out {one_line(request.out, limit=200)}: not a folder")
    else:
        base = str(state_dir(Path(root), "profiles"))  # never through a link out of the project
    name = request.name if request.name is not None else f"{default_stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    if not _NAME.match(name) or name in (".", ".."):
        raise PerfpackError(
            f"--name {one_line(name, limit=120)}: use letters, digits, '.', '_' and '-' "
            "(at most 100, starting with a letter or digit)"
        )
    try:
        os.makedirs(base, exist_ok=True)
        if not request.out:
            ignore = os.path.join(base, ".gitignore")
            if not os.path.lexists(ignore):
                with open(ignore, "w", encoding="utf-8") as handle:
                    handle.write("# perfpack profiles: large, machine-specific\n*\n")
        run_dir = os.path.join(base, name)
        if os.path.islink(run_dir):
            raise PerfpackError(f"{one_line(run_dir)} is a symbolic link; perfpack does not write through it")
        if os.path.isdir(run_dir):
            shutil.rmtree(run_dir)  # the same name again: this run replaces the last one
        elif os.path.lexists(run_dir):
            raise PerfpackError(f"{one_line(run_dir)} exists and is not a folder")
        os.mkdir(run_dir, 0o700)
    except OSError as exc:
        raise PerfpackError(f"cannot write profiles under {one_line(base)}: {exc.strerror or exc}") from None
    return run_dir, name


def _slug(target: Target) -> str:
    base = os.path.basename(target.program if target.kind == PYTHON and target.program else target.argv[0])
    base = re.sub(r"\.pyw?$", "", base)
    if target.kind == PYTHON and target.mode == "code":
        base = "python-c"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip(".-_")[:40]
    return slug or "profile"


def _status(run_dir: str, session: Session | None = None) -> dict[str, str]:
    """What the launcher or _boot.py reported: pid, exit, wall_s (and the launcher's pid). For a program
    that is perfpack's own child, a missing report is completed from its exit status."""
    out: dict[str, str] = {}
    try:
        with open(os.path.join(run_dir, "status"), encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.rstrip("\n").partition("=")
                out[key] = value
    except OSError:
        pass
    if session is not None and "exit" not in out and session.proc.returncode is not None:
        code = session.proc.returncode
        out["exit"] = str(code)
    if "spawn_error" in out:
        raise PerfpackError(f"the command could not start: {one_line(out['spawn_error'], limit=200)}")
    return out


def _command_ended(run_dir: str) -> bool:
    """Whether the launcher or _boot.py has reported how the command ended (or that it never started)."""
    try:
        with open(os.path.join(run_dir, "status"), "rb") as handle:
            text = handle.read(4096)
    except OSError:
        return False
    return b"exit=" in text or b"spawn_error=" in text


def _startup(status: dict[str, str]) -> float | None:
    """The interpreter's start-up before the program ran (_boot.py's report), when it could be told."""
    try:
        return float(status["startup_s"])
    except (KeyError, ValueError):
        return None


def _exit(status: dict[str, str]) -> int | None:
    try:
        return int(status["exit"])
    except (KeyError, ValueError):
        return None


def _code_samples(stacks: list[tuple[Stack, int]]) -> int:
    """Samples that caught code running (not only a process marker)."""
    return sum(w for stack, w in stacks if any(f.kind in ("py", "native") for f in stack))


def _py_version(python: str) -> str:
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return ".".join(map(str, sys.version_info[:3]))
    match = re.search(r"python(\d+\.\d+)", os.path.basename(os.path.realpath(python)))
    return match.group(1) if match else "?"


def _absolute(stacks: list[tuple[Stack, int]], cwd: str) -> list[tuple[Stack, int]]:
    """Relative file names (a script run as `python x.py`) made absolute against the command's folder."""
    from dataclasses import replace

    fixed: dict = {}
    out = []
    for stack, weight in stacks:
        frames = []
        for frame in stack:
            if (
                frame.kind == "py"
                and frame.file
                and not frame.file.startswith("<")
                and not os.path.isabs(frame.file)
            ):
                new = fixed.get(frame)
                if new is None:
                    new = fixed[frame] = replace(frame, file=os.path.normpath(os.path.join(cwd, frame.file)))
                frame = new
            frames.append(frame)
        out.append((tuple(frames), weight))
    return out


def _analyse(outcome: Outcome, request: Request) -> None:
    if outcome.cpu is not None:
        spots, outcome.total_weight = analysis.hotspots(outcome.cpu.stacks)
        outcome.hotspots = [s for s in spots if s.kind == "function"]
        outcome.imports = [s for s in spots if s.kind == "import"]
    elif outcome.memory is not None:
        outcome.sites = analysis.memory_sites(outcome.memory.allocations)
        outcome.total_weight = sum(size for _, size, _ in outcome.memory.allocations)


def _write_files(outcome: Outcome) -> None:
    from perfpack.fsutil import atomic_write_text
    from perfpack.profile import flame, summary

    run_dir = outcome.run_dir
    files = outcome.files
    if outcome.cpu is not None:
        stacks = outcome.cpu.stacks
        unit = "µs" if outcome.cpu.weight_unit == "us" else "samples"
        title = f"CPU: {' '.join(outcome.command)}"
        drawn = sum(weight for _, weight in stacks)
        # the summary's shares are of the busy samples; the graph also draws the waiting ones: say both
        counted = (f"{outcome.total_weight:,} busy {unit} of {drawn:,} drawn" if drawn != outcome.total_weight
                   else f"{outcome.total_weight:,} {unit}")
        sub = f"{outcome.cpu.engine} {outcome.cpu.engine_version} · {counted} · {outcome.cpu.wall_s:.2f} s"
    else:
        assert outcome.memory is not None
        stacks = [(stack, size) for stack, size, _ in outcome.memory.allocations]
        unit = "bytes"
        title = f"memory at the peak: {' '.join(outcome.command)}"
        sub = f"{outcome.memory.engine} · peak {summary.human_bytes(outcome.memory.peak_bytes)}"
    files["raw"] = os.path.join(run_dir, "stacks.folded")
    atomic_write_text(files["raw"], flame.folded(stacks), fsync=False)
    if stacks:
        files["flamegraph"] = os.path.join(run_dir, "flame.svg")
        atomic_write_text(
            files["flamegraph"],
            flame.svg(stacks, title=title, subtitle=sub, unit=unit, root=outcome.root),
            fsync=False,
        )
    output = os.path.join(run_dir, "output.txt")
    if os.path.isfile(output):
        files["output"] = output
    files["profile"] = os.path.join(run_dir, "profile.json")
    _write_profile_json(outcome)


def _write_profile_json(outcome: Outcome, refused: str = "") -> None:
    """profile.json, what `profile diff` reads: every function; `refused`: why this command refused the
    run, which diff then says instead of comparing it."""
    from perfpack.fsutil import atomic_write_text
    from perfpack.profile import summary

    full = summary.to_json(outcome, limit=None)
    if refused:
        full["refused"] = refused
    atomic_write_text(
        outcome.files["profile"], json.dumps(full, indent=1, ensure_ascii=False, allow_nan=False) + "\n",
        fsync=False,
    )


def _check_ran(outcome: Outcome) -> None:
    """One line and exit 2 when there was nothing to profile: the command failed or ended at once."""
    result = outcome.cpu or outcome.memory
    assert result is not None
    stopped = getattr(result, "stopped", "") or (
        "stopped" if any("stopped by" in n for n in result.notes) else ""
    )
    where = _rel(outcome.files.get("output", ""))
    if result.exit_code not in (0, None) and not stopped:
        last = _last_line(outcome.files.get("output", ""))
        raise PerfpackError(
            one_line(
                f"the command failed (exit {result.exit_code}) after {result.wall_s:.2f} s"
                + (f": {last}" if last else "")
                + (f" (its output: {where})" if where else ""),
                limit=500,
            )
        )
    if outcome.cpu is not None:
        cpu = outcome.cpu
        user = sum(s.self_weight for s in outcome.hotspots if s.user)
        attached = outcome.command[0].startswith("--pid")
        if attached and not outcome.total_weight:
            raise PerfpackError(
                f"no samples from {outcome.command[0][2:]} in {cpu.wall_s:.1f} s: it was idle "
                "(waiting, sleeping) the whole time, or exited"
            )
        if not attached and not cpu.stopped:
            ran = _ran(cpu)
            expected = cpu.wall_s * cpu.rate_hz
            sampled = cpu.weight_unit == "samples" and cpu.rate_hz
            if cpu.wall_s < MIN_WALL_S and (not sampled or expected < MIN_SAMPLES):  # --rate 1000 may do
                if sampled and _faster(cpu):
                    raise PerfpackError(_too_short(ran, outcome.total_weight, expected, cpu))
                raise PerfpackError(
                    f"{ran}: too short, nothing to profile; profile a run that works for a second or more"
                )
            busy = outcome.total_weight / expected if expected else 0.0
            if (
                cpu.weight_unit == "samples"
                and cpu.rate_hz
                and outcome.total_weight
                and (outcome.total_weight < MIN_SAMPLES or outcome.total_weight < MIN_BUSY * expected)
            ):
                contended = (outcome.cpu_contention or 0.0) >= CONTENDED
                if busy >= NOTE_BUSY:  # busy, but over before enough samples were taken (even on a busy
                    # machine: "on the CPU for only 9 of about 7 samples" read as a bug)
                    raise PerfpackError(_too_short(ran, outcome.total_weight, expected, cpu))
                raise PerfpackError(
                    f"{ran} but was on the CPU for only "
                    f"{outcome.total_weight} of about {expected:.0f} samples: nothing to profile ("
                    + (
                        f"the machine's CPUs were contended for {100 * (outcome.cpu_contention or 0):.0f}% "
                        "of the run: profile again when it is less busy, or "
                        if contended
                        else "it waited or slept; "
                    )
                    + "profile the process that does the work)"
                )
            # a failed read or two (the process ending under py-spy) is not a process py-spy cannot read
            if not outcome.total_weight and cpu.errors and cpu.errors >= max(MIN_SAMPLES / 2, expected / 2):
                raise PerfpackError(
                    f"{cpu.engine} could not read the program's processes ({cpu.errors} failed "
                    "samples): nothing was profiled"
                )
            if not outcome.total_weight and outcome.target_kind == LAUNCHER and cpu.engine == "py-spy":
                raise PerfpackError(
                    f"no Python code ran under {one_line(os.path.basename(outcome.command[0]), limit=60)} "
                    f"in {cpu.wall_s:.2f} s (py-spy found none); for native code use --engine perf"
                )
            if not outcome.total_weight and cpu.weight_unit == "samples" and expected < MIN_SAMPLES:
                raise PerfpackError(_too_short(ran, 0, expected, cpu))
            if not outcome.total_weight:
                raise PerfpackError(
                    f"{ran} but used almost no CPU (no samples): "
                    "nothing to profile (it waited or slept; profile the process that does the work)"
                )
            if cpu.weight_unit == "samples" and expected and outcome.total_weight < NOTE_BUSY * expected:
                cpu.notes.insert(
                    0,
                    f"on the CPU for about {100 * outcome.total_weight / expected:.0f}% of the run; "
                    + _waited_for(outcome),
                )
            if not user and cpu.wall_s < USER_CODE_WALL_S:
                raise PerfpackError(
                    f"{ran}, all of it in imports and libraries: nothing of its own to profile; profile a "
                    "run that works for a second or more"
                )
    else:
        mem = outcome.memory
        assert mem is not None
        if mem.exit_code is not None and not mem.allocations and mem.wall_s < USER_CODE_WALL_S:
            raise PerfpackError(f"{_ran(mem)} with no allocation live at its peak: nothing to profile")


def _ran(result: CpuProfile | MemoryProfile) -> str:
    """How long the run was, as a refusal says it: the program's own run (what is profiled) and, for a
    Python program, the interpreter's start-up before it, which is not (so that 0.00 s is not read as the
    command's time when `time` says 0.27 s)."""
    if result.startup_s is None:
        return f"the command ran {result.wall_s:.2f} s"
    return (
        f"the program ran {result.wall_s:.2f} s ({result.wall_s + result.startup_s:.2f} s with the "
        "interpreter's start-up, which is not profiled)"
    )


def _faster(cpu: CpuProfile) -> bool:
    """Whether the highest --rate would take enough samples of a run this long."""
    return cpu.rate_hz < MAX_RATE and cpu.wall_s * MAX_RATE >= 2 * MIN_SAMPLES


def _too_short(ran: str, samples: int, expected: float, cpu: CpuProfile) -> str:
    """The refusal of a run that kept the CPU busy but ended before enough samples were taken: a run too
    short for the sampling rate (not one that waited), and how to get enough."""
    faster = f", or sample faster (--rate {MAX_RATE})" if _faster(cpu) else ""
    return (
        f"{ran}: {samples} of about {expected:.0f} samples at {cpu.rate_hz} Hz, too few to say where the "
        f"time goes (at least {MIN_SAMPLES}): too short, nothing to profile; give it more work (a larger "
        f"input) so that it runs a second or more{faster}"
    )


def _rel(path: str) -> str:
    if not path:
        return ""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _last_line(path: str) -> str:
    if not path:
        return ""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 4096))
            lines = [ln.strip() for ln in handle.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return one_line(lines[-1], limit=160) if lines else ""


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
