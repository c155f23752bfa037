"""The plugin's libexec/perfpack and the SessionStart hook (hooks/plugin-path.sh) that puts its folder on
the PATH of Claude Code's Bash tool and /perfpack:optimize's `!` lines through $CLAUDE_ENV_FILE. Not
bin/: Claude Code would put that on PATH itself, but claude.ai's plugin directory refuses a plugin with
files in bin/ (a warning of `claude plugin validate` since 2.1.337). tests/e2e/test_e2e_sessions.py runs
it in the real CLI."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "libexec" / "perfpack"
HOOK = ROOT / "hooks" / "plugin-path.sh"
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


def test_the_plugin_has_no_bin_folder() -> None:
    assert not (ROOT / "bin").exists()


def test_hooks_json_runs_the_path_hook_at_session_start() -> None:
    data = json.loads((ROOT / "hooks" / "hooks.json").read_text())
    commands = [h["command"] for group in data["hooks"]["SessionStart"] for h in group["hooks"]]
    assert commands == ['sh "${CLAUDE_PLUGIN_ROOT}/hooks/plugin-path.sh"']


def plugin_copy(tmp_path: Path, name: str) -> Path:
    """A plugin folder named NAME (spaces, quotes, `$` ...) holding the hook and the launcher."""
    root = tmp_path / name
    (root / "hooks").mkdir(parents=True)
    (root / "libexec").mkdir()
    shutil.copy2(HOOK, root / "hooks" / HOOK.name)
    shutil.copy2(SHIM, root / "libexec" / "perfpack")
    return root


def session_start(root: Path, env_file: Path | None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
    if env_file is not None:
        env["CLAUDE_ENV_FILE"] = str(env_file)
    return subprocess.run(["sh", str(root / "hooks" / HOOK.name)], capture_output=True, text=True,
                          timeout=60, env=env, input="{}")


@pytest.mark.parametrize("name", ["plugin", "my plugins/perf pack", "it's $HOME `x` \\ \"q\""])
def test_session_start_puts_the_launcher_first_on_the_bash_tools_path(tmp_path: Path, name: str) -> None:
    root = plugin_copy(tmp_path, name)
    env_file = tmp_path / "claude-env.sh"
    env_file.write_text("export FOO=1\n")
    for _ in range(2):  # a resumed session runs the hook again on the same file: one line only
        proc = session_start(root, env_file)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    lines = env_file.read_text().splitlines()
    assert lines[0] == "export FOO=1" and len(lines) == 2
    # What Claude Code's Bash tool does: source the file, then run the command.
    script = f'. {shlex.quote(str(env_file))}; command -v perfpack; echo "$PATH"'
    seen = subprocess.run(["bash", "-c", script],
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    found, path = seen.stdout.splitlines()
    assert found == str(root / "libexec" / "perfpack")
    assert path == f"{root / 'libexec'}:/usr/bin:/bin"


def test_session_start_without_claude_env_file_does_nothing(tmp_path: Path) -> None:
    root = plugin_copy(tmp_path, "plugin")
    proc = session_start(root, None)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plugin"]


def test_session_start_fails_open(tmp_path: Path) -> None:
    root = plugin_copy(tmp_path, "plugin")
    unwritable = tmp_path / "no-such-folder" / "env.sh"
    proc = session_start(root, unwritable)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    colon = plugin_copy(tmp_path, "a:b")  # PATH cannot carry a `:`: nothing written
    env_file = tmp_path / "env.sh"
    assert session_start(colon, env_file).returncode == 0 and not env_file.exists()
