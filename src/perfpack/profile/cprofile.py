"""cProfile as the deterministic fallback: read the stats _boot.py wrote and turn them into stacks.

cProfile records, for each function, its own and cumulative time and the same per caller: a call
graph, not stacks. Stacks are rebuilt from the roots down, each callee's share of a path in proportion
to its time from that caller (as flameprof does): exact for trees, an estimate where a function is
reached by several paths. cProfile measures wall time, so time blocked in sleep, locks, select/poll
and waits is left out, which makes its ranking comparable with a CPU sampler's.
"""

from __future__ import annotations

import marshal
import re
from collections import defaultdict

from perfpack.profile.analysis import is_waiting
from perfpack.profile.model import NATIVE, PY, Frame, Stack

_MAX_DEPTH = 128
_MAX_STACKS = 50_000
_BUILTIN = re.compile(r"^<(?:built-in method|method) '?(?P<name>[\w.]+)'?")
_BLOCKING = frozenset(
    {
        "sleep",
        "acquire",
        "wait",
        "waitpid",
        "wait3",
        "wait4",
        "select",
        "poll",
        "epoll",
        "control",
        "recv",
        "recv_into",
        "recvfrom",
        "recvfrom_into",
        "accept",
        "read",
        "readinto",
        "readline",
        "readlines",
        "connect",
        "join",
        "sigwait",
        "pause",
        "input",
    }
)

FuncKey = tuple[str, int, str]  # (file, first line, name) as pstats keys them


def load(path: str) -> dict[FuncKey, tuple]:
    with open(path, "rb") as handle:
        stats = marshal.load(handle)
    if not isinstance(stats, dict):
        raise ValueError("not a pstats file")
    return stats


def _frame(func: FuncKey) -> Frame:
    file, line, name = func
    if file == "~" or not file:
        return Frame(name, "", 0, NATIVE)
    return Frame(name, file, line, PY)


def is_blocking(func: FuncKey) -> bool:
    """Time spent waiting, not computing: a builtin such as sleep or lock.acquire, or a standard-library
    function that waits (Thread.join, Condition.wait, a selector's select)."""
    file, _, name = func
    if file in ("~", ""):
        match = _BUILTIN.match(name)
        return match is not None and match.group("name").rsplit(".", 1)[-1] in _BLOCKING
    return is_waiting(Frame(name, file, 0, PY))


def stacks(stats: dict[FuncKey, tuple]) -> tuple[list[tuple[Stack, int]], int]:
    """(stacks weighted in microseconds, function calls recorded)."""
    callees: dict[FuncKey, dict[FuncKey, float]] = defaultdict(dict)
    roots = []
    calls = 0
    for func, (_cc, nc, _tt, _ct, callers) in stats.items():
        calls += int(nc)
        real_callers = [c for c in callers if c != func]
        if not real_callers:
            roots.append(func)
        for caller, edge in callers.items():
            if caller != func:
                callees[caller][func] = callees[caller].get(func, 0.0) + float(edge[3])
    total_root = sum(float(stats[r][3]) for r in roots) or 1.0
    floor = total_root * 1e-4
    out: dict[Stack, float] = defaultdict(float)

    def expand(func: FuncKey, weight: float, path: tuple[FuncKey, ...], frames: Stack) -> None:
        frames = (*frames, _frame(func))
        ct = float(stats[func][3])
        children = [(child, edge) for child, edge in callees.get(func, {}).items() if child not in path]
        scale = weight / ct if ct > 0 else 0.0
        parts = [(child, edge * scale) for child, edge in children]
        spent = sum(w for _, w in parts)
        if spent > weight > 0:  # recursion and rounding: never give children more than the parent had
            parts = [(child, w * weight / spent) for child, w in parts]
            spent = weight
        own = weight - spent
        if len(out) >= _MAX_STACKS or len(path) >= _MAX_DEPTH:
            own = weight
            parts = []
        if own > 0 and not is_blocking(func):
            out[frames] += own
        for child, w in parts:
            if w >= floor:
                expand(child, w, (*path, child), frames)
            elif not is_blocking(child):
                out[frames] += w

    for root in sorted(roots):
        expand(root, float(stats[root][3]), (root,), ())
    return [(stack, round(w * 1e6)) for stack, w in out.items() if round(w * 1e6) > 0], calls
