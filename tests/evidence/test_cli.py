"""`perfpack evidence list|check` through the real entry point, on a real ledger and transcript."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from perfpack import ledger
from tests.hostile import make_hostile


def _perfpack(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "perfpack", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def _project(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    ledger.record(tmp_path, kind="bench", name="checkout", command=["python", "app.py"],
                  figures=[ledger.figure("p95", 1643.2, "ms", side="before"),
                           ledger.figure("p95", 672.9, "ms", side="after")])
    return tmp_path


def test_check_a_transcript_blocks_on_an_invented_figure(tmp_path):
    project = _project(tmp_path)
    lines = [{"type": "user", "message": {"role": "user", "content": "make checkout faster"}},
             {"type": "assistant", "message": {"role": "assistant", "content": [
                 {"type": "text", "text": "Done: p95 1.64 s -> 670 ms, and p99 is 2.9 s."}]}},
             {"type": "assistant", "message": {"role": "assistant", "content": [
                 {"type": "tool_use", "id": "t", "name": "Bash", "input": {"command": "ls"}}]}}]
    transcript = project / "t.jsonl"
    transcript.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    proc = _perfpack("evidence", "check", "--transcript", str(transcript), "--format", "json", cwd=project)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["unverified"] == 1 and [c["matched"] is None for c in data["claims"]] == [False, False, True]
    assert data["claims"][2]["text"] == "2.9 s" and "perfpack bench" in data["claims"][2]["measure_with"]


def test_check_a_message_that_is_all_measured_passes(tmp_path):
    project = _project(tmp_path)
    (project / "m.txt").write_text("The p95 fell from 1.64 s to 673 ms (2.4x faster). "
                                   "Target was p95 < 300 ms.")
    proc = _perfpack("evidence", "check", "--message", "m.txt", cwd=project)
    assert proc.returncode == 0 and "3 of 3 figure(s) backed" in proc.stdout


def test_list_and_bad_input(tmp_path):
    project = _project(tmp_path)
    listed = _perfpack("evidence", "list", cwd=project)
    # the run's own side, rounded as printed: not the "before" side's 1,643 ms
    assert listed.returncode == 0 and "checkout" in listed.stdout, listed.stderr
    assert "p95=673 ms" in listed.stdout, listed.stdout
    assert "1.64 s" not in listed.stdout
    for args in (["check"], ["check", "--message", "missing.txt"],
                 ["check", "--message", "a", "--transcript", "b"]):
        proc = _perfpack("evidence", *args, cwd=project)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, args
    make_hostile(project / "fifo", "fifo")
    proc = _perfpack("evidence", "check", "--transcript", "fifo", cwd=project)
    assert proc.returncode == 2 and "FIFO" in proc.stderr
    make_hostile(project / "latin.txt", "not utf-8", b"p95 1.2 s")
    assert _perfpack("evidence", "check", "--message", "latin.txt", cwd=project).returncode == 2


@pytest.mark.parametrize("kind", ["symlink", "dangling symlink", "fifo", "folder", "huge", "not utf-8",
                                  "malformed", "damaged then good", "deep"])
def test_a_hostile_ledger_is_one_line_exit_2(tmp_path, kind):
    project = _project(tmp_path)
    path = project / ".claude" / "perfpack" / "ledger.jsonl"
    good = path.read_bytes()
    path.unlink()
    make_hostile(path, kind, good)
    (project / "m.txt").write_text("p95 1.64 s")
    proc = _perfpack("evidence", "check", "--message", "m.txt", cwd=project)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("perfpack: error: ledger ") and "Traceback" not in proc.stderr
    assert len(proc.stderr.splitlines()[0]) < 300


@pytest.mark.parametrize("kind", ["symlink", "dangling symlink", "fifo", "folder", "missing", "huge",
                                  "huge line", "not utf-8", "damaged then good", "deep"])
def test_a_hostile_transcript_is_one_line_exit_2(tmp_path, kind):
    project = _project(tmp_path)
    good = (json.dumps({"type": "assistant", "message": {"content": "p99 is 2.9 s"}}) + "\n").encode()
    make_hostile(project / "t.jsonl", kind, good)
    proc = _perfpack("evidence", "check", "--transcript", "t.jsonl", cwd=project)
    if kind == "damaged then good":  # damaged lines before a good last one: the good one is checked
        assert proc.returncode == 1 and "2.9 s" in proc.stdout
        return
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("perfpack: error: transcript ") and "Traceback" not in proc.stderr


SWAPPER = """
import os, sys
folder = sys.argv[1]
path, good, pipe = (os.path.join(folder, name) for name in ("t.jsonl", "good.tmp", "fifo.tmp"))
line = b'{"type": "assistant", "message": {"content": "p99 is 2.9 s"}}\\n'
while True:
    with open(good, "wb") as handle:
        handle.write(line)
    os.replace(good, path)
    os.mkfifo(pipe)
    os.replace(pipe, path)
"""

READER = """
import sys
from perfpack.errors import PerfpackError
from perfpack.evidence.transcript import final_message_from_transcript
read = refused = 0
for _ in range(30_000):
    try:
        read += final_message_from_transcript(sys.argv[1]) == "p99 is 2.9 s"
    except PerfpackError as exc:
        refused += "FIFO" in str(exc) or "no such file" in str(exc)
print(read, refused)
"""


def test_a_fifo_swapped_in_after_the_type_check_never_hangs_the_reader(tmp_path):
    """The transcript is judged by fstat of what was opened (O_NONBLOCK|O_NOFOLLOW), so a FIFO renamed in
    between never blocks the open. Checking the type first and then opening hung within 20,000 reads."""
    swapper = subprocess.Popen([sys.executable, "-c", SWAPPER, str(tmp_path)])
    try:
        proc = subprocess.run([sys.executable, "-c", READER, str(tmp_path / "t.jsonl")], capture_output=True,
                              text=True, timeout=300)
    finally:
        swapper.kill()
        swapper.wait()
    assert proc.returncode == 0, proc.stderr
    read, refused = map(int, proc.stdout.split())
    assert read + refused == 30_000 and read > 0 and refused > 0
