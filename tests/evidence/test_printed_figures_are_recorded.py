"""The oracle: every performance figure a measuring command prints is in the ledger record it appends.

Each test runs a real measuring command (bench, compare both ways, load against a server on 127.0.0.1,
profile, explain --try-indexes on SQLite), takes exactly what it printed (the text, and the JSON an agent
reads), and hands it to `perfpack evidence check --message FILE` in that project: an agent that quotes
perfpack's output verbatim must never be sent back (issue 21). A figure printed but not recorded fails the
test with the figure named.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_perfpack

WORK = """\
import sys
n = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
print(sum(i * i for i in range(n)))
"""
# a program that holds some memory, so that --memory and RSS have something to show
HOLD = """\
import sys
n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
rows = [str(i) * 3 for i in range(n)]
print(len(rows))
"""


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                        "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(root)})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "work.py").write_text(WORK)
    (root / "hold.py").write_text(HOLD)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "first")
    (root / "work.py").write_text(WORK.replace("60000", "30000"))
    _git(root, "commit", "-q", "-am", "less work")
    return root


NOTE = "/work/team/status/NOTE-ledgerfix-to-accuracy.md"
# Printed text the checker's extractor reads as a claim although it is none, as contexts ("changes beyond
# {}"): reported to the owner of perfpack.evidence.claims (NOTE above). The three reported (the minimum
# effect, "changes beyond 5%", "ran 25 times in one loop") are fixed, with unit tests in
# tests/evidence/test_claims.py; add a context here (and an xfail case) for a new one.
KNOWN_MISREADS: tuple[str, ...] = ()


def _misread(text: str, printed: str) -> bool:
    return any(context.format(text) in printed for context in KNOWN_MISREADS)


def unverified(root: Path, printed: str, what: str) -> list[str]:
    """The claims of `printed` (taken as an agent's final message) the project's ledger does not back."""
    message = root.parent / f"message-{what}.txt"
    message.write_text(printed)
    proc = run_perfpack("evidence", "check", "--message", str(message), "--format", "json", cwd=root)
    assert proc.returncode in (0, 1), proc.stderr
    result = json.loads(proc.stdout)
    if result["unverified"] == 0:
        assert proc.returncode == 0, proc.stdout
    return [f"{c['text']!r} ({c.get('metric')}, {c['value']} {c['unit']})"
            for c in result["claims"] if c["matched"] is None and not _misread(c["text"], printed)]


def assert_backed(root: Path, printed: str, what: str) -> None:
    missing = unverified(root, printed, what)
    assert not missing, f"{what} printed figures its ledger record lacks: {missing}\n--- printed:\n{printed}"


def measure(root: Path, *args: str, ok: tuple[int, ...] = (0, 1)) -> tuple[str, str]:
    """Run `perfpack ARGS` in the project as an agent would: (stdout, stderr). Each run is a measurement of
    its own, with its own ledger record: the JSON of a command is checked after the text's run."""
    for _ in range(3):
        proc = run_perfpack(*args, cwd=root, timeout=120)
        if not (proc.returncode == 2 and "contended" in proc.stderr):
            break  # profile refuses a run starved of CPU on a busy machine (rightly): measure again
    assert proc.returncode in ok, (proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout, proc.stderr


def test_bench_saved_then_compared_with_its_baseline(project: Path) -> None:
    text, _ = measure(project, "bench", "--runs", "5", "--warmup", "0", "--name", "work", "--save", "--",
                      sys.executable, "hold.py")
    assert "rss" in text
    assert_backed(project, text, "bench --save")
    text, _ = measure(project, "bench", "--runs", "5", "--warmup", "0", "--name", "work", "--",
                      sys.executable, "hold.py")
    assert "vs baseline" in text
    assert_backed(project, text, "bench vs its baseline")
    # `evidence list` shows what this run measured, as printed (not the baseline's median)
    median = text.split("wall   median ", 1)[1].split(" [", 1)[0].split("   ", 1)[0]
    listed = run_perfpack("evidence", "list", "--limit", "1", cwd=project).stdout
    assert f"median={median}," in listed and "ratio=" in listed, (median, listed)
    data, _ = measure(project, "bench", "--runs", "5", "--warmup", "0", "--name", "work", "--format",
                      "markdown", "--budget", "p95=20s", "--budget", "rss=64MB", "--", sys.executable,
                      "hold.py")
    assert "| budget |" in data
    assert_backed(project, data, "bench --format markdown, with budgets")
    text, _ = measure(project, "bench", "--runs", "5", "--warmup", "0", "--budget", "p95=20s", "--budget",
                      "rss=1MiB", "--", sys.executable, "hold.py")
    assert "budget 1.0 MiB: BREACHED" in text, text
    assert_backed(project, text, "bench with budgets")


def test_compare_two_commands(project: Path) -> None:
    text, _ = measure(project, "compare", "--runs", "5", "--", sys.executable, "work.py", "60000", "--vs",
                      sys.executable, "work.py", "20000")
    assert "B/A" in text
    assert_backed(project, text, "compare --vs")
    listed = run_perfpack("evidence", "list", "--limit", "1", cwd=project).stdout
    medians = [part.split("median ", 1)[1].split(" [", 1)[0] for part in text.split("wall   ")[1:]]
    assert f"A: median={medians[0]}," in listed and f"B: median={medians[1]}," in listed, (medians, listed)
    text, _ = measure(project, "compare", "--runs", "5", "--format", "markdown", "--", sys.executable,
                      "hold.py", "--vs", sys.executable, "work.py")
    assert_backed(project, text, "compare --vs --format markdown")


def test_compare_two_revisions(project: Path) -> None:
    text, _ = measure(project, "compare", "--runs", "4", "--rev", "HEAD~1", "--rev", "HEAD", "--",
                      sys.executable, "work.py")
    assert "Revisions compared" in text
    assert_backed(project, text, "compare --rev")
    data, _ = measure(project, "compare", "--runs", "4", "--rev", "HEAD~1", "--rev", "HEAD", "--format",
                      "json", "--", sys.executable, "work.py")
    assert json.loads(data)["verdict"]
    assert_backed(project, data, "compare --rev --format json")


def _serve(*args: str):
    """tests/load/stdlib_server.py on 127.0.0.1: (its URL, the process)."""
    script = Path(__file__).resolve().parent.parent / "load" / "stdlib_server.py"
    proc = subprocess.Popen([sys.executable, str(script), "--max-seconds", "120", "--keep-alive", *args],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return f"http://127.0.0.1:{int(proc.stdout.readline())}/", proc


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def server():
    url, proc = _serve()
    yield url
    _stop(proc)


def test_load_scenario_with_errors_and_thresholds(project: Path) -> None:
    url, proc = _serve("--error-rate", "0.05")
    try:
        (project / "mix.toml").write_text(
            f'url = "{url}"\nrate = 60\nduration = "1.5s"\nwarmup = "0.2s"\n'
            'thresholds = ["p90<5s", "error_rate<50%", "p75<5s"]\n'
            '[[request]]\nname = "home"\npath = "/"\nweight = 3\n'
            '[[request]]\nname = "item"\npath = "/item"\nweight = 1\n')
        text, _ = measure(project, "load", "--scenario", "mix.toml")
        assert "home:" in text and "errors     0" not in text, text
        assert_backed(project, text, "load --scenario (errors, thresholds, per request)")
    finally:
        _stop(proc)


def test_load_saved_then_compared_with_its_baseline(project: Path, server: str) -> None:
    args = ("load", server, "--rate", "40", "--duration", "1.5s", "--warmup", "0.2s", "--name", "home")
    text, _ = measure(project, *args, "--save")
    assert "achieved" in text
    assert_backed(project, text, "load --save")
    text, _ = measure(project, *args)
    assert " then, " in text and " now (" in text, text
    assert_backed(project, text, "load vs its baseline")
    data, _ = measure(project, *args, "--format", "json")
    assert_backed(project, data, "load --format json")


def test_load_closed_loop(project: Path, server: str) -> None:
    text, _ = measure(project, "load", server, "--concurrency", "2", "--duration", "1s", "--warmup", "0.2s",
                      "--threshold", "p75<2s", "--threshold", "error_rate<1%")
    assert "CLOSED LOOP" in text
    assert_backed(project, text, "load (closed loop)")


def test_profile_cpu(project: Path) -> None:
    text, _ = measure(project, "profile", "--", sys.executable, "work.py", "4000000")
    assert_backed(project, text, "profile")
    data, _ = measure(project, "profile", "--name", "cpu2", "--format", "json", "--", sys.executable,
                      "work.py", "4000000")
    assert_backed(project, data, "profile --format json")
    before = json.loads(data)["name"]
    text, _ = measure(project, "profile", "--name", "cpu3", "--", sys.executable, "work.py", "8000000")
    text, _ = measure(project, "profile", "diff", before, "cpu3")
    assert "time sampled (after start-up):" in text, text
    assert_backed(project, text, "profile diff (CPU)")


def test_profile_memory_and_diff(project: Path) -> None:
    text, err = measure(project, "profile", "--memory", "--name", "big", "--", sys.executable, "hold.py")
    assert_backed(project, text, "profile --memory")
    data, _ = measure(project, "profile", "--memory", "--name", "small", "--format", "json", "--",
                      sys.executable, "hold.py", "20000")
    assert_backed(project, data, "profile --memory --format json")
    text, _ = measure(project, "profile", "diff", "big", "small")
    assert "peak:" in text, text
    assert_backed(project, text, "profile diff (memory)")


SHOP = """\
import sqlite3
import sys

db = sqlite3.connect(sys.argv[1])
ids = [row[0] for row in db.execute("SELECT id FROM customers ORDER BY id LIMIT 25")]
for customer in ids:  # one query per customer: the N+1 pattern explain --capture groups
    db.execute("SELECT count(*), sum(total) FROM orders WHERE customer_id = ?", (customer,)).fetchall()
"""


def test_explain_try_indexes(project: Path) -> None:
    db = sqlite3.connect(project / "shop.db")
    db.executescript("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
                     "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total INTEGER);")
    db.executemany("INSERT INTO customers VALUES (?, ?)", [(i, f"c{i}") for i in range(1, 401)])
    db.executemany("INSERT INTO orders VALUES (?, ?, ?)",
                   [(i, i % 400 + 1, i % 997) for i in range(1, 60001)])
    db.commit()
    db.close()
    (project / "report.py").write_text(SHOP)
    text, _ = measure(project, "explain", "--db", "shop.db", "--try-indexes", "--capture", "--",
                      sys.executable, "report.py", "shop.db")
    assert "index" in text.lower(), text
    assert_backed(project, text, "explain --try-indexes --capture")
    listed = run_perfpack("evidence", "list", "--kind", "explain", cwd=project).stdout
    assert " -> " in listed and "speedup=" in listed and "e+" not in listed, listed
    data, _ = measure(project, "explain", "--db", "shop.db", "--try-indexes", "--capture", "--format", "json",
                      "--", sys.executable, "report.py", "shop.db")
    assert_backed(project, data, "explain --try-indexes --format json")


def test_explain_try_indexes_sql_records_the_time_before_the_index(project: Path) -> None:
    # corpus8: "with the index 18.4 ms -> 0.003 ms (6,175x, measured)" from --db/--sql; an agent that quotes
    # the time before the index must find it in the ledger, not only the time after and the speed-up
    db = sqlite3.connect(project / "shop.db")
    db.executescript("CREATE TABLE items (id INTEGER PRIMARY KEY, order_id INTEGER, qty INTEGER, "
                     "price INTEGER);")
    db.executemany("INSERT INTO items VALUES (?, ?, ?, ?)",
                   [(i, i // 4, i % 7, i % 101) for i in range(1, 80001)])
    db.commit()
    db.close()
    text, _ = measure(project, "explain", "--db", "shop.db", "--try-indexes", "--sql",
                      "SELECT sum(qty * price) FROM items WHERE order_id = 19990")
    assert "x, measured)" in text, text
    before, after = text.split("with the index ", 1)[1].split(" (", 1)[0].split(" -> ")
    assert_backed(project, text, "explain --try-indexes --sql")
    speedup = text.split(f"{after} (", 1)[1].split(", measured)", 1)[0]
    prose = f"The query took {before} before the index and {after} with it ({speedup} faster).\n"
    assert_backed(project, prose, "a report quoting explain's before and after")
    [record] = [json.loads(line) for line in
                (project / ".claude/perfpack/ledger.jsonl").read_text().splitlines()]
    sides = {f.get("side"): f for f in record["figures"] if f["metric"] == "median"}
    assert set(sides) == {"before", "after"} and sides["before"]["unit"] == "ms", record
