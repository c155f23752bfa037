"""Load runs as baselines (bench's kind-aware baseline API): save, compare, refuse, and show in the report."""

from __future__ import annotations

import json
from pathlib import Path

from perfpack.exitcodes import ExitCode

from .conftest import load_json


def test_save_compare_and_report(http_server, perfpack, tmp_path: Path) -> None:
    srv = http_server()
    common = ("--rate", "50", "--duration", "1.5s", "--warmup", "0.2s", "--project", str(tmp_path), "-q")
    saved = perfpack("load", srv.url("/"), *common, "--name", "home", "--save")
    assert saved.returncode == ExitCode.OK, saved.stdout + saved.stderr
    assert "baseline    saved as 'home'" in saved.stdout
    data = json.loads((tmp_path / ".claude/perfpack/baselines/home.json").read_text())
    assert (
        data["kind"] == "load" and data["metric"] == "latency_s" and len(data["samples"]["latency_s"]) == 75
    )

    again = perfpack("load", srv.url("/"), *common, "--name", "home", "--save")
    assert again.returncode == ExitCode.USAGE and "already exists" in again.stderr and again.stdout == ""

    slower = perfpack("load", srv.url("/"), *common, "--name", "home", "--format", "json")
    s = load_json(slower)
    assert slower.returncode == ExitCode.OK and s["baseline"]["name"] == "home"

    other = perfpack("load", srv.url("/sleep/20"), *common, "--name", "home")
    assert (
        other.returncode == ExitCode.OK
        and "not comparable" in other.stdout
        and "latency    p50" in other.stdout
    )

    report = perfpack("report", "--project", str(tmp_path))
    assert report.returncode == ExitCode.OK and "home" in report.stdout
    # one saved load run: the report says how to save the next one with load, not bench
    assert "need a second `perfpack load URL --name home --save --force`" in report.stdout


def test_a_bench_baseline_is_not_a_load_baseline(http_server, perfpack, tmp_path: Path) -> None:
    srv = http_server()
    bench = perfpack(
        "bench", "--runs", "3", "--name", "cmd", "--save", "--project", str(tmp_path), "--", "true"
    )
    assert bench.returncode == ExitCode.OK, bench.stderr
    r = perfpack(
        "load",
        srv.url(),
        "--rate",
        "20",
        "--duration",
        "0.5s",
        "--warmup",
        "0",
        "--name",
        "cmd",
        "--project",
        str(tmp_path),
        "-q",
    )
    assert r.returncode == ExitCode.OK and "is a bench baseline, not a load run" in r.stdout


def test_low_confidence_says_why(http_server, perfpack, tmp_path: Path) -> None:
    # "FASTER (low confidence)" for p50 7.79 s -> 15.7 ms did not say why: here because the URL changed
    # (--allow-changed-command) and 4 in 10 of the baseline's requests failed
    slow = http_server("--stall-every", "0.25", "--stall", "0.2", "--error-rate", "0.4")
    common = ("--rate", "50", "--duration", "1.5s", "--warmup", "0.2s", "--project", str(tmp_path), "-q")
    saved = perfpack(
        "load", slow.url("/"), *common, "--name", "shop", "--save", "--threshold", "error_rate<90%"
    )
    assert saved.returncode == ExitCode.OK, saved.stdout + saved.stderr
    fast = http_server()
    now = perfpack("load", fast.url("/"), *common, "--name", "shop", "--allow-changed-command")
    assert now.returncode == ExitCode.OK, now.stdout + now.stderr
    [line] = [x for x in now.stdout.splitlines() if x.startswith("baseline    'shop'")]
    assert "when its run ended" in line, line
    if "INCONCLUSIVE" not in line:  # a direction or "same": the low confidence is explained
        assert "(low confidence: what was measured differs; the baseline had 40.0 % errors" in line, line
    comparisons = list((tmp_path / ".claude/perfpack/comparisons").glob("*.json"))
    stored = json.loads(comparisons[0].read_text())
    assert stored["confidence"] == "low"
    assert stored["confidence_why"][:2] == ["what was measured differs", "the baseline had 40.0 % errors"]


def test_seconds_against_the_baseline_print_as_the_run_prints_them(
    http_server, perfpack, tmp_path: Path
) -> None:
    # corpus6/7/8: "p95 1.28e+03 ms then, 10.9 ms now" where the run's own line said "p95 1.28 s"
    srv = http_server()
    common = ("--rate", "4", "--duration", "1.5s", "--warmup", "0", "--project", str(tmp_path), "-q",
              "--name", "slow")
    saved = perfpack("load", srv.url("/sleep/1100"), *common, "--save")
    assert saved.returncode == ExitCode.OK, saved.stdout + saved.stderr
    [own] = [x for x in saved.stdout.splitlines() if x.startswith("latency    p50")]
    p50 = own.split("p50 ", 1)[1].split("  ", 1)[0]
    assert p50.endswith(" s"), own
    now = perfpack("load", srv.url("/"), *common, "--allow-changed-command")
    assert now.returncode == ExitCode.OK, now.stdout + now.stderr
    assert "e+" not in now.stdout, now.stdout
    [then] = [x for x in now.stdout.splitlines() if x.strip().startswith("p50 ") and " then, " in x]
    assert then.strip().startswith(f"p50 {p50} then, "), (p50, then)


