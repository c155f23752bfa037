"""The start-up contract: each entry point that runs per prompt, per agent action or per command, and the
modules it must not import (they cost a large share of a bare interpreter start, see DESIGN.md).

One table for every entry point; read with `python -X importtime`, which reports every import even when
the process ends with os._exit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "src" / "perfpack" / "hook.py"
LAUNCHER = ROOT / "scripts" / "perfpack"
HEAVY = {"yaml", "jsonschema", "git", "psutil", "click"}  # each 5-50 ms; only in the commands that need them
STDLIB_SLOW = {"re", "json", "enum", "typing", "subprocess", "shlex", "pathlib", "dataclasses"}
# The memory write runs once per agent action: it talks to _sqlite3 directly (the sqlite3 package imports
# datetime) and spells paths as strings, without pathlib, shutil or tempfile and what they import.
MEMORY_WRITE = HEAVY | {"re", "json", "enum", "typing", "pathlib", "urllib", "ipaddress", "shutil",
                        "tempfile", "sqlite3", "datetime"}
INSIGHT = '{"area": "caching", "insight": "warm the cache", "impact": "high", "confidence": 0.9}'


def _payload(**fields: object) -> bytes:
    base = {"session_id": "s", "transcript_path": "/dev/null", "cwd": "/tmp", "permission_mode": "default"}
    return json.dumps({**base, **fields}).encode()


@dataclass(frozen=True)
class EntryPoint:
    argv: list[str]  # after the interpreter; "{tmp}" stands for the test's directory
    stdin: bytes
    forbidden: set[str]  # modules it must NOT import
    env_db: bool = True  # PERFPACK_MEMORY_DB set; without it the project's database and digest are used
    subdir: bool = False  # run from a folder below the project root


ENTRY_POINTS = {
    "prompt hook": EntryPoint(
        ["-S", str(HOOK), "user-prompt-submit", "--rules", str(ROOT / "hooks" / "routes.json")],
        _payload(hook_event_name="UserPromptSubmit", prompt="the checkout API is slow under load"),
        HEAVY | STDLIB_SLOW | {"os", "sqlite3"}),
    "commit hook, not a commit": EntryPoint(
        ["-S", str(HOOK), "pre-tool-use"],
        _payload(hook_event_name="PreToolUse", tool_name="Bash",
                 tool_input={"command": "ls -la && pytest -q"}),
        HEAVY | STDLIB_SLOW | {"_json", "sqlite3"}),
    "commit hook, a commit elsewhere": EntryPoint(
        ["-S", str(HOOK), "pre-tool-use"],
        _payload(hook_event_name="PreToolUse", tool_name="Bash",
                 tool_input={"command": "git -C /nonexistent commit -m x"}),
        HEAVY | {"sqlite3", "subprocess"}),
    "evidence hook, a pack agent's final message": EntryPoint(
        ["-S", str(HOOK), "subagent-stop"],
        _payload(hook_event_name="SubagentStop", stop_hook_active=False, agent_id="a",
                 agent_type="performance-engineer", agent_transcript_path="/dev/null",
                 last_assistant_message="p95 went from 1.64 s to 670 ms (2.4x) at 50 req/s; RSS 212 MB."),
        HEAVY | STDLIB_SLOW | {"os", "sqlite3"}),
    "evidence hook, the main session's stop": EntryPoint(
        ["-S", str(HOOK), "stop"],
        _payload(hook_event_name="Stop", stop_hook_active=False, last_assistant_message="ok"),
        HEAVY | STDLIB_SLOW | {"os", "sqlite3"}),
    "memory write": EntryPoint(
        [str(LAUNCHER), "memory", "insight", "performance-engineer", INSIGHT], b"", MEMORY_WRITE),
    "memory write, project database and digest": EntryPoint(
        [str(LAUNCHER), "memory", "insight", "performance-engineer", INSIGHT], b"", MEMORY_WRITE,
        env_db=False, subdir=True),
    "memory write, --db": EntryPoint(
        [str(LAUNCHER), "memory", "--db", "{tmp}/other.db", "task", "performance-engineer",
         '{"task_description": "t", "outcome": "success"}'], b"", MEMORY_WRITE),
    "--help": EntryPoint([str(LAUNCHER), "--help"], b"", HEAVY - {"click"} | {"sqlite3"}),
    "snapshot": EntryPoint([str(LAUNCHER), "snapshot"], b"", {"yaml", "jsonschema", "git"}),
}


def _imported(entry: EntryPoint, root: Path) -> tuple[set[str], subprocess.CompletedProcess]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root)}
    if entry.env_db:
        env["PERFPACK_MEMORY_DB"] = str(root / "memory.db")
    cwd = root / "sub" if entry.subdir else root
    cwd.mkdir(exist_ok=True)
    argv = [arg.replace("{tmp}", str(root)) for arg in entry.argv]
    proc = subprocess.run([sys.executable, "-X", "importtime", *argv], input=entry.stdin, capture_output=True,
                          cwd=cwd, env=env, timeout=60)
    modules = set()
    for line in proc.stderr.decode("utf-8", "replace").splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            modules.add(name)
            modules.add(name.split(".")[0])
    return modules, proc


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_entry_point_imports_only_what_it_needs(name, tmp_path):
    entry = ENTRY_POINTS[name]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    modules, proc = _imported(entry, tmp_path)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode()[-2000:]
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert modules, "importtime reported nothing: the entry point did not run"
    assert not (modules & entry.forbidden), f"{name} imported {sorted(modules & entry.forbidden)}"
