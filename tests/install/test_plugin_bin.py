"""The plugin's bin/perfpack: Claude Code puts it on PATH for /perfpack:optimize's `!` lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "bin" / "perfpack"
pytestmark = pytest.mark.skipif(not Path("/bin/sh").exists(), reason="needs a POSIX shell")


def run(args: list[str], path: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SHIM), *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": path, "HOME": os.environ.get("HOME", "/tmp"), **env})


def python_dir(tmp_path: Path) -> str:
    """A folder with only `python3` (this interpreter) on it, so no real perfpack is on PATH."""
    folder = tmp_path / "pybin"
    folder.mkdir()
    (folder / "python3").symlink_to(sys.executable)
    return f"{folder}:/usr/bin:/bin"


def test_snapshot_without_perfpack_on_path(tmp_path: Path) -> None:
    proc = run(["snapshot", "--project", str(tmp_path)], f"{SHIM.parent}:{python_dir(tmp_path)}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"### Snapshot of {tmp_path}")


def test_snapshot_never_fails_even_without_python(tmp_path: Path) -> None:
    proc = run(["snapshot"], f"{SHIM.parent}:/usr/bin:/bin", PERFPACK_PYTHON=str(tmp_path / "no-python"))
    assert proc.returncode == 0 and "snapshot: skipped" in proc.stdout


def test_a_real_perfpack_on_path_wins(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "perfpack").write_text('#!/bin/sh\necho "real perfpack: $*"\n')
    (other / "perfpack").chmod(0o755)
    proc = run(["snapshot", "--format", "json"], f"{SHIM.parent}:{other}:/usr/bin:/bin")
    assert proc.stdout == "real perfpack: snapshot --format json\n"


def test_other_commands_run_the_plugin_source(tmp_path: Path) -> None:
    proc = run(["--version"], python_dir(tmp_path))
    # Needs click in this interpreter (the venv has it); a system python3 without click would exit 1.
    assert proc.returncode == 0 and "perfpack, version" in proc.stdout
