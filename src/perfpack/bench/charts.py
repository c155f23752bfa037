"""Hand-written SVG charts for `perfpack report`: before/after per comparison, and a trend per baseline name.

No plotting library. Layout is computed, not hoped for: text widths come from DejaVu Sans metrics (the
font asked for first; Verdana and Arial are no wider), every label gets its own column or row, tick
steps are 1-2-5 multiples chosen so their labels never touch, and long labels are cut with "…" to the
room they have (the full text stays in a <title> tooltip). tests/bench/test_charts.py renders the SVG to
PNG with rsvg-convert and checks, on the pixels, that no two labels overlap and none is cut off.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

from perfpack.bench.units import format_bytes, format_percent, format_seconds
from perfpack.terminal import one_line

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
SIZE = 12
# DejaVu Sans advance widths for ASCII 32..126, in 1/2048 em.
_WIDTHS = [
    651,
    821,
    942,
    1716,
    1303,
    1946,
    1597,
    563,
    799,
    799,
    1024,
    1716,
    651,
    739,
    651,
    690,
    1303,
    1303,
    1303,
    1303,
    1303,
    1303,
    1303,
    1303,
    1303,
    1303,
    690,
    690,
    1716,
    1716,
    1716,
    1087,
    2048,
    1401,
    1405,
    1430,
    1577,
    1294,
    1178,
    1587,
    1540,
    604,
    604,
    1343,
    1141,
    1767,
    1532,
    1612,
    1235,
    1612,
    1423,
    1300,
    1251,
    1499,
    1401,
    2025,
    1403,
    1251,
    1403,
    799,
    690,
    799,
    1716,
    1024,
    1024,
    1255,
    1300,
    1126,
    1300,
    1260,
    721,
    1300,
    1298,
    569,
    569,
    1186,
    569,
    1995,
    1298,
    1253,
    1300,
    1300,
    842,
    1067,
    803,
    1298,
    1212,
    1675,
    1212,
    1212,
    1075,
    1303,
    690,
    1303,
    1716,
]
COLOURS = {
    "before": "#8c8c8c",
    "slower": "#d62728",
    "faster": "#2ca02c",
    "same": "#1f77b4",
    "inconclusive": "#e08a00",
}


def text_width(text: str, size: float = SIZE, bold: bool = False) -> float:
    """Width in px of `text` in DejaVu Sans (bold up to ~18 % wider); unknown characters count as wide."""
    units = 0
    for ch in text:
        code = ord(ch)
        units += _WIDTHS[code - 32] if 32 <= code < 127 else 1400
    return units / 2048 * size * (1.18 if bold else 1.0)


def fit(text: str, width: float, size: float = SIZE, bold: bool = False) -> str:
    """`text` cut with "…" so it fits `width` px."""
    text = one_line(text)
    if text_width(text, size, bold) <= width:
        return text
    while text and text_width(text + "…", size, bold) > width:
        text = text[:-1]
    return text + "…"


def nice_ticks(
    high: float,
    span_px: float,
    fmt: Callable[[float], str],
    *,
    size: float = SIZE,
    gap: float = 14,
    unit: float = 1.0,
    vertical: bool = False,
) -> list[float]:
    """Ticks 0, s, 2s, ... covering `high`, s a 1-2-2.5-5 multiple of a power of ten (of `unit`: pass
    1024 ** k for bytes so steps are whole MB), as many as fit without their labels touching (on a
    vertical axis the labels are stacked, so their height counts, not their width)."""
    if high <= 0 or not math.isfinite(high):
        high = unit
    scaled = high / unit
    for count in (6, 5, 4, 3, 2, 1):
        raw = scaled / count
        power = 10 ** math.floor(math.log10(raw))
        step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
        ticks = [i * step * unit for i in range(int(math.ceil(scaled / step - 1e-9)) + 1)]
        if len(ticks) < 2:
            ticks.append(step * unit)
        px = span_px / ticks[-1] * step * unit
        widest = size * 1.2 if vertical else max(text_width(fmt(t), size) for t in ticks)
        if widest + gap <= px or count == 1:
            return ticks
    return [0.0, high]


def byte_unit(high: float) -> float:
    """The power of 1024 that `high` bytes are shown in (KB, MB, GB)."""
    unit = 1.0
    while high >= 1024 * unit and unit < 1024**3:
        unit *= 1024
    return unit


def tick_label_seconds(value: float) -> str:
    return "0" if value == 0 else format_seconds(value)


def tick_label_bytes(value: float) -> str:
    return "0" if value == 0 else format_bytes(value).replace(".0 ", " ")


@dataclass
class Svg:
    """Collects SVG elements; text is escaped here and nowhere else."""

    width: float
    height: float
    parts: list[str] = field(default_factory=list)

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        anchor: str = "start",
        size: float = SIZE,
        bold: bool = False,
        colour: str = "#222",
        title: str | None = None,
    ) -> None:
        weight = ' font-weight="bold"' if bold else ""
        tip = f"<title>{_xml_escape(one_line(title))}</title>" if title and title != content else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size:g}"{weight} '
            f'fill="{colour}">{tip}{_xml_escape(content)}</text>'
        )

    def rect(self, x: float, y: float, w: float, h: float, fill: str, stroke: str = "none") -> None:
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.5):.1f}" height="{h:.1f}" '
            f'fill="{fill}" stroke="{stroke}"/>'
        )

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        colour: str = "#444",
        width: float = 1,
        dash: str | None = None,
    ) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-width="{width:g}"{extra}/>'
        )

    def circle(self, x: float, y: float, r: float, fill: str) -> None:
        self.parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:g}" fill="{fill}"/>')

    def render(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:.0f}" height="{self.height:.0f}" '
            f'viewBox="0 0 {self.width:.0f} {self.height:.0f}" font-family="{FONT}" font-size="{SIZE}">'
        )
        return (
            "\n".join([head, '<rect width="100%" height="100%" fill="white"/>', *self.parts, "</svg>"]) + "\n"
        )


def _box(
    svg: Svg, scale: Callable[[float], float], s: dict[str, Any], y: float, h: float, colour: str
) -> None:
    """A horizontal box plot: whiskers min–p95, box p25–p75, a thick median line."""
    lo, hi = scale(s["min"]), scale(s.get("p95", s["max"]))
    q1, q3 = scale(s.get("p25", s["median"])), scale(s.get("p75", s["median"]))
    mid = y + h / 2
    svg.line(lo, mid, hi, mid, colour="#333")
    for x in (lo, hi):
        svg.line(x, y + h * 0.25, x, y + h * 0.75, colour="#333")
    svg.rect(q1, y, q3 - q1, h, fill=colour, stroke="#333")
    m = scale(s["median"])
    svg.line(m, y - 2, m, y + h + 2, colour="#000", width=2.5)


def _grid(svg: Svg, x0: float, width: float, ticks: Sequence[float], y0: float, y1: float) -> None:
    for t in ticks:
        x = x0 + width * t / ticks[-1]
        svg.line(x, y0, x, y1, colour="#e4e4e4")


def _axis(
    svg: Svg, x0: float, width: float, y: float, ticks: Sequence[float], fmt: Callable[[float], str]
) -> None:
    svg.line(x0, y, x0 + width, y)
    for t in ticks:
        x = x0 + width * t / ticks[-1]
        svg.line(x, y, x, y + 4)
        svg.text(x, y + 17, fmt(t), anchor="middle", size=11)


def _x_labels(stamps: list[str], first: int = 1) -> list[str]:
    """ "2026-03-02T14:05:09Z" as "03-02" when runs are on different days, "03-02 14:05" when a day has
    several, "14:05" when all are on one day (that day goes in the caption); with seconds when minutes
    repeat, and as run numbers ("#12", counting from `first`) when even seconds do."""
    days = [s[5:10] for s in stamps]
    if len(set(s[:10] for s in stamps)) == 1:
        candidates = [[s[11:16] for s in stamps], [s[11:19] for s in stamps]]
    elif len(set(days)) == len(days):
        candidates = [days]
    else:
        candidates = [[f"{s[5:10]} {s[11:16]}".strip() for s in stamps],
                      [f"{s[5:10]} {s[11:19]}".strip() for s in stamps]]
    for labels in candidates:
        if all(labels) and len(set(labels)) == len(labels):
            return labels
    # runs saved within one second (or undated) cannot be told apart by time: number them as
    # `perfpack history` does
    return [f"#{i}" for i in range(first, first + len(stamps))]


def _metric_title(records: Sequence[dict[str, Any]]) -> str:
    metric = records[-1].get("metric", "wall_s") if records else "wall_s"
    return {"wall_s": "wall time", "latency_s": "latency"}.get(str(metric), str(metric))


def _date(stamp: str | None) -> str:
    """ "2026-03-02T14:05:09Z" -> "2026-03-02 14:05"."""
    if not stamp:
        return ""
    return stamp.replace("T", " ")[:16]


# ------------------------------------------------------------------ before / after
def before_after_svg(comparisons: Sequence[Any]) -> str:
    """One group per comparison (newest last): a header with its name, date and verdict, then a box plot
    row per side on a shared wall-time axis, the medians as text, CPU and peak RSS bars beside."""
    pad, label_w, wall_w, value_w, small_w = 16, 0.0, 340, 0.0, 120
    side_names = []
    for c in comparisons:
        side_names += [_side_label(c, "before"), _side_label(c, "after")]
    label_w = min(220, max(text_width(n) for n in side_names) + 12)
    medians = [
        fs
        for c in comparisons
        for fs in (
            format_seconds(c.before.summary[c.metric]["median"]),
            format_seconds(c.after.summary[c.metric]["median"]),
        )
    ]
    value_w = max(text_width(m) for m in medians) + 20
    # a bar's value is written after its end: the widest one decides where the next column may start
    cpu_label_w = max(
        (text_width(format_seconds(_get(c, side, "cpu_s", "median")), 10)
         for c in comparisons for side in ("before", "after")),
        default=0.0,
    )
    rss_label_w = max(
        (text_width(format_bytes(_get(c, side, "rss_bytes", "max")), 10)
         for c in comparisons for side in ("before", "after")),
        default=0.0,
    )
    x_label, x_wall = pad, pad + label_w
    x_value = x_wall + wall_w + 10
    x_cpu = x_value + value_w + 14
    x_rss = x_cpu + small_w + max(30.0, cpu_label_w + 16)
    width = x_rss + small_w + max(60.0, rss_label_w + 12) + pad
    row_h, head_h, gap, own_axis_h = 22, 24, 12, 26
    top = 62
    group_h = head_h + 2 * row_h + gap

    def high_of(c: Any) -> float:
        return float(max(c.before.summary[c.metric].get("p95", 0), c.after.summary[c.metric].get("p95", 0)))

    wall_high = max(high_of(c) for c in comparisons)
    wall_ticks = nice_ticks(wall_high, wall_w, tick_label_seconds, size=11)
    # a comparison far below the others (a 0.4 ms unit benchmark beside a 12 s job) would be a hairline at
    # 0 on the shared axis: it gets its own scale, drawn under its rows
    own_scale = [0 < high_of(c) < wall_ticks[-1] / 8 for c in comparisons]
    group_tops = []
    y = float(top)
    for own in own_scale:
        group_tops.append(y)
        y += group_h + (own_axis_h if own else 0)
    axis_y = y
    height = axis_y + 48
    svg = Svg(width, height)
    metrics = {c.metric for c in comparisons}
    time_title = {
        frozenset({"wall_s"}): "wall time", frozenset({"latency_s"}): "latency"
    }.get(frozenset(metrics), "wall time / latency")
    svg.text(pad, 22, f"Before / after: {time_title}, CPU and peak memory", bold=True, size=14)
    svg.text(
        pad,
        40,
        "box: p25–p75  ·  thick line: median  ·  whiskers: min–p95  ·  grey: before",
        size=11,
        colour="#555",
    )
    titles = ((x_wall, time_title), (x_value, "median"), (x_cpu, "CPU (median)"), (x_rss, "peak RSS"))
    for x, title in titles:
        svg.text(x, top - 6, title, bold=True, size=11)

    cpu_high = max(
        (_get(c, side, "cpu_s", "median") for c in comparisons for side in ("before", "after")), default=0.0
    )
    rss_high = max(
        (_get(c, side, "rss_bytes", "max") for c in comparisons for side in ("before", "after")), default=0.0
    )
    small_bar = small_w - 4
    cpu_ticks = nice_ticks(cpu_high, small_bar, tick_label_seconds, size=11)
    rss_ticks = nice_ticks(rss_high, small_bar, tick_label_bytes, size=11, unit=byte_unit(rss_high))
    for i, c in enumerate(comparisons):
        y = group_tops[i]
        group_ticks = (
            nice_ticks(high_of(c), wall_w, tick_label_seconds, size=11) if own_scale[i] else wall_ticks
        )
        verdict = c.verdict["verdict"]
        colour = COLOURS.get(verdict, COLOURS["same"])
        right = f"{format_percent(c.verdict['ratio'])}  {c.shown_verdict(why=False)}"
        right_w = text_width(right, bold=True)
        when = f"  ·  {_date(c.saved_at)}  ·  {c.mode}"
        room = width - 2 * pad - right_w - 24 - text_width(when, 11)
        svg.text(x_label, y + 16, fit(c.label, room, bold=True), bold=True, title=c.label)
        svg.text(
            x_label + text_width(fit(c.label, room, bold=True), bold=True) + 2,
            y + 16,
            when.rstrip(),
            size=11,
            colour="#555",
        )
        svg.text(width - pad, y + 16, right, anchor="end", bold=True, colour=colour)
        rows_top, rows_bottom = y + head_h, y + head_h + 2 * row_h
        extra = own_axis_h if own_scale[i] else 0
        for x0, span, ticks, bottom in (
            (x_wall, wall_w, group_ticks, rows_bottom),
            *(((x_cpu, small_bar, cpu_ticks, rows_bottom + extra),) if cpu_high > 0 else ()),
            *(((x_rss, small_bar, rss_ticks, rows_bottom + extra),) if rss_high > 0 else ()),
        ):
            _grid(svg, x0, span, ticks, rows_top, bottom + (gap if i < len(comparisons) - 1 else 0))
        if own_scale[i]:
            _axis(svg, x_wall, wall_w, rows_bottom + 2, group_ticks, tick_label_seconds)
            svg.text(x_wall - 8, rows_bottom + 19, "own scale", anchor="end", size=10, colour="#555")
        for j, side in enumerate(("before", "after")):
            s = getattr(c, side).summary
            ry = y + head_h + j * row_h
            fill = COLOURS["before"] if side == "before" else colour
            svg.text(
                x_wall - 8,
                ry + 15,
                fit(_side_label(c, side), label_w - 12),
                anchor="end",
                size=11,
                title=_side_label(c, side),
            )

            def wall_x(v: float, ticks: Sequence[float] = group_ticks) -> float:
                return x_wall + wall_w * v / ticks[-1]

            _box(svg, wall_x, s[c.metric], ry + 5, row_h - 10, fill)
            svg.text(
                x_value + value_w - 10, ry + 15, format_seconds(s[c.metric]["median"]), anchor="end", size=11
            )
            for x0, ticks, value, fmt in (
                (x_cpu, cpu_ticks, _get(c, side, "cpu_s", "median"), format_seconds),
                (x_rss, rss_ticks, _get(c, side, "rss_bytes", "max"), format_bytes),
            ):
                if value > 0:
                    svg.rect(x0, ry + 6, small_bar * value / ticks[-1], row_h - 12, fill=fill)
                    svg.text(
                        x0 + small_bar * value / ticks[-1] + 4, ry + 15, fmt(value), size=10, colour="#333"
                    )
                else:  # a run too short to sample (RSS), or a side without CPU figures
                    # an HTTP load run measures latency only; a bench run too short to sample has no RSS
                    missing = "n/a (HTTP load)" if c.metric == "latency_s" else "not observed"
                    svg.text(x0, ry + 15, missing, size=10, colour="#555")
    _axis(svg, x_wall, wall_w, axis_y, wall_ticks, tick_label_seconds)
    for x0, high, ticks, tick_fmt in (
        (x_cpu, cpu_high, cpu_ticks, tick_label_seconds),
        (x_rss, rss_high, rss_ticks, tick_label_bytes),
    ):
        if high > 0:  # else no axis from 0 to a made-up 1: the rows say "not observed" (or n/a)
            _axis(svg, x0, small_bar, axis_y, ticks, tick_fmt)
    return svg.render()


def _get(c: Any, side: str, metric: str, key: str) -> float:
    summary = getattr(c, side).summary.get(metric)
    return float(summary[key]) if summary else 0.0


def _side_label(c: Any, side: str) -> str:
    s = getattr(c, side)
    if c.mode == "baseline":
        return ("baseline " + _date(s.saved_at)) if side == "before" else ("this run " + _date(s.saved_at))
    if c.mode == "revisions":
        return s.label
    return ("A: " if side == "before" else "B: ") + one_line(" ".join(s.command))


# ------------------------------------------------------------------ trend of one name
def trend_svg(history: Any) -> str:
    """Three stacked panels sharing the x axis (one slot per saved run, dated): wall time as box plots,
    CPU median and peak RSS as dots; dashed lines at change points with the step in %."""
    records = history.records[-60:]
    offset = len(history.records) - len(records)
    n = len(records)
    pad = 16
    wall = [r["median"] for r in records]
    walls_hi = max(max((r.get("p95") or r["median"]) for r in records), max(wall))
    wall_ticks = nice_ticks(walls_hi, 160, tick_label_seconds, size=11, gap=16, vertical=True)
    cpu = [r.get("cpu_s") for r in records]
    rss = [r.get("rss_bytes") for r in records]
    cpu_ticks = nice_ticks(max([v for v in cpu if v] or [0]), 70, tick_label_seconds, size=11, gap=10,
                           vertical=True)
    rss_high = max([v for v in rss if v] or [0])
    rss_ticks = nice_ticks(rss_high, 70, tick_label_bytes, size=11, gap=10, unit=byte_unit(rss_high),
                           vertical=True)
    y_labels = [tick_label_seconds(t) for t in wall_ticks + cpu_ticks] + [
        tick_label_bytes(t) for t in rss_ticks
    ]
    left = pad + max(text_width(t, 11) for t in y_labels) + 10
    slot = max(14.0, min(120.0, 640 / max(n, 1)))  # a few runs still get a readable width
    plot_w = slot * n
    title_w = text_width(
        f"{history.name}: 0000 saved run(s), one level: no step beyond the runs' noise", 14, True
    )
    width = max(left + plot_w + pad + 10, pad * 2 + max(title_w, 430))
    panels = [
        (f"{_metric_title(records)} (box p25–p75, line median, whiskers min–p95)", 160, wall_ticks,
         tick_label_seconds),
        ("CPU (median)", 70, cpu_ticks, tick_label_seconds),
        ("peak RSS", 70, rss_ticks, tick_label_bytes),
    ]
    top = 74
    ys = []
    y = top
    for _, h, _, _ in panels:
        ys.append(y)
        y += h + 34
    axis_y = y - 34 + 6
    height = axis_y + 44
    svg = Svg(width, height)
    title = f"{history.name}: {len(history.records)} saved run(s)"
    trend = history.trend_words()
    if trend is not None:
        title += f", {trend}"
    svg.text(pad, 22, fit(title, width - 2 * pad, size=14, bold=True), bold=True, size=14, title=title)
    svg.text(
        pad,
        40,
        "dashed line: change point (step in the median beyond noise and the minimum effect)",
        size=11,
        colour="#555",
    )

    def x_of(i: int) -> float:
        return left + slot * (i + 0.5)

    for (name, h, ticks, fmt), y0 in zip(panels, ys, strict=True):
        svg.text(left, y0 - 6, name, bold=True, size=11)
        svg.line(left, y0 + h, left + plot_w, y0 + h)
        svg.line(left, y0, left, y0 + h)
        for t in ticks:
            ty = y0 + h - h * t / ticks[-1]
            svg.line(left, ty, left + plot_w, ty, colour="#ececec")
            svg.line(left - 4, ty, left, ty)
            svg.text(left - 7, ty + 4, fmt(t), anchor="end", size=11)
    h0, y0 = panels[0][1], ys[0]

    def wall_y(v: float) -> float:
        return y0 + h0 - h0 * v / wall_ticks[-1]

    box_w = min(slot * 0.6, 18)
    for i, r in enumerate(records):
        x = x_of(i)
        lo, hi = wall_y(r.get("min") or r["median"]), wall_y(r.get("p95") or r["median"])
        svg.line(x, lo, x, hi, colour="#333")
        q1, q3 = wall_y(r.get("p25") or r["median"]), wall_y(r.get("p75") or r["median"])
        svg.rect(x - box_w / 2, q3, box_w, max(q1 - q3, 1), fill="#9ecae1", stroke="#333")
        svg.line(
            x - box_w / 2 - 1,
            wall_y(r["median"]),
            x + box_w / 2 + 1,
            wall_y(r["median"]),
            colour="#000",
            width=2.5,
        )
    for values, (_, h, ticks, _fmt), y1 in ((cpu, panels[1], ys[1]), (rss, panels[2], ys[2])):
        for i, v in enumerate(values):
            if v:
                svg.circle(x_of(i), y1 + h - h * v / ticks[-1], 3.5, "#1f77b4")
    # change points: a dashed line between the runs, the step's % above the wall panel, never overlapping
    taken: list[tuple[float, float]] = []
    for point in history.change_points:
        k = point.index - offset
        if not 0 < k < n:
            continue
        x = left + slot * k
        svg.line(x, ys[0], x, ys[-1] + panels[-1][1], colour="#d62728", dash="4,3")
        label = format_percent(point.ratio)
        w = text_width(label, 10)
        x_text = min(max(x + 3, left), left + plot_w - w)
        if all(x_text + w + 4 < a or x_text > b + 4 for a, b in taken):
            taken.append((x_text, x_text + w))
            svg.text(x_text, ys[0] + 11, label, size=10, colour="#d62728")
    # dated x labels: as short as still tells the runs apart, thinned so they never touch
    dates = _x_labels([str(r.get("saved_at") or "") for r in records], first=offset + 1)
    label_w = max(text_width(d, 10) for d in dates) + 8
    every = max(1, math.ceil(label_w / slot))
    last_right = -1e9
    for i in range(0, n, every):
        x = x_of(i)
        lo_x, hi_x = x - text_width(dates[i], 10) / 2, x + text_width(dates[i], 10) / 2
        if lo_x < last_right + 6 or hi_x > width - 2 or lo_x < 2:
            continue
        svg.line(x, axis_y - 6, x, axis_y - 2)
        svg.text(x, axis_y + 10, dates[i], anchor="middle", size=10)
        last_right = hi_x
    first, last = _date(records[0].get("saved_at")), _date(records[-1].get("saved_at"))
    svg.text(
        left,
        axis_y + 30,
        f"saved runs {offset + 1}–{offset + n}, oldest left ({first} to {last} UTC)",
        size=10,
        colour="#555",
    )
    return svg.render()
