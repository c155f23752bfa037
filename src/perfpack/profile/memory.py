"""Memory at the peak: read what memray or tracemalloc (see _boot.py) saw live at the high-water mark."""

from __future__ import annotations

import ast
import os
from functools import lru_cache

from perfpack.profile.model import PY, Frame, Stack

_MAX_SOURCE = 8 * 1024 * 1024


def memray_available() -> tuple[bool, str]:
    try:
        import memray
    except ImportError:
        return False, ""
    return True, getattr(memray, "__version__", "") or _dist_version("memray")


def memray_site() -> str:
    """The folder memray is imported from here (put on the program's path when its interpreter matches)."""
    import memray

    return os.path.dirname(os.path.dirname(os.path.abspath(memray.__file__)))


def _dist_version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return ""


def _program_frames(frames: tuple[Frame, ...], boot: str) -> tuple[Frame, ...]:
    """The program's frames: perfpack's bootstrap and the runpy frames it runs the program with cut off."""
    for i in range(len(frames) - 1, -1, -1):
        if frames[i].file == boot:
            rest = frames[i + 1 :]
            while rest and rest[0].file.endswith(("runpy.py", "<frozen runpy>")):
                rest = rest[1:]
            return rest
    return frames


def read_memray(path: str, *, cwd: str, boot: str = "") -> tuple[int, list[tuple[Stack, int, int]]]:
    """(peak bytes, allocations live at the peak) from a memray capture file."""
    import memray

    reader = memray.FileReader(path)
    try:
        peak = int(reader.metadata.peak_memory)
        allocations = []
        for record in reader.get_high_watermark_allocation_records(merge_threads=True):
            frames = tuple(
                Frame(function, _absolute(file, cwd), int(line), PY)
                for function, file, line in reversed(record.stack_trace())
            )
            frames = _program_frames(frames, boot)
            allocations.append((frames, int(record.size), int(record.n_allocations)))
    finally:
        reader.close()
    return peak, allocations


def read_tracemalloc(data: dict, *, cwd: str, boot: str = "") -> tuple[int, list[tuple[Stack, int, int]]]:
    peak = int(data.get("peak_bytes", 0))
    allocations = []
    for frames, size, count in data.get("allocations", []):
        stack: list[Frame] = []
        for file, line in frames:
            path, number = _absolute(str(file), cwd), int(line)
            name = function_at(path, number)
            outer = stack[-1] if stack else None
            if outer is not None and outer.file == path and outer.function == name:
                # tracemalloc gives file and line only: a comprehension, generator expression or lambda
                # (a frame of its own) would read as a second call of the function around it
                name = _inner_code_at(path, outer.line, number) or name
            stack.append(Frame(name, path, number, PY))
        allocations.append((_program_frames(tuple(stack), boot), int(size), int(count)))
    return peak, allocations


def _absolute(file: str, cwd: str) -> str:
    if not file or file.startswith("<") or os.path.isabs(file):
        return file
    return os.path.normpath(os.path.join(cwd, file))


def function_at(file: str, line: int) -> str:
    """The name of the innermost function defined around `line` of `file` ("<module>" outside any)."""
    spans = function_spans(file)
    best, best_start = "<module>", -1
    for start, end, name in spans:
        if start <= line <= end and start > best_start:
            best, best_start = name, start
    return best


_INNER_NODES = {"ListComp": "<listcomp>", "SetComp": "<setcomp>", "DictComp": "<dictcomp>",
                "GeneratorExp": "<genexpr>", "Lambda": "<lambda>"}


def _inner_code_at(file: str, outer_line: int, line: int) -> str:
    """The name of the innermost comprehension or lambda whose lines hold both the calling frame's line
    and this frame's ("" when none does: a real call, such as recursion)."""
    best, best_start = "", -1
    for start, end, name in function_spans(file, inner=True):
        if start <= outer_line <= end and start <= line <= end and start > best_start:
            best, best_start = name, start
    return best


@lru_cache(maxsize=512)
def function_spans(file: str, inner: bool = False) -> tuple[tuple[int, int, str], ...]:
    """(first line, last line, name) of each function in `file` (with `inner`: of each comprehension and
    lambda); a function's first line is its first decorator's, as its code object says."""
    if file.startswith("<"):
        return ()
    from perfpack.errors import PerfpackError
    from perfpack.safeio import read_user_bytes

    try:
        source = read_user_bytes(file, what="source file", max_bytes=_MAX_SOURCE)
        tree = ast.parse(source)
    except (OSError, PerfpackError, SyntaxError, ValueError, RecursionError):
        return ()
    spans = []
    for node in ast.walk(tree):
        kind = type(node).__name__
        if inner and kind in _INNER_NODES:
            start = getattr(node, "lineno", 0)
            spans.append((start, getattr(node, "end_lineno", None) or start, _INNER_NODES[kind]))
        elif not inner and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            spans.append((start, node.end_lineno or node.lineno, node.name))
    return tuple(spans)
