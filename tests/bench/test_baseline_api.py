"""The baseline API other measuring commands call (save / load / compare / history), on real files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from perfpack.bench import baseline as bl
from perfpack.bench.history import analyse, change_points, read_history
from perfpack.errors import PerfpackError


def _load_run(
    root: Path, latencies: list[float], *, rate: int = 200, name: str = "checkout"
) -> bl.Measurement:
    identity = bl.identity_for(
        root, ["GET", "http://127.0.0.1:8000/checkout"], cwd=root, extra={"rate": rate, "duration_s": 10}
    )
    return bl.Measurement(
        kind="load",
        name=name,
        identity=identity,
        metric="latency_s",
        samples={"latency_s": latencies},
        settings={"rate": rate},
        figures={"achieved_rps": 199.5, "errors": 0},
    )


def test_a_load_run_saves_loads_and_compares_with_bench_statistics(tmp_path):
    rng = random.Random(1)
    before = [rng.lognormvariate(-4, 0.2) for _ in range(500)]
    saved = bl.save(tmp_path, _load_run(tmp_path, before))
    assert saved.path == tmp_path / ".claude/perfpack/baselines/checkout.json"
    again = bl.load(tmp_path, "checkout")
    assert again.kind == "load" and again.measurement.metric == "latency_s"
    assert again.summary["latency_s"]["n"] == 500 and again.measurement.figures["achieved_rps"] == 199.5
    slower = bl.compare(again, _load_run(tmp_path, [x * 1.3 for x in before]))
    assert slower.outcome == "slower" and slower.kind == "load" and 1.25 < slower.verdict["ratio"] < 1.35
    # another rate is another experiment: not comparable unless asked
    with pytest.raises(PerfpackError, match="rate: 200 then, 400 now"):
        bl.compare(again, _load_run(tmp_path, before, rate=400))
    allowed = bl.compare(again, _load_run(tmp_path, before, rate=400), allow_changed=True)
    assert allowed.confidence == "low" and allowed.differences
    listed = bl.list_baselines(tmp_path)
    assert listed[0]["kind"] == "load" and listed[0]["summary"]["n"] == 500


def test_save_refuses_an_existing_name_unless_forced_and_keeps_history(tmp_path):
    bl.save(tmp_path, _load_run(tmp_path, [0.01] * 10))
    with pytest.raises(PerfpackError, match="already exists"):
        bl.save(tmp_path, _load_run(tmp_path, [0.02] * 10))
    assert bl.load(tmp_path, "checkout").summary["latency_s"]["median"] == 0.01
    bl.save(tmp_path, _load_run(tmp_path, [0.02] * 10), force=True)
    assert bl.load(tmp_path, "checkout").summary["latency_s"]["median"] == 0.02
    h = bl.history(tmp_path, "checkout")
    assert [r["median"] for r in h.records] == [0.01, 0.02]
    assert all(r["kind"] == "load" and r["host"] and r["figures"]["errors"] == 0 for r in h.records)


def test_kinds_and_metrics_never_compare_across(tmp_path):
    bl.save(tmp_path, _load_run(tmp_path, [0.01] * 10))
    bench = bl.Measurement(
        kind="bench",
        name="checkout",
        identity=bl.identity_for(tmp_path, ["true"]),
        metric="wall_s",
        samples={"wall_s": [0.01] * 10},
    )
    with pytest.raises(PerfpackError, match="not comparable"):
        bl.compare(bl.load(tmp_path, "checkout"), bench)


def test_huge_sample_lists_are_thinned_to_their_distribution(tmp_path):
    values = [i / 100_000 for i in range(30_000)]
    saved = bl.save(tmp_path, _load_run(tmp_path, values))
    data = json.loads(saved.path.read_text())
    kept = data["samples"]["latency_s"]
    assert len(kept) == bl.MAX_SAMPLES and kept[0] == 0 and kept[-1] == values[-1]
    assert data["summary"]["latency_s"]["n"] == 30_000  # the summary is of every sample


@pytest.mark.parametrize("name", ["abc\n", "../x", "a/b", "", ".hidden", "x" * 101, "a..b", "é", "a b"])
def test_names_are_validated_in_one_place(tmp_path, name):
    with pytest.raises(PerfpackError, match="invalid baseline name"):
        bl.check_name(name)
    with pytest.raises(PerfpackError):
        bl.save(tmp_path, _load_run(tmp_path, [0.01] * 5, name=name))
    assert not (tmp_path / ".claude/perfpack/baselines").exists()


def _records(medians: list[float], width: float = 0.02, identity: str = "x") -> list[dict]:
    return [
        {
            "v": 1,
            "median": m,
            "median_ci": [m * (1 - width), m * (1 + width)],
            "saved_at": f"2026-01-{i + 1:02d}",
            "identity": identity,
            "host": "h",
            "commit": f"{i:040x}",
        }
        for i, m in enumerate(medians)
    ]


def test_change_points_find_a_planted_step_and_nothing_in_noise():
    rng = random.Random(3)
    steady = [1.0 + rng.uniform(-0.02, 0.02) for _ in range(10)]
    stepped = steady + [1.3 + rng.uniform(-0.02, 0.02) for _ in range(8)]
    assert change_points(_records(stepped)) == [10]
    assert change_points(_records(steady)) == []
    # noise as large as the step: no claim
    noisy = [1.0 + rng.uniform(-0.3, 0.3) for _ in range(18)]
    assert change_points(_records(noisy, width=0.3)) == []
    # two steps: both found
    two = steady + [1.3] * 6 + [0.9] * 6
    assert change_points(_records(two)) == [10, 16]
    # below the minimum effect: not a change point
    assert change_points(_records(steady + [1.03] * 8, width=0.001)) == []


def test_history_marks_where_the_command_changed(tmp_path):
    records = _records([1.0] * 6) + _records([1.5] * 6, identity="y")
    h = analyse("n", records, [])
    assert [p.index for p in h.change_points] == [6]
    assert "what was measured changed here" in h.change_points[0].marks[0]
    assert h.trend == pytest.approx(1.5)


def test_history_skips_damaged_lines_with_a_note(tmp_path):
    bl.save(tmp_path, _load_run(tmp_path, [0.01] * 10))
    path = tmp_path / ".claude/perfpack/history/checkout.jsonl"
    with path.open("a") as handle:
        handle.write('{"v": 1, "median": NaN}\n[[[[\nnot json\n{"v": 1}\n')
    h = read_history(tmp_path, "checkout")
    assert len(h.records) == 1 and len(h.skipped) == 4


def test_load_runs_show_in_the_report_with_their_charts(tmp_path):
    from perfpack.bench.comparison import store
    from perfpack.bench.report import ReportRequest, build_report

    (tmp_path / ".git").mkdir()
    rng = random.Random(2)
    before = [rng.lognormvariate(-4, 0.2) for _ in range(300)]
    bl.save(tmp_path, _load_run(tmp_path, before))
    store(tmp_path, bl.compare(bl.load(tmp_path, "checkout"), _load_run(tmp_path, [x * 1.4 for x in before])))
    bl.save(tmp_path, _load_run(tmp_path, [x * 1.4 for x in before]), force=True)
    result = build_report(ReportRequest(project=str(tmp_path), out=str(tmp_path / "out/perf.md")))
    text = (tmp_path / "out/perf.md").read_text()
    assert "| checkout (baseline) |" in text and "**slower**" in text and "| checkout | load |" in text
    assert (tmp_path / "out/perf.svg").read_text().count("latency") >= 1
    assert (tmp_path / "out/perf-trend-checkout.svg").exists() and len(result.written) == 3


def test_a_history_without_a_change_point_never_claims_a_zero_trend():
    # Two saved runs, medians 1.37 s then 2.02 s, the first far too noisy to call it a step: no change
    # point, so one level. "newest level +0.0% against the first" read as "nothing moved" while the
    # medians rose by half; the text, the report and the chart say there is no step beyond the noise.
    from perfpack.bench import charts
    from perfpack.bench.render import history_markdown, history_text

    records = _records([1.37], width=0.9) + _records([2.02], width=0.05)
    h = analyse("work", records, [])
    assert h.change_points == []
    for shown in (history_text(h), history_markdown(h), charts.trend_svg(h)):
        assert "+0.0%" not in shown and "no step beyond the runs' noise" in shown
    stepped = analyse("n", _records([1.0] * 6) + _records([1.5] * 6, identity="y"), [])
    assert "newest level +50.0% against the first" in history_text(stepped)
