"""Every hook.py event under hostile payloads: exit 0, no output unless it is valid JSON advice, no stderr,
bounded time, nothing written through a symlink (attack run after issue 13)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile import make_hostile

REPO = Path(__file__).resolve().parents[2]
HOOK = REPO / "src" / "perfpack" / "hook.py"
EVENTS = ["user-prompt-submit", "pre-tool-use", "subagent-stop", "stop", "no-such-event"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / ".claude" / "perfpack").mkdir(parents=True)
    shutil.copy(REPO / "hooks" / "routes.json", root / ".claude" / "perfpack" / "routes.json")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _run(event: str, data: bytes, project: Path, **env: str) -> tuple[subprocess.CompletedProcess, float]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PERFPACK_", "CLAUDE_", "XDG_"))}
    environ.update({"CLAUDE_PROJECT_DIR": str(project), "HOME": str(project.parent), **env})
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-S", str(HOOK), event], input=data, capture_output=True,
                          cwd=project, env=environ, timeout=120)
    return proc, time.monotonic() - start


def _payloads(project: Path, fifo: Path) -> dict[str, bytes]:
    def base(**extra: object) -> bytes:
        data = {"session_id": "s1", "transcript_path": str(fifo), "cwd": str(project),
                "agent_type": "performance-engineer", "agent_transcript_path": str(fifo),
                "prompt": "the checkout endpoint is slow, p99 latency is 3 seconds", "tool_name": "Bash",
                "tool_input": {"command": "git commit -m 'x'"}, "stop_hook_active": False}
        data.update(extra)
        return json.dumps(data).encode()

    return {
        "nul bytes": b"\0" * 1000,
        "not utf-8": b"\xff\xfe\xfd" * 1000,
        "11 MB": base(prompt="x" * (11 << 20)),
        "deep array": b"[" * 200_000 + b"]" * 200_000,
        "deep object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        "fifo transcripts": base(),
        "device transcripts": base(transcript_path="/dev/zero", agent_transcript_path="/dev/zero"),
        "traversal": base(cwd="/../../../../etc", transcript_path="../../../../etc/shadow"),
        "wrong types": json.dumps({"session_id": [], "prompt": {}, "cwd": 5, "tool_input": "git commit",
                                   "transcript_path": 7, "last_assistant_message": ["p99 3 s"],
                                   "agent_type": {"a": 1}}).encode(),
        "NaN and 1e400": b'{"prompt": NaN, "cwd": Infinity, "session_id": 1e400}',
        "100,000-digit number": b'{"prompt": "slow p99", "session_id": ' + b"9" * 100_000 + b"}",
        "1 MB of figures": base(last_assistant_message="p99 40-45 ms, " * 70_000),
        "git ... xcommit": base(tool_input={"command": "git " * 10_000 + "xcommit"}),
        "900 KB -m": base(tool_input={"command": "git commit -m '" + "a" * 900_000 + "'"}),
        "commit -F fifo": base(tool_input={"command": f"git commit -F {fifo}"}),
    }


def test_every_event_fails_open_in_bounded_time(project: Path, tmp_path: Path) -> None:
    fifo = make_hostile(tmp_path / "fifo", "fifo")
    slow = []
    for name, data in _payloads(project, fifo).items():
        for event in EVENTS:
            proc, seconds = _run(event, data, project)
            assert proc.returncode == 0 and proc.stderr == b"", (event, name, proc.stderr[-500:])
            if proc.stdout:
                json.loads(proc.stdout)  # advice is always valid JSON
            if seconds > 8:
                slow.append((event, name, round(seconds, 1)))
    assert not slow, f"hooks that took longer than 8 s: {slow}"


def test_the_debug_log_is_never_written_through_a_symlink(project: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    log = make_hostile(project / ".claude" / "perfpack" / "hook.log", "symlink", b"precious\n", target=victim)
    proc, _ = _run("stop", b"not json", project, PERFPACK_HOOK_DEBUG="1")  # a failure the hook logs
    assert proc.returncode == 0 and proc.stdout == b"" and proc.stderr == b""
    assert victim.read_text() == "precious\n"
    log.unlink()
    _run("stop", b"not json", project, PERFPACK_HOOK_DEBUG="1")
    assert log.is_file() and not log.is_symlink() and len(log.read_text().splitlines()) == 1


def test_the_debug_log_creates_no_claude_folder_where_there_is_none(tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    proc, _ = _run("stop", b"not json", bare, PERFPACK_HOOK_DEBUG="1")
    assert proc.returncode == 0 and proc.stdout == b""
    assert not (bare / ".claude").exists()
