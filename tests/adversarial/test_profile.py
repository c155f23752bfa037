"""Hostile and bad input for `perfpack profile` (issue 18): one line on stderr, exit 2, no traceback,
nothing left running, nothing written outside the profile's folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_perfpack
from tests.hostile import make_hostile

WORK = "def busy():\n    s = 0\n    for i in range(3_000_000):\n        s += i * i % 7\n    return s\n"


def _strays(marker: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmd = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open(f"/proc/{pid}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[-1].split()[0]
        except OSError:
            continue
        if marker in cmd and state != b"Z":
            found.append(f"{pid}: {cmd}")
    return found


def _one_line_refusal(proc, *words: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("perfpack: error: ")
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    for word in words:
        assert word in proc.stderr, proc.stderr


def _profile(tmp_path: Path, *args: str, **kw):
    return run_perfpack("profile", *args, cwd=tmp_path, timeout=300, **kw)


def test_a_command_that_fails(tmp_path: Path):
    prog = tmp_path / "fails.py"
    prog.write_text(
        WORK + "busy()\nimport subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\nraise SystemExit(3)\n"
    )
    proc = _profile(tmp_path, "--", sys.executable, str(prog))
    _one_line_refusal(proc, "failed (exit 3)", "output.txt")
    time.sleep(0.2)
    assert not _strays(str(tmp_path)) and not _strays("time.sleep(60)")


def test_a_child_left_running_does_not_hold_the_profile_open(tmp_path: Path):
    # py-spy follows child processes and goes on while one it found lives; the program's own end
    # must end the profile (the sleep gives py-spy time to find the child: the race CI once lost).
    prog = tmp_path / "leaves.py"
    prog.write_text(
        WORK + "busy()\nimport subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\ntime.sleep(1)\n"
    )
    started = time.monotonic()
    proc = _profile(tmp_path, "--", sys.executable, str(prog))
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - started < 30, "the profile waited for the child the program left behind"
    assert "still running" not in proc.stderr and "busy" in proc.stdout
    time.sleep(0.2)
    assert not _strays(str(tmp_path)) and not _strays("time.sleep(60)")


def test_a_python_exception_is_the_programs_not_ours(tmp_path: Path):
    prog = tmp_path / "raises.py"
    prog.write_text(WORK + "busy()\nraise KeyError('boom')\n")
    proc = _profile(tmp_path, "--", sys.executable, str(prog))
    _one_line_refusal(proc, "exit 1", "KeyError")
    output = next((tmp_path / ".claude/perfpack/profiles").glob("raises-*/output.txt"))
    assert "Traceback" in output.read_text()  # the program's own traceback is kept, in its file


@pytest.mark.parametrize(
    "argv",
    [
        [sys.executable, "-c", "pass"],
        [sys.executable, "-c", "import os; os._exit(0)"],
        ["true"],
    ],
)
def test_a_command_that_exits_at_once(tmp_path: Path, argv: list[str]):
    proc = _profile(tmp_path, "--", *argv)
    _one_line_refusal(proc, "nothing to profile")


def test_a_command_that_only_sleeps(tmp_path: Path):
    proc = _profile(tmp_path, "--", sys.executable, "-c", "import time; time.sleep(1.2)")
    _one_line_refusal(proc)


@pytest.mark.parametrize("make", ["text", "garbage", "folder", "fifo", "dangling symlink", "device",
                                  "missing", "empty-name", "no-exec"])
def test_not_a_program(tmp_path: Path, make: str):
    target = tmp_path / "thing"
    if make == "text":
        target.write_text("just words\n")
        target.chmod(0o755)
    elif make == "garbage":
        target.write_bytes(os.urandom(4096))
        target.chmod(0o755)
    elif make in ("folder", "fifo", "dangling symlink", "device"):
        make_hostile(target, make)
    elif make == "no-exec":
        target.write_text("#!/bin/sh\necho hi\n")
    start = time.monotonic()
    proc = _profile(tmp_path, "--", "" if make == "empty-name" else str(target))
    assert time.monotonic() - start < 60  # a FIFO never blocks
    _one_line_refusal(proc)


def test_memory_of_a_non_python_command(tmp_path: Path):
    _one_line_refusal(_profile(tmp_path, "--memory", "--", "ls"), "Python")


def test_a_pid_that_is_gone(tmp_path: Path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    _one_line_refusal(_profile(tmp_path, "--pid", str(child.pid)), "no process")


def test_a_zombie_pid(tmp_path: Path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    time.sleep(0.5)  # exited, not yet reaped: a zombie
    try:
        _one_line_refusal(_profile(tmp_path, "--pid", str(child.pid)), "exited")
    finally:
        child.wait()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to start a process as another user")
def test_a_pid_that_is_not_ours(tmp_path: Path):
    other = subprocess.Popen(
        ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "/bin/sleep", "30"]
    )
    try:
        time.sleep(0.3)
        _one_line_refusal(_profile(tmp_path, "--pid", str(other.pid), "--duration", "1s"), "not yours")
    finally:
        other.kill()
        other.wait()


@pytest.mark.parametrize("pid", ["0", "-1", "abc", "99999999999999999999"])
def test_pid_that_is_not_a_pid(tmp_path: Path, pid: str):
    proc = _profile(tmp_path, "--pid", pid)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_our_own_shell_is_refused(tmp_path: Path):
    _one_line_refusal(_profile(tmp_path, "--pid", str(os.getpid())), "perfpack itself or the shell")


@pytest.mark.parametrize("name", ["../escape", "/abs", "a/b", ".hidden", "x" * 200, "bad\nname", "..", ""])
def test_bad_names(tmp_path: Path, name: str):
    proc = _profile(tmp_path, "--name", name, "--", sys.executable, "-c", WORK + "busy()")
    _one_line_refusal(proc, "--name")
    assert not (tmp_path.parent / "escape").exists()


def test_out_is_a_file_or_a_symlinked_run_folder(tmp_path: Path):
    (tmp_path / "file").write_text("x")
    _one_line_refusal(_profile(tmp_path, "--out", "file", "--", sys.executable, "-c", WORK + "busy()"))
    outside = tmp_path / "outside"
    (tmp_path / "profiles").mkdir()
    make_hostile(tmp_path / "profiles" / "run", "folder symlink", target=outside)
    proc = _profile(
        tmp_path, "--out", "profiles", "--name", "run", "--", sys.executable, "-c", WORK + "busy()"
    )
    _one_line_refusal(proc, "symbolic link")
    assert list(outside.iterdir()) == []


def test_hostile_file_names_and_output_stay_out_of_the_summary(tmp_path: Path):
    folder = tmp_path / "evil\x1b[31m\nname"
    folder.mkdir()
    prog = folder / "prog.py"
    # 20 MB of output with escape sequences: it goes to the output file, never to the summary
    prog.write_text(
        WORK + "import sys\nfor _ in range(2000):\n    sys.stdout.write('\\x1b[2J' + 'y' * 10000 + '\\n')\n"
        "busy()\n"
    )
    proc = _profile(tmp_path, "--", sys.executable, str(prog))
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.encode()) <= 2048
    assert "\x1b" not in proc.stdout and "busy" in proc.stdout
    assert "\\x1b" in proc.stdout  # the folder's name is shown, escaped
    data = json.loads(_profile(tmp_path, "--format", "json", "--", sys.executable, str(prog)).stdout)
    assert data["hotspots"][0]["file"] == str(prog)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b'{"kind": "cpu", "hotspots": [1, 2]}',
        b'{"kind": "cpu", "hotspots": [], "wall_s": NaN}',
        b"\xff\xfe garbage",
        b"[" * 100_000,
        b'{"kind": "memory", "sites": "no"}',
    ],
)
def test_diff_of_damaged_profiles(tmp_path: Path, content: bytes):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    good = tmp_path / "good"
    good.mkdir()
    (good / "profile.json").write_text(
        json.dumps(
            {
                "kind": "cpu",
                "name": "g",
                "hotspots": [
                    {"function": "f", "file": "/x.py", "line": 1, "self_pct": 50.0, "total_pct": 60.0}
                ],
            }
        )
    )
    proc = run_perfpack("profile", "diff", str(good), str(bad), cwd=tmp_path)
    _one_line_refusal(proc)


def test_diff_refuses_fifo_missing_and_mixed_kinds(tmp_path: Path):
    make_hostile(tmp_path / "fifo.json", "fifo")
    cpu = tmp_path / "cpu"
    cpu.mkdir()
    (cpu / "profile.json").write_text(json.dumps({"kind": "cpu", "name": "c", "hotspots": []}))
    mem = tmp_path / "mem"
    mem.mkdir()
    (mem / "profile.json").write_text(json.dumps({"kind": "memory", "name": "m", "sites": []}))
    _one_line_refusal(
        run_perfpack("profile", "diff", str(cpu), str(tmp_path / "fifo.json"), cwd=tmp_path, timeout=60),
        "not a regular file",
    )
    _one_line_refusal(run_perfpack("profile", "diff", "nope", str(cpu), cwd=tmp_path), "no profile")
    _one_line_refusal(run_perfpack("profile", "diff", str(cpu), str(mem), cwd=tmp_path), "cannot compare")


def test_unknown_engine_and_conflicting_arguments(tmp_path: Path):
    _one_line_refusal(_profile(tmp_path, "--engine", "valgrind", "--", "true"), "--engine")
    _one_line_refusal(_profile(tmp_path, "--memory", "--engine", "perf", "--", "true"), "--engine")
    _one_line_refusal(_profile(tmp_path, "--pid", "1", "--", "true"), "either")
    _one_line_refusal(_profile(tmp_path, "--memory", "--pid", str(os.getppid())), "--memory")


def test_a_daemon_started_by_the_program_does_not_outlive_perfpack(tmp_path: Path):
    prog = tmp_path / "daemonizes.py"
    prog.write_text(
        WORK + "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        time.sleep(120)\n    os._exit(0)\nbusy()\n"
    )
    proc = _profile(tmp_path, "--", sys.executable, str(prog))
    assert proc.returncode == 0, proc.stderr
    time.sleep(0.3)
    assert not _strays(str(prog))


def test_perfpack_terminated_leaves_nothing_running(tmp_path: Path):
    prog = tmp_path / "forever.py"
    prog.write_text("def spin_forever():\n    while True:\n        sum(range(1000))\nspin_forever()\n")
    proc = subprocess.Popen([sys.executable, "-m", "perfpack", "profile", "--", sys.executable, str(prog)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    proc.terminate()
    proc.communicate(timeout=60)
    time.sleep(0.3)
    assert not _strays(str(prog))
