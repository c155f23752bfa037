"""From weighted stacks to hot spots: which of *your* functions the time goes to, and by which path.

A sample is charged to its innermost frame of user code (not the standard library, site-packages,
native libraries or the interpreter's frozen modules): time spent inside `json.dumps` or `zlib.compress`
is time the calling function spends, and that function is the one an agent can change. A sample with no
user frame at all (a program that is all library) is charged to its innermost frame.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from perfpack.profile.model import NATIVE, PROCESS, PY, THREAD, Frame, Stack

# Library code: site-packages / dist-packages, any interpreter's standard library (lib/python3.X,
# lib64/..., lib/pypy...), and system libraries for native frames.
_LIBRARY = re.compile(
    r"[/\\](?:site|dist)-packages[/\\]|[/\\]lib(?:64)?[/\\](?:python|pypy)[\d.]*[/\\]"
    r"|[/\\]lib[/\\]pypy[^/\\]*[/\\]"
)
_NATIVE_LIBRARY = re.compile(
    r"^(?:/usr)?/lib(?:64|32|x32)?/|^\[|\.so(?:\.[\d.]+)?$|^$"
    r"|(?:^|/)(?:python|pypy)[\d.]*[dmu]*$"  # the interpreter itself
    # the interpreter's own C source, named by its debug information (--native): a Python built from
    # source (pyenv: .../Python-3.11.7/Modules/zlibmodule.c) or a distribution's (../Objects/listobject.c)
    r"|(?:^|/)(?:Python-\d[\w.+-]*|cpython[\w.+-]*|\.{1,2})/(?:Modules|Objects|Python|Parser|Include)/"
)
# Code objects that are part of the function around them (a comprehension, a lambda, a generator
# expression): charged to that function, which is what the reader knows by name.
_INNER_CODE = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>", "<lambda>"})


# Standard-library Python functions that only wait inside a C call (a lock, select, a socket): a sample
# whose innermost frame is one of these is a thread waiting, whatever the sampler guessed.
_WAITING = frozenset(
    {
        "_wait_for_tstate_lock",
        "wait",
        "wait_for",
        "select",
        "poll",
        "_poll",
        "accept",
        "recv",
        "recv_into",
        "_recv",
        "_recv_bytes",
        "sleep",
    }
)
_STDLIB = re.compile(r"[/\\]lib(?:64)?[/\\](?:python|pypy)[\d.]*[/\\](?!site-packages|dist-packages)")


def is_waiting(frame: Frame) -> bool:
    return frame.kind == PY and frame.function in _WAITING and _STDLIB.search(frame.file) is not None


def is_library(frame: Frame) -> bool:
    if frame.kind == PY:
        if frame.file.startswith("<"):
            return frame.file not in ("<string>", "<stdin>")
        return bool(_LIBRARY.search(frame.file))
    if frame.kind == NATIVE:
        return bool(_NATIVE_LIBRARY.search(frame.file))
    return True


def first_lines(stacks: list[tuple[Stack, int]]) -> list[tuple[Stack, int]]:
    """py-spy's frames name the line each one was at; hot spots are functions, keyed (as every engine
    keys them) by their first line. Each Python frame's line becomes its function's first line, and the
    line it was at is kept (`at`): where in the function its time went."""
    from dataclasses import replace

    cache: dict[Frame, Frame] = {}
    out = []
    for stack, weight in stacks:
        frames = []
        for frame in stack:
            if frame.kind == PY and frame.line:
                new = cache.get(frame)
                if new is None:
                    new = cache[frame] = replace(frame, line=_first_line(frame), at=frame.line)
                frame = new
            frames.append(frame)
        out.append((tuple(frames), weight))
    return out


def _first_line(frame: Frame) -> int:
    """The first line of the function (or comprehension, lambda) `frame` is in; its own line when the
    source cannot tell (no file, a class body)."""
    from perfpack.profile.memory import function_spans

    if frame.function == "<module>":
        return 1 if not frame.file.startswith("<") else frame.line
    spans = function_spans(frame.file, inner=frame.function.startswith("<"))
    around = [start for start, end, name in spans if name == frame.function and start <= frame.line <= end]
    return max(around, default=0) or frame.line


@dataclass
class HotSpot:
    function: str
    file: str
    line: int
    self_weight: int = 0
    total_weight: int = 0
    self_pct: float = 0.0
    total_pct: float = 0.0
    path: list[str] = field(default_factory=list)  # the most common call path to it, outermost first
    inner: str = ""  # the library/native function most of its self time was spent in, if any
    inner_pct: float = 0.0
    process: str = ""  # the command line of the (child) process it ran in, when py-spy followed children
    qualname: str = ""  # `Class.method` where the engine says so
    kind: str = "function"  # or "import": the time spent importing a module
    hot_line: int = 0  # the line most of its self time was sampled at (py-spy), and that time's share
    hot_line_pct: float = 0.0
    user: bool = True  # the program's own code (False: a sample with no user frame, charged to a library)


def _key(frame: Frame) -> tuple[str, str, int]:
    return (frame.function, frame.file, frame.line)


def code_frames(stack: Stack) -> tuple[list[Frame], str]:
    """The stack's code frames (process and thread markers removed) and its innermost process label."""
    frames = []
    process = ""
    for frame in stack:
        if frame.kind == PROCESS:
            process = frame.function
        elif frame.kind != THREAD:
            frames.append(frame)
    return frames, process


