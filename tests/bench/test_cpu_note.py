"""The verdict judges the wall clock; a change that wins it by spending more CPU says so."""

from perfpack.bench.comparison import _cpu_notes
from perfpack.bench.stats import summarize


def _summary(wall: list[float], cpu: list[float]) -> dict:
    return {"wall_s": summarize(wall).to_dict(), "cpu_s": summarize(cpu).to_dict()}


def test_faster_by_spending_more_cpu_is_said():
    before = _summary([0.40, 0.41, 0.42], [0.02, 0.02, 0.02])  # a sleep
    after = _summary([0.15, 0.16, 0.15], [0.15, 0.16, 0.15])  # a busy loop
    (note,) = _cpu_notes(before, after, "faster")
    assert "CPU time rose 7.50x" in note and "20 ms -> 150 ms" in note and "wall clock fell" in note


def test_same_wall_clock_with_more_cpu_is_said_and_an_ordinary_change_is_not():
    before = _summary([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    assert "did not change" in _cpu_notes(before, _summary([1.0, 1.0, 1.0], [1.9, 2.0, 2.1]), "same")[0]
    assert _cpu_notes(before, _summary([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), "faster") == []
    assert _cpu_notes(before, _summary([0.9, 0.9, 0.9], [1.1, 1.1, 1.1]), "faster") == []  # under 1.2x
    # slower: the verdict already says what matters
    assert _cpu_notes(before, _summary([2.0, 2.0, 2.0], [3.0, 3.0, 3.0]), "slower") == []
    assert _cpu_notes({"wall_s": summarize([1.0]).to_dict()}, before, "faster") == []  # no CPU measured
