"""The benchmark loop, interleaved A/B comparison, and the records they produce (plain values, no CLI)."""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from perfpack.bench import stats
from perfpack.bench.runner import Run, reap_orphans, run_once
from perfpack.errors import PerfpackError
from perfpack.terminal import one_line

DEFAULT_MIN_TIME = 1.0
DEFAULT_MIN_RUNS = 10
DEFAULT_MAX_RUNS = 1000
DEFAULT_PAIRS = 30  # enough to see a 10 % change through the noise of a shared 2-core machine
MIN_EFFECT = stats.MIN_EFFECT_DEFAULT
STDERR_TAIL_LINES = 8


@dataclass
class Plan:
    """How to run one command: argv already resolved, and the run-count policy."""

    argv: list[str]
    display: list[str]
    runs: int | None = None
    min_time: float | None = None
    warmup: int = 1
    timeout: float | None = None
    ignore_failure: bool = False
    show_output: bool = False
    # The environment, copied once: posix_spawn converts os.environ key by key through Python code on
    # every call (~0.07 ms a run on `true`, a tenth of hyperfine's whole per-run cost); a plain dict of
    # bytes it converts in C.
    env: dict[bytes, bytes] = field(default_factory=lambda: dict(os.environb))
    cwd: str | None = None  # None: the current directory
    # Where the command's stderr goes between runs (a memfd, emptied before each run), so a failing run
    # can show its last lines; created on first use.
    stderr_fd: int = -1
    last_stderr: str = ""  # the tail of the most recent failing run's stderr
    where: str = ""  # what a failure's hint should add about where the command runs (compare --rev)

    def set_env(self, name: str, value: str | None) -> None:
        key = os.fsencode(name)
        if value is None:
            self.env.pop(key, None)
        else:
            self.env[key] = os.fsencode(value)

    def close(self) -> None:
        if self.stderr_fd >= 0:
            os.close(self.stderr_fd)
            self.stderr_fd = -1


