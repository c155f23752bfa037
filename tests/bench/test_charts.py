"""The report's SVG charts rendered to PNG by a real renderer (rsvg-convert, Debian's librsvg2-bin), then
checked on the pixels: no two labels overlap, none is cut off at the edge, ticks are round, rows dated."""

from __future__ import annotations

import io
import itertools
import random
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from PIL import Image, ImageChops

from perfpack.bench import charts, stats
from perfpack.bench.comparison import Comparison, Side
from perfpack.bench.history import analyse

SVG_NS = "{http://www.w3.org/2000/svg}"
MARGIN = 300


def _rsvg() -> str:
    found = shutil.which("rsvg-convert")
    assert found, "rsvg-convert is needed (apt-get install librsvg2-bin; .ci/run installs it)"
    return found


def _png(svg_text: str) -> Image.Image:
    out = subprocess.run(
        [_rsvg(), "--format", "png"], input=svg_text.encode(), capture_output=True, check=True
    )
    return Image.open(io.BytesIO(out.stdout)).convert("RGBA")


def _ink_boxes(svg_text: str) -> tuple[tuple[int, int], list[tuple[str, tuple[int, int, int, int]]]]:
    """(canvas size, [(text, ink box in canvas pixels)]) of every <text>.

    The texts alone (every other mark removed) are drawn on a canvas grown by MARGIN on every side, so a
    label that would be cut off shows up outside the canvas; each text gets its own red value, and its
    box is that of the pixels of exactly that colour (with alpha >= 128, where the colour is exact).
    """
    ET.register_namespace("", SVG_NS[1:-1])
    root = ET.fromstring(svg_text)
    width, height = int(float(root.get("width"))), int(float(root.get("height")))
    texts = list(root.iter(f"{SVG_NS}text"))
    boxes = []
    per_batch = 110
    for start in range(0, len(texts), per_batch):
        batch = texts[start : start + per_batch]
        lone = ET.Element(f"{SVG_NS}svg", dict(root.attrib))
        lone.set("width", str(width + 2 * MARGIN))
        lone.set("height", str(height + 2 * MARGIN))
        lone.set("viewBox", f"{-MARGIN} {-MARGIN} {width + 2 * MARGIN} {height + 2 * MARGIN}")
        for i, text in enumerate(batch):
            text.set("fill", f"#{20 + 2 * i:02x}0000")
            lone.append(text)
        image = _png(ET.tostring(lone, encoding="unicode"))
        red, _, _, alpha = image.split()
        solid = alpha.point(lambda v: 255 if v >= 128 else 0)
        for i, text in enumerate(batch):
            wanted = 20 + 2 * i
            mask = ImageChops.multiply(red.point(lambda v, w=wanted: 255 if v == w else 0), solid)
            box = mask.getbbox()
            label = "".join(text.itertext())
            assert box, f"label {label!r} drew nothing"
            boxes.append((label, (box[0] - MARGIN, box[1] - MARGIN, box[2] - MARGIN, box[3] - MARGIN)))
    return (width, height), boxes


def _assert_legible(svg_text: str) -> list[str]:
    (width, height), boxes = _ink_boxes(svg_text)
    for label, (x0, y0, x1, y1) in boxes:
        assert x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height, (
            f"label cut off: {label!r} {x0, y0, x1, y1}"
        )
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        overlap = ba[0] < bb[2] and bb[0] < ba[2] and ba[1] < bb[3] and bb[1] < ba[3]
        assert not overlap, f"labels overlap: {a!r} {ba} and {b!r} {bb}"
    return [label for label, _ in boxes]


def _summary(median: float, spread: float, cpu: float | None, rss: float | None, rng: random.Random) -> dict:
    wall = [median * (1 + rng.uniform(-spread, spread)) for _ in range(30)]
    out = {"wall_s": stats.summarize(wall).to_dict()}
    out["cpu_s"] = (
        stats.summarize([cpu * (1 + rng.uniform(-0.05, 0.05)) for _ in range(30)]).to_dict() if cpu else None
    )
    out["rss_bytes"] = stats.summarize([rss] * 30).to_dict() if rss else None
    return out


def _comparison(
    label: str,
    before: float,
    after: float,
    verdict: str,
    mode: str,
    rng: random.Random,
    when: str,
    cpu: float | None = 0.01,
    rss: float | None = 30e6,
    confidence: str = "normal",
) -> Comparison:
    cmd = ["python3", "-c", "import sys; sys.path.insert(0, 'src'); from app import report; report.run()"]
    return Comparison(
        label=label,
        mode=mode,
        kind="bench",
        metric="wall_s",
        before=Side(
            label="main (3f9a2b1c4d5e)" if mode == "revisions" else "A",
            command=cmd,
            summary=_summary(before, 0.08, cpu, rss, rng),
            n=30,
            saved_at=when,
            commit="3f9a2b1c4d5e" * 3,
        ),
        after=Side(
            label="HEAD (99aa00bb11cc)" if mode == "revisions" else "B",
            command=[*cmd, "--fast"],
            summary=_summary(after, 0.08, cpu and cpu * after / before, rss and rss * 1.3, rng),
            n=30,
            saved_at=when,
        ),
        verdict={
            "ratio": after / before,
            "ci": [after / before * 0.97, after / before * 1.03],
            "p_value": 0.001,
            "verdict": verdict,
            "reason": "p = 0.001",
        },
        confidence=confidence,
        saved_at=when,
        name=label,
    )


