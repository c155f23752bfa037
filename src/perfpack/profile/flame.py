"""A flame graph (SVG, for people) from weighted stacks, and the folded-stacks text it is drawn from.

Drawn here rather than by py-spy so every engine (py-spy, cProfile, perf) gets the same picture:
the root at the bottom, each frame as wide as its share of the samples; your code in warm colours,
libraries and the standard library pale, native code brown, processes blue. Hover for details.
"""

from __future__ import annotations

import zlib

from perfpack.profile.analysis import is_library, short_path
from perfpack.profile.model import NATIVE, PROCESS, THREAD, Frame, Stack
from perfpack.terminal import one_line

WIDTH = 1200
ROW = 17
PAD = 10
TOP = 62  # title, subtitle and the legend line
MIN_FRACTION = 0.001  # narrower than 0.1 % of the width: not drawn (still in the folded file)
CHAR_W = 6.6  # average width of a 11 px sans-serif character


_XML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})


def escape(text: str) -> str:
    """XML text and attribute escaping (html.escape's, without importing html: ~5 % of a start)."""
    return text.translate(_XML)


class _Node:
    __slots__ = ("frame", "weight", "children")

    def __init__(self, frame: Frame | None) -> None:
        self.frame = frame
        self.weight = 0
        self.children: dict[Frame, _Node] = {}


def folded(stacks: list[tuple[Stack, int]]) -> str:
    """Brendan Gregg's folded format (`a;b;c 12`), heaviest first: flamegraph.pl and speedscope read it."""
    lines = [
        ";".join(one_line(f.label()).replace(";", ",") for f in stack) + f" {weight}"
        for stack, weight in sorted(stacks, key=lambda item: -item[1])
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def _tree(stacks: list[tuple[Stack, int]]) -> _Node:
    root = _Node(None)
    for stack, weight in stacks:
        node = root
        node.weight += weight
        for frame in stack:
            child = node.children.get(frame)
            if child is None:
                child = node.children[frame] = _Node(frame)
            child.weight += weight
            node = child
    return root


def _colour(frame: Frame) -> str:
    h = zlib.crc32(frame.function.encode("utf-8", "replace"))
    jitter = h % 40
    if frame.kind in (PROCESS, THREAD):
        return f"rgb({90 + jitter // 2},{140 + jitter},{210})"
    if frame.kind == NATIVE:
        return f"rgb({170 + jitter},{110 + jitter // 2},{70})"
    if is_library(frame):
        return f"rgb({215 + jitter // 2},{205 + jitter // 2},{160 + jitter})"
    return f"rgb({230 + jitter // 4},{100 + jitter * 2},{40 + jitter})"


def svg(
    stacks: list[tuple[Stack, int]],
    *,
    title: str,
    subtitle: str = "",
    unit: str = "samples",
    root: str | None = None,
) -> str:
    tree = _tree(stacks)
    total = tree.weight or 1
    depth = _depth(tree, total)
    height = TOP + (depth + 1) * ROW + PAD * 2
    scale = (WIDTH - 2 * PAD) / total
    # how to read it, for someone who has never seen a flame graph (and for a PNG, where nothing hovers)
    legend = (
        f"bar width: share of the {unit} (% in the bar when it fits)  ·  callers below, callees above"
        "  ·  orange: your code  ·  pale: libraries  ·  brown: native  ·  blue: processes"
        "  ·  hover: file:line"
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="Verdana, DejaVu Sans, sans-serif" font-size="11">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#f8f8f4"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="15">{escape(one_line(title))}</text>',
        f'<text x="{WIDTH / 2}" y="37" text-anchor="middle" fill="#555">{escape(one_line(subtitle))}</text>',
        f'<text x="{WIDTH / 2}" y="54" text-anchor="middle" font-size="10" fill="#555">'
        f"{escape(legend)}</text>",
    ]
    # the root bar ("all") at the bottom, frames stacked upwards
    base = height - PAD - ROW
    _bar(out, PAD, base, WIDTH - 2 * PAD, "all", f"all: {total:,} {unit}", "rgb(200,200,200)")
    todo: list[tuple[_Node, float, int]] = [(tree, float(PAD), 1)]
    while todo:
        node, x, level = todo.pop()
        cx = x
        for child in sorted(
            node.children.values(), key=lambda n: (-n.weight, n.frame.label() if n.frame else "")
        ):
            width = child.weight * scale
            if child.weight / total < MIN_FRACTION or child.frame is None:
                cx += width
                continue
            frame = child.frame
            where = short_path(frame.file, root)
            where = f"{where}:{frame.line}" if frame.line else where
            name = (
                (frame.qualname or frame.function)
                if frame.kind != PROCESS
                else f"process {frame.file}: {frame.function}"
            )
            tip = (
                f"{name}{' (' + where + ')' if where and frame.kind != PROCESS else ''}: "
                f"{child.weight:,} {unit}, {100.0 * child.weight / total:.1f}%"
            )
            _bar(out, cx, base - level * ROW, width, name, tip, _colour(frame),
                 share=100.0 * child.weight / total)
            todo.append((child, cx, level + 1))
            cx += width
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _bar(out: list[str], x: float, y: float, width: float, label: str, tip: str, fill: str,
         share: float | None = None) -> None:
    chars = int((width - 4) / CHAR_W)
    label = one_line(label)  # names from the profiled program: no control characters in the XML
    with_share = f"{label} {share:.1f}%" if share is not None else label
    if len(with_share) <= chars:
        text = with_share
    else:
        text = label if len(label) <= chars else (label[: chars - 2] + ".." if chars > 3 else "")
    out.append(
        f"<g><title>{escape(one_line(tip))}</title>"
        f'<rect x="{x:.1f}" y="{y:.0f}" width="{max(width - 0.5, 0.1):.1f}" '
        f'height="{ROW - 1}" rx="2" fill="{fill}"/>'
        + (f'<text x="{x + 3:.1f}" y="{y + 12:.0f}">{escape(text)}</text>' if text else "")
        + "</g>"
    )


def _depth(tree: _Node, total: int) -> int:
    deepest = 0
    todo = [(tree, 0)]
    while todo:
        node, level = todo.pop()
        deepest = max(deepest, level)
        for child in node.children.values():
            if child.weight / total >= MIN_FRACTION:
                todo.append((child, level + 1))
    return deepest
