"""Secrets on a measured command line or in a load URL are never stored in clear.

The measuring commands keep what they measured: the ledger (`perfpack evidence`), baselines, comparisons,
history, the report, the profile's files (profile.json, py-spy's raw stacks, the folded stacks, the flame
graph). Each test runs the real commands with a secret of every format perfpack.redact knows
(tests/secret_formats.py) on the command line, then reads back every file written under the project and
the cache: none may hold one. The figures stay as measured: a run is still compared with its baseline and
`perfpack evidence check` still finds the record.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_perfpack
from tests.load.conftest import Server
from tests.secret_formats import ARGV_SECRETS, NOT_SECRETS, SECRETS

CLEAR = [clear for _, clear in SECRETS] + [clear for _, clear in ARGV_SECRETS]
ARGV = [text for text, _ in SECRETS] + [arg for argv, _ in ARGV_SECRETS for arg in argv] + list(NOT_SECRETS)
BUSY = "import time\nt = time.time()\nwhile time.time() - t < 1.2: pass"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "start"], cwd=root, check=True)
    return root


def pp(root: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    cache = root.parent / "cache"
    return run_perfpack(*args, cwd=root, env={"XDG_CACHE_HOME": str(cache)}, timeout=timeout)


def written(root: Path) -> dict[str, str]:
    """Every file perfpack may have written: the project (its .git aside) and the cache folder."""
    out = {}
    for folder in (root, root.parent / "cache"):
        for path in folder.rglob("*"):
            if path.is_file() and ".git" not in path.relative_to(folder).parts:
                out[str(path.relative_to(root.parent))] = path.read_bytes().decode("utf-8", "replace")
    return out


def leaks(root: Path, clear: list[str], *outputs: str) -> list[tuple[str, str]]:
    """(file or output, secret) for every secret found in clear, also as JSON or XML would escape it."""
    found = []
    texts = {**written(root), **{f"output {i}": text for i, text in enumerate(outputs)}}
    for where, text in texts.items():
        for secret in clear:
            forms = {secret, json.dumps(secret)[1:-1], secret.replace("&", "&amp;")}
            if any(form in text for form in forms):
                found.append((where, secret))
    return found


def ledger(root: Path) -> list[dict]:
    path = root / ".claude" / "perfpack" / "ledger.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_bench_compare_history_report_and_the_ledger_hold_no_secret(project: Path) -> None:
    command = [sys.executable, "-c", "pass", *ARGV]
    first = pp(project, "bench", "--runs", "3", "--warmup", "0", "--name", "checkout", "--save",
               "--env", "DB_PASSWORD=EnvPassw0rd9", "--", *command)
    assert first.returncode == 0, first.stderr
    # the same command again is the same (redacted) identity: compared with the baseline, like with like
    again = pp(project, "bench", "--runs", "3", "--warmup", "0", "--name", "checkout", "--format", "json",
               "--env", "DB_PASSWORD=EnvPassw0rd9", "--", *command)
    assert again.returncode in (0, 1), again.stderr
    data = json.loads(again.stdout)
    assert "not comparable" not in again.stdout and not data["comparison"]["differences"], data["comparison"]
    compare = pp(project, "compare", "--runs", "3", "--name", "ab", "--", *command, "--vs", *command)
    assert compare.returncode in (0, 1), compare.stderr
    history = pp(project, "history", "checkout")
    report = pp(project, "report", "--out", "perf/report.md")
    listed = pp(project, "evidence", "list", "--format", "json")
    assert history.returncode == report.returncode == listed.returncode == 0, report.stderr

    outputs = (first.stdout, first.stderr, again.stdout, compare.stdout, history.stdout, listed.stdout)
    assert leaks(project, [*CLEAR, "EnvPassw0rd9"], *outputs) == []
    assert (project / "perf" / "report.md").is_file()

    records = ledger(project)
    assert [r["kind"] for r in records] == ["bench", "bench", "compare"]
    # what evidence list shows is the redacted command, word for word: the look-alikes stay as written
    shown = json.loads(listed.stdout)["records"][0]["command"]
    assert shown == records[0]["command"] and len(shown) == len(command)
    assert "[REDACTED]" in shown and all(text in shown for text in NOT_SECRETS)
    assert shown[:3] == [sys.executable, "-c", "pass"]

    # the figures stay as measured: the evidence check finds the bench's median
    median = next(f for f in records[1]["figures"] if f["metric"] == "median" and "bound" not in f
                  and f.get("of", "wall") == "wall" and f.get("side") in (None, "after"))
    message = project / "message.md"
    message.write_text(f"The checkout command's median is {median['value'] * 1000:.4g} ms.\n")
    check = pp(project, "evidence", "check", "--message", str(message), "--format", "json")
    assert check.returncode == 0, (check.stdout, check.stderr)


def test_load_keeps_no_secret_of_its_url_or_headers(project: Path) -> None:
    server = Server()
    try:
        # credentials in the URL: refused before any request, and said without the password
        with_password = server.url("/").replace("http://", "http://admin:UrlPassw0rd@")
        refused = pp(project, "load", with_password, "--rate", "20", "--duration", "1s", "--warmup", "0s")
        assert refused.returncode == 2 and "credentials in the URL" in refused.stderr, refused.stderr

        query = "/?token=QueryTok3n55&key=AbcKeyValue77&api_key=ApiKeyVal88&access_token=AccTokVal99&page=2"
        # the test server answers 404 to a path with a query, and load FAILs on errors by default: this test
        # is about what perfpack stores, so any error rate passes
        args = ["load", server.url(query), "-H", "Authorization: Bearer SplitBearer66aa", "--rate", "20",
                "--duration", "1s", "--warmup", "0s", "--name", "orders", "--quiet",
                "--threshold", "error_rate<=100%"]
        saved = pp(project, *args, "--save")
        assert saved.returncode == 0, saved.stderr
        compared = pp(project, *args, "--format", "json")
        assert compared.returncode == 0, compared.stderr
        assert "differ" not in compared.stdout, compared.stdout
    finally:
        server.stop()
    clear = ["UrlPassw0rd", "QueryTok3n55", "AbcKeyValue77", "ApiKeyVal88", "AccTokVal99", "SplitBearer66aa"]
    assert leaks(project, clear, refused.stderr, saved.stdout, compared.stdout) == []
    records = ledger(project)
    assert [r["kind"] for r in records] == ["load", "load"]
    url = records[0]["command"][2]  # perfpack load URL --rate ... (the whole command line, redacted)
    assert url.endswith("&page=2") and "token=[REDACTED]" in url, records[0]["command"]
    assert "Authorization: Bearer [REDACTED]" in records[0]["command"], records[0]["command"]
    assert any(f["metric"] == "achieved_rate" and f["value"] > 0 for f in records[1]["figures"])


def test_profile_files_hold_no_secret_of_the_command_or_its_children(project: Path) -> None:
    # the program runs a child with a secret on its own command line (made at run time, so the parent's
    # code does not hold it): py-spy's raw file names the child's command line
    child = (f"import subprocess, sys; subprocess.run([sys.executable, '-c', {BUSY!r}, '--token', "
             "'ChildTok' + '3n77'])")
    out = pp(project, "profile", "--name", "run", "--format", "json", "--",
             sys.executable, "-c", f"{BUSY}\n{child}", *ARGV)
    assert out.returncode == 0, out.stderr
    folder = project / ".claude" / "perfpack" / "profiles" / "run"
    files = sorted(p.name for p in folder.iterdir())
    assert {"profile.json", "stacks.folded"} <= set(files), files
    assert leaks(project, [*CLEAR, "ChildTok3n77"], out.stdout, out.stderr) == []
    record = ledger(project)[-1]
    assert record["kind"] == "profile" and "[REDACTED]" in record["command"]
    assert all(text in record["command"] for text in NOT_SECRETS)
    if "py-spy.raw" in files:  # py-spy sampled, following the child: its command line is in the file
        assert "--token [REDACTED]" in (folder / "py-spy.raw").read_text()


@pytest.mark.skipif(not os.path.exists("/proc/self/cmdline"), reason="reads /proc")
def test_an_attached_process_command_line_is_redacted(project: Path) -> None:
    busy = "print('ready', flush=True)\nwhile True: pass"  # busy: an idle process gives no samples
    target = subprocess.Popen([sys.executable, "-c", busy, "--password", "SplitPassw0rd1",
                               "http://admin:UrlPassw0rd@127.0.0.1/"], stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout is not None and target.stdout.readline() == "ready\n"
        out = pp(project, "profile", "--pid", str(target.pid), "--duration", "2s", "--name", "attached")
    finally:
        target.kill()
        target.wait()
    if out.returncode == 2 and ("cannot attach" in out.stderr or "ptrace" in out.stderr.lower()):
        pytest.skip(f"py-spy cannot attach here: {out.stderr.strip()}")
    assert out.returncode == 0, out.stderr
    assert leaks(project, ["SplitPassw0rd1", "UrlPassw0rd"], out.stdout) == []