def test_before_after_chart_is_legible_with_hostile_labels():
    rng = random.Random(5)
    comparisons = [
        _comparison("orders-report", 1.64, 0.67, "faster", "baseline", rng, "2026-03-02T14:05:00Z"),
        _comparison("orders-report", 0.67, 0.70, "same", "baseline", rng, "2026-03-03T09:00:00Z"),
        _comparison(
            "python3 -c 'import sys; sys.path.insert(0, \"src\"); import app' vs python3 -c 'import app2'",
            0.012,
            0.0125,
            "inconclusive",
            "interleaved",
            rng,
            "2026-03-03T09:10:00Z",
            rss=None,
        ),
        _comparison(
            "a\nb <script>&amp;",
            0.0004,
            0.0009,
            "slower",
            "revisions",
            rng,
            "2026-03-04T10:00:00Z",
            cpu=None,
            confidence="low",
        ),
        _comparison("x" * 300, 12.0, 3.0, "faster", "interleaved", rng, "2026-03-05T10:00:00Z", rss=4e9),
    ]
    svg = charts.before_after_svg(comparisons)
    labels = _assert_legible(svg)
    # dated group headers: two rows named orders-report are told apart by their date
    assert (
        sum("2026-03-02 14:05" in t for t in labels) >= 1
        and sum("2026-03-03 09:00" in t for t in labels) >= 1
    )
    # CPU and peak RSS beside wall time, the spread as a box
    assert "CPU (median)" in labels and "peak RSS" in labels and "<rect" in svg
    assert "SLOWER (low confidence)" in " ".join(labels)


def test_trend_chart_is_legible_and_marks_change_points():
    rng = random.Random(9)
    records = []
    for i in range(45):
        level = 0.100 if i < 20 else (0.130 if i < 35 else 0.090)
        m = level * (1 + rng.uniform(-0.01, 0.01))
        records.append(
            {
                "v": 1,
                "median": m,
                "median_ci": [m * 0.99, m * 1.01],
                "p25": m * 0.98,
                "p75": m * 1.02,
                "min": m * 0.95,
                "p95": m * 1.08,
                "cpu_s": m * 0.8,
                "rss_bytes": 50e6 + i * 1e6,
                "saved_at": f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}T12:00:00Z",
                "identity": "x",
                "host": "h",
                "commit": f"{i:040x}",
            }
        )
    history = analyse("checkout-latency", records, [])
    assert [p.index for p in history.change_points] == [20, 35]
    labels = _assert_legible(charts.trend_svg(history))
    assert "+30.0%" in " ".join(labels) or any(t.startswith("+") for t in labels)
    assert "01-01" in labels and "peak RSS" in labels


def test_ticks_are_round_and_their_labels_fit():
    for high in (0.000123, 0.0042, 0.0505, 1.01, 1.64, 17.0, 999.0):
        ticks = charts.nice_ticks(high, 300, charts.tick_label_seconds)
        step = ticks[1] - ticks[0]
        mantissa = step / 10 ** int(f"{step:e}".split("e")[1])
        assert round(mantissa, 6) in (1, 2, 2.5, 5), (high, ticks)
        assert ticks[-1] >= high and all(abs(t / step - round(t / step)) < 1e-6 for t in ticks)
    mb = charts.nice_ticks(19.1 * 2**20, 116, charts.tick_label_bytes, unit=charts.byte_unit(19.1 * 2**20))
    assert [charts.tick_label_bytes(t) for t in mb][-1] in ("20 MiB", "25 MiB")


@pytest.mark.parametrize("label", ["orders-report", "a" * 200, "ünïcødé ✓ 漢字"])
def test_fit_cuts_to_the_room_given(label):
    cut = charts.fit(label, 100)
    assert charts.text_width(cut) <= 100 and (cut == label or cut.endswith("…"))


def test_the_pixel_check_catches_overlap_and_cut_labels():
    svg = charts.Svg(200, 60)
    svg.text(10, 30, "before 1.64 s")
    svg.text(60, 32, "-59.1 %")
    with pytest.raises(AssertionError, match="overlap"):
        _assert_legible(svg.render())
    cut = charts.Svg(200, 60)
    cut.text(190, 30, "-59.1 %")
    with pytest.raises(AssertionError, match="cut off"):
        _assert_legible(cut.render())


