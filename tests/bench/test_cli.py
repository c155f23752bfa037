"""The bench/compare/baseline/report commands through the real entry point, on real commands."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from perfpack.bench.baseline import list_baselines


def _ok_error(proc, *needles: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()  # a project marker; the root is found from the cwd
    return tmp_path


def test_help_explains(perfpack):
    for cmd in (["bench"], ["compare"], ["baseline"], ["report"]):
        proc = perfpack(*cmd, "--help")
        assert proc.returncode == 0 and "Exit codes" in proc.stdout, cmd


@pytest.mark.parametrize("spec,needle", [
    ("p95=fast", "invalid budget"), ("p95=300", "needs a unit"), ("foo=1ms", "unknown metric"),
    ("rss=5XB", "unknown size unit"), ("p95=3parsecs", "unknown time unit"), ("", "invalid budget"),
])
def test_budget_parse_errors_are_usage_errors(perfpack, project, spec, needle):
    _ok_error(perfpack("bench", "--runs", "1", "--budget", spec, "--", "true", cwd=project), needle)


def test_other_usage_errors(perfpack, project):
    _ok_error(perfpack("bench", "--budget-preset", "nope", "--", "true", cwd=project), "unknown budget preset")
    _ok_error(perfpack("bench", "--max-regression", "lots", "--", "true", cwd=project), "--max-regression")
    _ok_error(perfpack("bench", "--save", "--", "true", cwd=project), "--save needs --name")
    _ok_error(perfpack("bench", "--name", "../../etc/x", "--save", "--", "true", cwd=project), "invalid baseline name")
    _ok_error(perfpack("bench", "--", "no-such-program-xyz", cwd=project), "command not found")
    _ok_error(perfpack("bench", "--runs", "3", "--min-time", "1", "--", "true", cwd=project), "exclusive")
    _ok_error(perfpack("compare", "--", "true", cwd=project), "--vs")
    _ok_error(perfpack("compare", "--", "true", "--vs", cwd=project), "each side")
    _ok_error(perfpack("baseline", "show", "missing", cwd=project), "no baseline")
    _ok_error(perfpack("baseline", "rm", "missing", cwd=project), "no baseline")
    assert perfpack("bench", "--runs", "0", "--", "true", cwd=project).returncode == 2


def test_failing_command_stops_unless_ignored(perfpack, project):
    _ok_error(perfpack("bench", "--runs", "3", "--", "false", cwd=project), "exited with 1 on warm-up run 1",
              "--ignore-failure")
    _ok_error(perfpack("bench", "--runs", "3", "--warmup", "0", "--", "false", cwd=project), "exited with 1 on run 1;")
    proc = perfpack("bench", "--runs", "3", "--ignore-failure", "--", "false", cwd=project)
    assert proc.returncode == 0 and "failed runs: 3" in proc.stdout


def test_bench_text_and_json_no_progress_when_not_a_tty(perfpack, project):
    proc = perfpack("bench", "--runs", "5", "--", "sleep", "0.01", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "median" in proc.stdout and "p95" in proc.stdout
    data = json.loads(perfpack("bench", "--runs", "5", "--format", "json", "--", "sleep", "0.01", cwd=project).stdout)
    wall = data["summary"]["wall_s"]
    assert wall["n"] == 5 and 0.009 < wall["median"] < 0.2 and len(data["samples"]["wall_s"]) == 5
    md = perfpack("bench", "--runs", "3", "--format", "markdown", "--", "sleep", "0.01", cwd=project).stdout
    assert md.startswith("### `sleep 0.01`") and "| runs |" in md


def test_shell_is_opt_in(perfpack, project):
    _ok_error(perfpack("bench", "--runs", "1", "--", "true && true", cwd=project), "command not found")
    assert perfpack("bench", "--runs", "2", "--shell", "--", "true && true", cwd=project).returncode == 0


def test_budgets_exit_1_only_when_breached(perfpack, project):
    assert perfpack("bench", "--runs", "3", "--budget", "p95=1ms", "--", "sleep", "0.02", cwd=project).returncode == 1
    assert perfpack("bench", "--runs", "3", "--budget", "p95=2s", "--budget", "rss=1GB", "--",
                    "sleep", "0.02", cwd=project).returncode == 0
    proc = perfpack("bench", "--runs", "3", "--budget-preset", "kpi", "--", "sleep", "0.15", cwd=project)
    assert proc.returncode == 1 and "p50" in proc.stdout and "BREACHED" in proc.stdout
    mem = perfpack("bench", "--runs", "2", "--budget", "rss=50MB", "--", "python3", "-c",
                   "import time; b = b'x' * (120 * 1024 * 1024); time.sleep(0.2)", cwd=project)
    assert mem.returncode == 1 and "rss" in mem.stdout


def test_baseline_save_list_show_rm_and_regressions(perfpack, project):
    saved = perfpack("bench", "--runs", "10", "--name", "nap", "--save", "--", "sleep", "0.05", cwd=project)
    assert saved.returncode == 0, saved.stderr
    path = project / ".claude/perfpack/baselines/nap.json"
    record = json.loads(path.read_text())
    assert record["command"] == ["sleep", "0.05"] and len(record["samples"]["wall_s"]) == 10
    assert record["environment"]["python"]["version"] and "commit" in record["environment"]["git"]
    items = list_baselines(project)
    assert [i["name"] for i in items] == ["nap"] and items[0]["summary"]["n"] == 10 and items[0]["saved_at"]

    same = perfpack("bench", "--runs", "10", "--name", "nap", "--", "sleep", "0.05", cwd=project)
    assert same.returncode == 0, same.stdout
    assert "SAME" in same.stdout

    slow = perfpack("bench", "--runs", "10", "--name", "nap", "--format", "json", "--", "sleep", "0.075", cwd=project)
    assert slow.returncode == 1
    cmp = json.loads(slow.stdout)["comparison"]
    assert cmp["verdict"]["verdict"] == "slower" and cmp["verdict"]["ci"][0] > 1.2
    # a generous allowance turns the same slowdown into exit 0
    allowed = perfpack("bench", "--runs", "10", "--name", "nap", "--max-regression", "200%", "--",
                       "sleep", "0.075", cwd=project)
    assert allowed.returncode == 0 and "SLOWER" in allowed.stdout
    fast = perfpack("bench", "--runs", "10", "--name", "nap", "--", "sleep", "0.03", cwd=project)
    assert fast.returncode == 0 and "FASTER" in fast.stdout

    listed = perfpack("baseline", "list", cwd=project)
    assert listed.returncode == 0 and "nap" in listed.stdout
    shown = perfpack("baseline", "show", "nap", cwd=project)
    assert shown.returncode == 0 and "sleep 0.05" in shown.stdout
    assert json.loads(perfpack("baseline", "show", "nap", "--format", "json", cwd=project).stdout)["name"] == "nap"

    report = perfpack("report", "--out", str(project / "out/perf.md"), cwd=project)
    assert report.returncode == 0, report.stderr
    text = (project / "out/perf.md").read_text()
    assert "## Before / after" in text and "**slower**" in text and "**faster**" in text and "| nap |" in text
    svg = ET.parse(project / "out/perf.svg").getroot()
    assert svg.tag.endswith("svg") and len(svg) > 10

    assert perfpack("baseline", "rm", "nap", cwd=project).returncode == 0
    assert not path.exists() and list_baselines(project) == []


def test_compare_catches_a_planted_slowdown_and_not_an_unchanged_command(perfpack, project):
    slow = perfpack("compare", "--runs", "10", "--format", "json", "--", "sleep", "0.03", "--vs", "sleep", "0.045",
                    cwd=project)
    assert slow.returncode == 1, slow.stdout
    data = json.loads(slow.stdout)
    assert data["verdict"]["verdict"] == "slower" and 1.3 < data["verdict"]["ratio"] < 1.7
    same = perfpack("compare", "--runs", "10", "--", "sleep", "0.03", "--vs", "sleep", "0.03", cwd=project)
    assert same.returncode == 0 and "SAME" in same.stdout
    stored = sorted((project / ".claude/perfpack/comparisons").glob("*.json"))
    assert len(stored) == 2
    text = perfpack("report", cwd=project).stdout
    assert "(interleaved)" in text and "**slower**" in text and "**same**" in text


BAD_FILES = {
    "corrupt": (b'{"schema_version": 1, "kind": "perfpack-baseline", ', "invalid JSON"),
    "empty": (b"", "invalid JSON"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not UTF-8"),
    "foreign": (b'{"name": "left-pad", "version": "1.0.0"}', "not a perfpack baseline"),
    "list": (b"[1, 2, 3]", "not a perfpack baseline"),
    "future": (b'{"schema_version": 99, "kind": "perfpack-baseline"}', "unsupported schema_version"),
    "broken": (b'{"schema_version": 1, "kind": "perfpack-baseline", "name": "broken"}', "invalid baseline"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_corrupt_or_foreign_baselines_give_a_clear_error(perfpack, project, name):
    content, needle = BAD_FILES[name]
    folder = project / ".claude/perfpack/baselines"
    folder.mkdir(parents=True)
    (folder / f"{name}.json").write_bytes(content)
    _ok_error(perfpack("baseline", "show", name, cwd=project), needle)
    # comparing with it fails before measuring anything
    _ok_error(perfpack("bench", "--runs", "1", "--name", name, "--", "true", cwd=project), needle)
    listed = perfpack("baseline", "list", cwd=project)
    assert listed.returncode == 2 and "ERROR" in listed.stdout and "Traceback" not in listed.stderr
    assert list_baselines(project)[0]["error"]
    assert (folder / f"{name}.json").read_bytes() == content  # nothing lost
    assert perfpack("report", cwd=project).returncode == 0


def test_tampered_valid_json_is_rejected_by_the_schema(perfpack, project):
    assert perfpack("bench", "--runs", "3", "--name", "t", "--save", "--", "true", cwd=project).returncode == 0
    path = project / ".claude/perfpack/baselines/t.json"
    data = json.loads(path.read_text())
    data["samples"]["wall_s"] = ["fast"]
    path.write_text(json.dumps(data))
    _ok_error(perfpack("baseline", "show", "t", cwd=project), "invalid baseline at samples/wall_s/0")


def test_unwritable_destinations_are_usage_errors(perfpack, project):
    (project / "a-file").write_text("x")
    _ok_error(perfpack("report", "--out", str(project / "a-file/perf.md"), cwd=project), "cannot write")
    (project / ".claude").write_text("not a folder")  # baselines and comparisons live under .claude/
    _ok_error(perfpack("bench", "--runs", "1", "--name", "b", "--save", "--", "true", cwd=project), "cannot write")
    _ok_error(perfpack("compare", "--runs", "2", "--", "true", "--vs", "true", cwd=project), "cannot write")
    (project / ".claude").unlink()
    (project / ".claude/perfpack/baselines/d.json").mkdir(parents=True)
    _ok_error(perfpack("baseline", "rm", "d", cwd=project), "cannot remove")
    assert (project / ".claude/perfpack/baselines/d.json").is_dir()
