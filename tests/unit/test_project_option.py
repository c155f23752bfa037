"""`--project` naming a folder that does not exist is a one-line error (exit 2) in every command that
takes it, and nothing is created there: a typo must not grow a `.claude/perfpack/` tree outside the
project (load, profile, explain and evidence used to write their ledger and details into it)."""

from __future__ import annotations

import sys

import pytest

from tests.conftest import run_perfpack

COMMANDS = [
    ["bench", "--runs", "2", "--", sys.executable, "-c", "pass"],
    ["history", "x"],
    ["baseline", "list"],
    ["report"],
    ["profile", "--", sys.executable, "-c", "import time; time.sleep(1.5)"],
    ["profile", "diff", "a", "b"],
    ["load", "http://127.0.0.1:9/", "--duration", "1s", "--warmup", "0s", "-q"],
    ["explain", "--db", "app.db", "--sql", "SELECT 1"],
    ["evidence", "list"],
    ["evidence", "check", "--message", "msg.txt"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_a_missing_project_folder_is_refused_and_never_created(tmp_path, argv):
    (tmp_path / "app.db").write_bytes(b"")
    (tmp_path / "msg.txt").write_text("p95 went from 300 ms to 120 ms\n")
    missing = tmp_path / "no" / "such-project"
    where = argv.index("--") if "--" in argv else len(argv)
    args = [*argv[:where], "--project", str(missing), *argv[where:]]
    proc = run_perfpack(*args, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith(f"perfpack: error: --project {missing}: not a folder"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "no").exists()