def _bar_rects(svg_text: str) -> list[tuple[float, float, float, float]]:
    """Every drawn <rect> but the white background, as (x0, y0, x1, y1)."""
    root = ET.fromstring(svg_text)
    boxes = []
    for rect in root.iter(f"{SVG_NS}rect"):
        if rect.get("x") is None:
            continue
        x, y = float(rect.get("x")), float(rect.get("y"))
        boxes.append((x, y, x + float(rect.get("width")), y + float(rect.get("height"))))
    return boxes


def test_before_after_labels_never_run_into_a_bar_and_small_comparisons_get_their_own_scale():
    # a full-width CPU bar's value used to be written over the peak-RSS bar beside it ("9.98 m█"), and a
    # 0.4 ms comparison drawn on a 12 s axis was a 0.5 px hairline at 0
    rng = random.Random(5)
    comparisons = [
        _comparison("orders-report", 1.64, 0.67, "faster", "baseline", rng, "2026-03-02T14:05:00Z"),
        _comparison("tiny", 0.0004, 0.0009, "slower", "revisions", rng, "2026-03-04T10:00:00Z", cpu=None),
        _comparison("huge", 12.0, 3.0, "faster", "interleaved", rng, "2026-03-05T10:00:00Z", rss=4e9),
    ]
    svg = charts.before_after_svg(comparisons)
    assert "nan" not in svg.lower() and "inf" not in svg.lower()
    _, boxes = _ink_boxes(svg)
    rects = _bar_rects(svg)
    for label, (x0, y0, x1, y1) in boxes:
        for r in rects:
            inside = r[0] < x1 and x0 < r[2] and r[1] < y1 and y0 < r[3]
            assert not inside, f"label {label!r} {x0, y0, x1, y1} runs into a bar {r}"
    box_widths = [r[2] - r[0] for r in rects if r[3] - r[1] == 12]  # the box plots' boxes (row_h - 10)
    assert len(box_widths) == 6 and min(box_widths) >= 3, box_widths
    labels = [t for t, _ in boxes]
    assert labels.count("own scale") == 2  # orders-report and tiny, beside the 12 s comparison
    assert any("·" in t and "whiskers" in t for t in labels)  # legend items stay apart (spaces collapse)


def test_a_column_nothing_was_measured_in_has_no_made_up_axis():
    rng = random.Random(3)
    c = _comparison("true", 0.0012, 0.0011, "same", "interleaved", rng, "2026-03-05T10:00:00Z", rss=None)
    labels = _assert_legible(charts.before_after_svg([c]))
    assert labels.count("not observed") == 2 and "1 B" not in labels and "0 B" not in labels


def test_trend_x_labels_tell_runs_of_one_minute_apart():
    base = {"v": 1, "identity": "x", "host": "h", "p25": 0.1, "p75": 0.1, "min": 0.1, "p95": 0.11}
    same_minute = [{**base, "median": 0.1, "saved_at": f"2026-01-01T12:00:{i:02d}Z"} for i in range(30)]
    labels = _assert_legible(charts.trend_svg(analyse("ci", same_minute, [])))
    times = [t for t in labels if t.startswith("12:00")]
    assert len(times) >= 5 and len(set(times)) == len(times) and all(len(t) == 8 for t in times), times
    same_second = [{**base, "median": 0.1, "saved_at": "2026-01-01T12:00:00Z"} for _ in range(4)]
    labels = _assert_legible(charts.trend_svg(analyse("ci", same_second, [])))
    assert {"#1", "#2", "#3", "#4"} <= set(labels)


def test_a_load_comparison_beside_a_bench_one_is_named_for_what_it_measured():
    rng = random.Random(4)
    bench = _comparison("startup", 0.030, 0.028, "same", "baseline", rng, "2026-03-05T10:00:00Z")
    load = _comparison("orders", 0.024, 0.025, "inconclusive", "baseline", rng, "2026-03-05T11:00:00Z",
                       cpu=None, rss=None)
    load.metric = "latency_s"
    for side in (load.before, load.after):
        side.summary["latency_s"] = side.summary.pop("wall_s")
    labels = _assert_legible(charts.before_after_svg([bench, load]))
    assert "Before / after: wall time / latency, CPU and peak memory" in labels
    assert labels.count("n/a (HTTP load)") == 4 and "not observed" not in labels  # load measures no CPU/RSS


def test_a_huge_step_reads_as_a_factor_in_the_trend_title_and_labels():
    # 1 ms -> 3000 s read "+297509050.4%" in the title and at the change point
    base = {"v": 1, "identity": "x", "host": "h"}
    records = []
    for i in range(10):
        m = 3000.0 if i > 4 else 0.001
        records.append({**base, "median": m, "p25": m, "p75": m, "min": m, "p95": m,
                        "saved_at": f"2026-01-{i + 1:02d}T12:00:00Z"})
    labels = _assert_legible(charts.trend_svg(analyse("huge", records, [])))
    assert any("(3,000,000x)" in t for t in labels), labels
    assert not any("297509050" in t for t in labels)
    from perfpack.bench.units import format_percent

    assert format_percent(0.412) == "-58.8%" and format_percent(2.5) == "+150.0%"
    assert format_percent(12.5) == "+1,150% (12.5x)"
