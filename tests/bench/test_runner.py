"""Measurements of real subprocesses: peak RSS of the tree, timeouts that leave nothing behind."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from perfpack.bench.runner import resolve_command, run_once

MIB = 1024 * 1024
PY = sys.executable


def _baseline_interpreter_rss() -> int:
    """RSS of a bare interpreter of the kind the tests start, measured the same way."""
    return run_once(resolve_command([PY, "-c", "import time; time.sleep(0.2)"], shell=False)).rss_bytes or 0


def _alloc(mib: int, hold: float) -> str:
    return f"import time; b = b'x' * ({mib} * 1024 * 1024); time.sleep({hold})"


@pytest.mark.parametrize("hold", [0.3, 0.0])
def test_child_allocating_200mb_is_reported_within_10_percent(hold):
    run = run_once(resolve_command([PY, "-c", _alloc(200, hold)], shell=False))
    assert run.exit_code == 0
    base = _baseline_interpreter_rss()
    expected = 200 * MIB + base
    assert run.rss_bytes is not None
    assert abs(run.rss_bytes - expected) <= 0.10 * expected, (run.rss_bytes / MIB, base / MIB)


def test_grandchild_memory_counts_and_the_tree_is_summed():
    # parent holds 100 MiB while its child holds another 100 MiB: the tree peaks near 200 MiB
    # (a per-process maximum, like wait4's ru_maxrss, would say ~100 MiB).
    script = textwrap.dedent(f"""
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", {_alloc(100, 0.6)!r}])
        time.sleep(0.1)
        b = b'x' * (100 * 1024 * 1024)
        child.wait()
    """)
    run = run_once(resolve_command([PY, "-c", script], shell=False))
    assert run.exit_code == 0
    base = _baseline_interpreter_rss()
    expected = 200 * MIB + 2 * base
    assert abs(run.rss_bytes - expected) <= 0.10 * expected, (run.rss_bytes / MIB, base / MIB)


def test_only_grandchild_allocates_through_a_shell():
    run = run_once(resolve_command([f"{PY} -c \"{_alloc(200, 0.3)}\"; true"], shell=True))
    assert run.exit_code == 0
    assert 0.9 * 200 * MIB <= run.rss_bytes <= 1.1 * (200 * MIB + _baseline_interpreter_rss()) + 4 * MIB


def test_short_command_does_not_report_perfpacks_own_memory():
    # wait4's ru_maxrss for `true` carries our interpreter's high-water mark; it must not leak through.
    run = run_once(resolve_command(["true"], shell=False))
    assert run.exit_code == 0
    assert run.rss_bytes is None or run.rss_bytes < 20 * MIB


def test_exit_code_and_signal_are_reported():
    assert run_once(resolve_command(["false"], shell=False)).exit_code == 1
    assert run_once(resolve_command(["kill -TERM $$"], shell=True)).exit_code == -15


def _spawner(tmp_path: Path, tag: str) -> tuple[Path, Path]:
    """A process tree whose `sleep` descendants carry `tag` in their duration, so the test finds its own."""
    pidfile = tmp_path / "pids.json"
    script = tmp_path / "spawner.py"
    script.write_text(textwrap.dedent(f"""
        import json, subprocess, sys, time
        kids = [subprocess.Popen(["sleep", "60.{tag}"]),
                subprocess.Popen(["sleep", "61.{tag}"], start_new_session=True),  # escapes the process group
                subprocess.Popen([sys.executable, "-c", "import subprocess, time; "
                                  "subprocess.Popen(['sleep', '62.{tag}']); time.sleep(60)"])]
        time.sleep(0.3)
        import os
        pids = [os.getpid()] + [k.pid for k in kids]
        json.dump(pids, open({str(pidfile)!r}, "w"))
        time.sleep(60)
    """))
    return script, pidfile


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_timeout_kills_the_whole_tree(tmp_path):
    tag = f"{os.getpid()}{time.monotonic_ns() % 100000:05d}"
    script, pidfile = _spawner(tmp_path, tag)
    run = run_once(resolve_command([PY, str(script)], shell=False), timeout=1.5)
    assert run.timed_out and run.exit_code == -9
    assert run.wall_s < 5
    pids = json.loads(pidfile.read_text())
    assert len(pids) == 4
    # also the grand-grandchild `sleep 62.TAG`, found by its command line (only this test's own: the tag)
    ours = [["sleep", f"{n}.{tag}"] for n in (60, 61, 62)]
    leftovers = [p for p in psutil.process_iter(["cmdline"])
                 if p.info["cmdline"] and p.info["cmdline"][:2] in ours and not _gone(p.pid)]
    assert all(_gone(p) for p in pids), [p for p in pids if not _gone(p)]
    assert leftovers == []


def test_timeout_through_the_cli_leaves_nothing(tmp_path, perfpack):
    script, pidfile = _spawner(tmp_path, f"{os.getpid()}{time.monotonic_ns() % 100000:05d}")
    proc = perfpack("bench", "--runs", "1", "--warmup", "0", "--timeout", "1.5", "--", PY, str(script),
                    cwd=tmp_path)
    assert proc.returncode == 2
    assert "timed out" in proc.stderr and "Traceback" not in proc.stderr
    pids = json.loads(pidfile.read_text())
    assert all(_gone(p) for p in pids)