def _is_user(frames: list[Frame], i: int) -> bool:
    """User code: not a library; code compiled from a string (`<string>`) only where the program itself
    runs it (`python -c`, or called from user code), not where site.py runs a .pth line."""
    frame = frames[i]
    if is_library(frame):
        return False
    if frame.file.startswith("<"):
        return i == 0 or not is_library(frames[i - 1])
    return True


def charged_index(frames: list[Frame]) -> int:
    """Index of the frame a sample is charged to: the innermost user frame, comprehension folded into
    the function around it; the innermost frame when there is no user code."""
    if not frames:
        return -1
    index = -1
    for i in range(len(frames) - 1, -1, -1):
        if _is_user(frames, i):
            index = i
            break
    if index < 0:
        return len(frames) - 1
    while frames[index].function in _INNER_CODE:
        # a comprehension or lambda belongs to the function around it, even when a builtin (sum,
        # sorted, map) called it in between
        outer = next((j for j in range(index - 1, -1, -1) if _is_user(frames, j)), -1)
        if outer < 0 or frames[outer].file != frames[index].file:
            break
        index = outer
    return index


_IMPORTLIB = "<frozen importlib._bootstrap>"


def import_frame(frames: list[Frame], after: int) -> Frame | None:
    """When frames after `after` are an import in progress (`import x` run by the charged function),
    a frame naming what is imported: import time is its own hot spot, not the importer's."""
    for j in range(after + 1, len(frames)):
        if frames[j].file == _IMPORTLIB and frames[j].function == "_find_and_load":
            for k in range(j + 1, len(frames)):
                if frames[k].function == "<module>" and frames[k].kind == PY:
                    return Frame(f"import {module_name(frames[k].file)}", frames[k].file, 0, PY)
            return Frame("import (a native module)", "", 0, PY)
    return None