def test_a_run_without_a_name_is_recorded_under_its_path_and_time(
    http_server, perfpack, tmp_path: Path
) -> None:
    # corpus7: a run without --name was recorded with name null and listed as `-` in `evidence list`
    import re

    srv = http_server()
    common = ("--rate", "20", "--duration", "0.5s", "--warmup", "0", "--project", str(tmp_path), "-q")
    for args in ((srv.url("/api/orders?page=2"),), (srv.url("/"), "--method", "POST", "--body", "x"),
                 (srv.url("/"),)):
        run = perfpack("load", *args, *common)
        assert run.returncode in (ExitCode.OK, ExitCode.FINDINGS), run.stdout + run.stderr  # 404s: FAIL
        assert "baseline" not in run.stdout  # the name only labels the record: nothing is compared
    (tmp_path / "mix.toml").write_text(f'url = "{srv.url()}"\n[[request]]\npath = "/"\n')
    run = perfpack("load", "--scenario", str(tmp_path / "mix.toml"), *common)
    assert run.returncode == ExitCode.OK, run.stdout + run.stderr
    ledger = (tmp_path / ".claude/perfpack/ledger.jsonl").read_text()
    records = [json.loads(line) for line in ledger.splitlines()]
    names = [r["name"] for r in records]
    stems = [re.sub(r"-\d{8}-\d{6}$", "", name) for name in names]
    assert stems == ["api-orders", "post-root", "root", "mix"], names
    listed = perfpack("evidence", "list", "--project", str(tmp_path))
    assert listed.returncode == ExitCode.OK and "  -  " not in listed.stdout, listed.stdout
    assert all(f"  {name}  " in listed.stdout for name in names), listed.stdout


def test_a_closed_loop_that_got_faster_is_not_low_confidence_for_sending_more_requests(
    http_server, perfpack, tmp_path: Path
) -> None:
    # corpus27: "low confidence: 1122 runs now against 210 ... re-run with --runs 210" (load has no --runs,
    # and a faster server sends more requests in the same --duration)
    srv = http_server()
    common = ("--concurrency", "2", "--duration", "1.5s", "--warmup", "0", "--project", str(tmp_path), "-q",
              "--name", "quote")
    saved = perfpack("load", srv.url("/sleep/20"), *common, "--save")
    assert saved.returncode == ExitCode.OK, saved.stdout + saved.stderr
    now = perfpack("load", srv.url("/"), *common, "--allow-changed-command")
    assert now.returncode == ExitCode.OK, now.stdout + now.stderr
    assert "--runs" not in now.stdout and "runs now against" not in now.stdout, now.stdout
    stored = json.loads(next((tmp_path / ".claude/perfpack/comparisons").glob("*.json")).read_text())
    assert stored["after"]["n"] > 2 * stored["before"]["n"], (stored["before"]["n"], stored["after"]["n"])
    assert stored["confidence_why"] == ["what was measured differs"], stored["confidence_why"]


def test_a_faster_median_with_a_worse_tail_is_a_mixed_result(http_server, perfpack, tmp_path: Path) -> None:
    # corpus27: "FASTER" printed above p50 -44.3 %, p95 +48.5 %, p99 +89.7 %
    steady, stalling = http_server(), http_server("--stall-every", "0.5", "--stall", "0.15")
    common = ("--rate", "50", "--duration", "3s", "--warmup", "0", "--project", str(tmp_path), "-q",
              "--name", "quote")
    saved = perfpack("load", steady.url("/sleep/20"), *common, "--save")
    assert saved.returncode == ExitCode.OK, saved.stdout + saved.stderr
    now = perfpack("load", stalling.url("/"), *common, "--allow-changed-command")
    assert now.returncode == ExitCode.OK, now.stdout + now.stderr
    stored = json.loads(next((tmp_path / ".claude/perfpack/comparisons").glob("*.json")).read_text())
    assert stored["verdict"]["verdict"] == "faster", stored  # most requests miss the stalls: ~1 ms, not 20
    assert any(why.startswith("the tail got worse: p95 +") for why in stored["confidence_why"]), stored
    assert "the tail got worse" in now.stdout, now.stdout


def test_a_run_whose_every_request_failed_is_not_saved_as_a_baseline(http_server, perfpack,
                                                                       tmp_path: Path) -> None:
    # corpus34: a run where every request timed out was saved, and later runs were judged against it
    broken = http_server("--error-rate", "1.0")
    r = perfpack("load", broken.url("/"), "--rate", "20", "--duration", "1s", "--warmup", "0", "--name", "x",
                 "--save", "--threshold", "error_rate<100%", "--project", str(tmp_path))
    assert "not saved: every one of its" in r.stdout, r.stdout
    assert not list((tmp_path / ".claude").rglob("x.json")), "a baseline was written"