@dataclass
class Progress:
    """A one-line progress indicator on stderr, only when stderr is a terminal."""

    label: str
    enabled: bool = field(default_factory=lambda: sys.stderr.isatty())
    _last: float = 0.0

    def update(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.2:
            return
        self._last = now
        of = f"/{total}" if total else ""
        sys.stderr.write(f"\r{one_line(self.label, limit=40)}: run {done}{of} ")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self._last:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _stderr_sink(plan: Plan) -> int | None:
    if plan.show_output:
        return None
    if plan.stderr_fd < 0:
        try:
            plan.stderr_fd = os.memfd_create("perfpack-bench-stderr", os.MFD_CLOEXEC)
        except (OSError, AttributeError):  # no memfd (not Linux): stderr goes to /dev/null as before
            return None
    # Empty it before each run: the tail shown is the failing run's own (two cheap syscalls).
    os.ftruncate(plan.stderr_fd, 0)
    os.lseek(plan.stderr_fd, 0, os.SEEK_SET)
    return plan.stderr_fd


def stderr_tail(plan: Plan, lines: int = STDERR_TAIL_LINES, limit: int = 8192) -> str:
    """The last lines the most recent run wrote to stderr, each made safe to print ("" if none)."""
    if plan.stderr_fd < 0:
        return ""
    try:
        size = os.fstat(plan.stderr_fd).st_size
        data = os.pread(plan.stderr_fd, limit, max(0, size - limit))
    except OSError:
        return ""
    text = data.decode("utf-8", "replace").rstrip("\n")
    tail = [one_line(line, limit=200) for line in text.splitlines()[-lines:]]
    return "\n".join(tail)


def _once(plan: Plan) -> Run:
    run = run_once(plan.argv, timeout=plan.timeout, show_output=plan.show_output, env=plan.env, cwd=plan.cwd,
                   stderr_fd=_stderr_sink(plan))
    reap_orphans()
    if run.exit_code != 0 or run.timed_out:
        plan.last_stderr = stderr_tail(plan)
    return run


def _check(run: Run, plan: Plan, index: int) -> None:
    if plan.ignore_failure:
        return
    shown = one_line(" ".join(plan.display), limit=80)
    which = f"run {index}" if index > 0 else f"warm-up run {-index}"  # warm-up runs come as -1, -2, ...
    tail = plan.last_stderr
    if tail:
        said = "\n  its stderr ended with:\n" + "\n".join(f"    | {line}" for line in tail.splitlines())
    else:
        said = "" if plan.show_output else "\n  it wrote nothing to stderr"
    if run.timed_out:
        raise PerfpackError(f"`{shown}` timed out after {plan.timeout:g} s on {which} (its process tree was "
                            "killed)",
                            hint="raise --timeout, or pass --ignore-failure to keep the timed-out runs"
                            + said)
    if run.exit_code != 0:
        code = run.exit_code
        how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
        fix = plan.where or "fix the command, or pass --ignore-failure to measure failing runs too"
        raise PerfpackError(f"`{shown}` {how} on {which}; benchmark stopped", hint=fix + said)


def measure(plan: Plan, *, progress: Progress | None = None) -> list[Run]:
    """Warm up, then run until --runs, or until --min-time has passed (at least 10, at most 1000 runs)."""
    for i in range(plan.warmup):
        _check(_once(plan), plan, -(i + 1))
    runs: list[Run] = []
    started = time.perf_counter()
    target = plan.runs
    while True:
        if target is not None and len(runs) >= target:
            break
        if target is None:
            elapsed = time.perf_counter() - started
            enough = len(runs) >= DEFAULT_MIN_RUNS and elapsed >= (plan.min_time or DEFAULT_MIN_TIME)
            if enough or len(runs) >= DEFAULT_MAX_RUNS:
                break
        run = _once(plan)
        runs.append(run)
        _check(run, plan, len(runs))
        if progress:
            progress.update(len(runs), target)
    if progress:
        progress.done()
    return runs


def summarize_runs(runs: Sequence[Run]) -> dict[str, Any]:
    """Summaries of wall time, CPU and peak RSS, each with real 95 % intervals (RSS: None when never
    observed)."""
    rss = [r.rss_bytes for r in runs if r.rss_bytes is not None]
    return {
        "wall_s": stats.summarize([r.wall_s for r in runs]).to_dict(),
        "cpu_s": stats.summarize([r.cpu_s for r in runs]).to_dict(),
        "rss_bytes": stats.summarize(rss).to_dict() if rss else None,
    }


def samples_of(runs: Sequence[Run]) -> dict[str, list]:
    return {"wall_s": [r.wall_s for r in runs], "cpu_s": [r.cpu_s for r in runs],
            "rss_bytes": [r.rss_bytes for r in runs], "exit_codes": [r.exit_code for r in runs]}


def interleave(plan_a: Plan, plan_b: Plan, pairs: int, *, seed: int | None = None,
               progress: Progress | None = None) -> tuple[list[Run], list[Run]]:
    """Run A and B in randomised pairs (AB or BA per pair) so drift on a shared machine hits both alike."""
    rng = random.Random(seed)
    for i in range(max(plan_a.warmup, plan_b.warmup)):
        for plan in (plan_a, plan_b):
            _check(_once(plan), plan, -(i + 1))
    runs_a: list[Run] = []
    runs_b: list[Run] = []
    for i in range(pairs):
        order = [(plan_a, runs_a), (plan_b, runs_b)]
        if rng.random() < 0.5:
            order.reverse()
        for plan, sink in order:
            run = _once(plan)
            sink.append(run)
            _check(run, plan, i + 1)
        if progress:
            progress.update(i + 1, pairs)
    if progress:
        progress.done()
    return runs_a, runs_b


def judge_runs(before: Sequence[float], after: Sequence[float], *, paired: bool,
               min_effect: float = MIN_EFFECT) -> stats.Verdict:
    pairs = list(zip(before, after, strict=True)) if paired else None
    return stats.judge(before, after, pairs=pairs, min_effect=min_effect)
