"""The engine-neutral records of a profile: frames, weighted stacks, and what a run produced."""

from __future__ import annotations

from dataclasses import dataclass, field

# Frame kinds: Python code, native code (C, C++, Rust: from py-spy --native or perf), and the
# process / thread markers py-spy puts at the root of a stack with --subprocesses / --threads.
PY, NATIVE, PROCESS, THREAD = "py", "native", "process", "thread"


@dataclass(frozen=True)
class Frame:
    function: str
    file: str  # absolute path, "<frozen runpy>", a shared library, or "" when unknown
    line: int  # the function's first line for Python frames; 0 when unknown
    kind: str = PY
    # py-spy names a method `Class.method`; `function` keeps the plain name (as cProfile, memray and
    # tracemalloc give it, so profiles from any engine compare), `qualname` the longer one.
    qualname: str = field(default="", compare=False)
    at: int = field(default=0, compare=False)  # py-spy: the line the sample was taken at (0: not known)

    def label(self) -> str:
        """How the frame reads in folded stacks: `function (file:line)`, as py-spy writes it."""
        if self.kind == PROCESS or self.kind == THREAD:
            return self.function
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.function} ({where})" if where else self.function


Stack = tuple[Frame, ...]  # outermost first


@dataclass
class CpuProfile:
    """What a CPU engine measured: weighted stacks plus how the run went."""

    engine: str  # "py-spy", "cProfile" or "perf"
    engine_version: str
    why: str  # why this engine (and, for a fallback, why not the preferred one)
    stacks: list[tuple[Stack, int]]
    weight_unit: str  # "samples" (py-spy, perf) or "us" (cProfile: microseconds of wall time)
    samples: int  # samples taken (py-spy, perf) or function calls recorded (cProfile)
    wall_s: float  # the program's own run: what was profiled (a Python program's start-up excluded)
    exit_code: int | None  # None with --pid (not our child)
    rate_hz: int = 0
    errors: int = 0
    stopped: str = ""  # "", "duration" or "interrupt": why the run was cut short on purpose
    notes: list[str] = field(default_factory=list)
    startup_s: float | None = None  # Python: the interpreter's start-up before wall_s (not profiled)


@dataclass
class MemoryProfile:
    """What a memory engine saw at the peak: live allocations, each with its stack (innermost first)."""

    engine: str  # "memray" or "tracemalloc"
    engine_version: str
    why: str
    peak_bytes: int
    allocations: list[tuple[Stack, int, int]]  # (stack outermost first, bytes, count) live at the peak
    wall_s: float
    exit_code: int | None
    notes: list[str] = field(default_factory=list)
    startup_s: float | None = None  # the interpreter's start-up before wall_s (not profiled)