def module_name(file: str) -> str:
    name = short_path(file)
    for suffix in ("/__init__.py", ".py", ".pyc"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.replace("/", ".").replace("\\", ".")


def _path(frames: list[Frame], upto: int) -> tuple[str, ...]:
    """User frames from the outermost to frames[upto], runs of library frames shown as one `…`."""
    out: list[str] = []
    for i, frame in enumerate(frames[: upto + 1]):
        if frame.function in _INNER_CODE:
            continue
        # by position, not identity: py-spy's reader shares one Frame object among equal frames
        if is_library(frame) and i != upto:
            if out and out[-1] == "…":
                continue
            out.append("…")
        elif not out or out[-1] != frame.function:
            out.append(frame.function)  # a recursion is one step
    while out and out[0] in ("…", "<module>") and len(out) > 1:
        out.pop(0)  # the interpreter's start-up and the script body say nothing an agent can act on
    return tuple(out)


def hotspots(stacks: list[tuple[Stack, int]], *, limit: int | None = None) -> tuple[list[HotSpot], int]:
    """Hot spots, by charged ("self") share then total share, and the total weight they are shares of."""
    total = 0
    self_w: Counter[tuple[str, str, int]] = Counter()
    total_w: Counter[tuple[str, str, int]] = Counter()
    paths: dict[tuple[str, str, int], Counter[tuple[str, ...]]] = defaultdict(Counter)
    inner: dict[tuple[str, str, int], Counter[str]] = defaultdict(Counter)
    process: dict[tuple[str, str, int], Counter[str]] = defaultdict(Counter)
    root_process = ""
    library: set[tuple[str, str, int]] = set()
    qualnames: dict[tuple[str, str, int], str] = {}
    imports: set[tuple[str, str, int]] = set()
    at: dict[tuple[str, str, int], Counter[int]] = defaultdict(Counter)
    for stack, weight in stacks:
        frames, proc = code_frames(stack)
        if not frames or weight <= 0 or is_waiting(frames[-1]):
            continue
        total += weight
        i = charged_index(frames)
        user = _is_user(frames, i)
        importing = import_frame(frames, i if user else -1)
        charged = importing or frames[i]
        key = _key(charged)
        if importing or not user:
            library.add(key)
        if importing:
            imports.add(key)
        if charged.qualname:
            qualnames[key] = charged.qualname
        self_w[key] += weight
        if charged.at and not importing:
            at[key][charged.at] += weight
        if importing:
            paths[key][(_path(frames, i) if user else ()) + (charged.function,)] += weight
        else:
            paths[key][_path(frames, i)] += weight
        if proc:
            process[key][proc] += weight
            root_process = root_process or _root_process(stack)
        callee = next((f for f in frames[i + 1 :] if is_library(f)), None)
        if callee is not None and not importing:
            inner[key][_short_native(callee)] += weight  # the library call it made (json.dumps, deflate)
        for k in {_key(f) for f in frames} | ({key} if importing else set()):
            total_w[k] += weight
    if not total:
        return [], 0
    ranked = sorted(self_w, key=lambda k: (-self_w[k], -total_w[k], k))
    out = []
    for key in ranked[:limit] if limit else ranked:
        spot = HotSpot(
            function=key[0],
            file=key[1],
            line=key[2],
            self_weight=self_w[key],
            total_weight=total_w[key],
            self_pct=round(100.0 * self_w[key] / total, 1),
            total_pct=round(100.0 * total_w[key] / total, 1),
            user=key not in library,
            qualname=qualnames.get(key, ""), kind="import" if key in imports else "function",
        )
        spot.path = list(paths[key].most_common(1)[0][0])
        if at[key]:
            line, weight = at[key].most_common(1)[0]
            spot.hot_line, spot.hot_line_pct = line, round(100.0 * weight / self_w[key], 1)
        if inner[key]:
            name, weight = inner[key].most_common(1)[0]
            spot.inner, spot.inner_pct = name, round(100.0 * weight / total, 1)
        if process[key]:
            proc = process[key].most_common(1)[0][0]
            spot.process = "" if proc == root_process else proc
        out.append(spot)
    return out, total


def _root_process(stack: Stack) -> str:
    """The command line of the process the profiled command ran as: the first process marker under
    perfpack's launcher (which is filtered out before this) or the first one."""
    for frame in stack:
        if frame.kind == PROCESS:
            return frame.function
    return ""


def _short_native(frame: Frame) -> str:
    if frame.kind == NATIVE:
        return f"{frame.function} ({os.path.basename(frame.file)})" if frame.file else frame.function
    return f"{frame.function} ({short_path(frame.file)})"


def function_shares(stacks: list[tuple[Stack, int]]) -> dict[str, dict[str, float]]:
    """Self and total share of every function by `function (file)`: what `profile diff` compares."""
    spots, _ = hotspots(stacks)
    shares: dict[str, dict[str, float]] = {}
    for spot in spots:
        shares[f"{spot.function} ({spot.file})"] = {"self_pct": spot.self_pct, "total_pct": spot.total_pct}
    return shares


def short_path(path: str, root: str | None = None) -> str:
    """A path as a reader wants it: relative to the project, or from the package / library folder on."""
    if not path or path.startswith("<"):
        return path
    if root:
        try:
            rel = os.path.relpath(path, root)
        except ValueError:
            rel = path
        if not rel.startswith(".."):
            return rel
    match = re.search(r"[/\\](?:site|dist)-packages[/\\](.*)$", path)
    if match:
        return match.group(1)
    match = re.search(r"[/\\]lib(?:64)?[/\\](?:python|pypy)[\d.]*[/\\](.*)$", path)
    if match:
        return match.group(1)
    return path


NO_PROGRAM_FRAME = "(start-up or native code)"


@dataclass
class Site:
    function: str
    file: str
    line: int
    bytes: int
    count: int
    path: list[str] = field(default_factory=list)
    inner: str = ""  # the library function that made the allocation, when the site is user code


def memory_sites(allocations: list[tuple[Stack, int, int]], *, limit: int | None = None) -> list[Site]:
    """Allocation sites live at the peak, largest first: each allocation charged to its innermost line
    of user code (the line of a comprehension is charged to the function around it)."""
    size: Counter[tuple[str, str, int]] = Counter()
    count: Counter[tuple[str, str, int]] = Counter()
    paths: dict[tuple[str, str, int], Counter[tuple[str, ...]]] = defaultdict(Counter)
    inner: dict[tuple[str, str, int], Counter[str]] = defaultdict(Counter)
    for stack, nbytes, n in allocations:
        frames, _ = code_frames(stack)
        if not frames:
            # no frame of the program: made while perfpack's launcher read and compiled it, or by native
            # code with no Python frame on its stack
            frames = [Frame(NO_PROGRAM_FRAME, "", 0, NATIVE)]
        i = charged_index(frames)
        key = _key(frames[i])
        size[key] += nbytes
        count[key] += n
        paths[key][_path(frames, i)] += nbytes
        leaf = frames[-1]
        if i < len(frames) - 1 and is_library(leaf):
            inner[key][_short_native(leaf)] += nbytes
    ranked = sorted(size, key=lambda k: (-size[k], k))
    out = []
    for key in ranked[:limit] if limit else ranked:
        site = Site(
            function=key[0],
            file=key[1],
            line=key[2],
            bytes=size[key],
            count=count[key],
            path=list(paths[key].most_common(1)[0][0]),
        )
        if inner[key]:
            site.inner = inner[key].most_common(1)[0][0]
        out.append(site)
    return out
