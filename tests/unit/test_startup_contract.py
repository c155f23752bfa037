"""The start-up contract: each entry point that runs per prompt, per agent action or per command, and the
modules it must not import (they cost a large share of a bare interpreter start, see DESIGN.md).

One table for every entry point; read with `python -X importtime`, which reports every import even when
the process ends with os._exit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "src" / "perfpack" / "hook.py"
LAUNCHER = ROOT / "scripts" / "perfpack"
HEAVY = {"yaml", "jsonschema", "git", "psutil", "click"}  # each 5-50 ms; only in the commands that need them
STDLIB_SLOW = {"re", "json", "enum", "typing", "subprocess", "shlex", "pathlib", "dataclasses"}


def _payload(**fields: object) -> bytes:
    base = {"session_id": "s", "transcript_path": "/dev/null", "cwd": "/tmp", "permission_mode": "default"}
    return json.dumps({**base, **fields}).encode()


# name -> (argv after the interpreter, stdin, modules that must NOT be imported)
ENTRY_POINTS = {
    "prompt hook": (["-S", str(HOOK), "user-prompt-submit", "--rules", str(ROOT / "hooks" / "routes.json")],
                    _payload(hook_event_name="UserPromptSubmit",
                             prompt="the checkout API is slow under load"),
                    HEAVY | STDLIB_SLOW | {"os", "sqlite3"}),
    "commit hook, not a commit": (["-S", str(HOOK), "pre-tool-use"],
                                  _payload(hook_event_name="PreToolUse", tool_name="Bash",
                                           tool_input={"command": "ls -la && pytest -q"}),
                                  HEAVY | STDLIB_SLOW | {"_json", "sqlite3"}),
    "commit hook, a commit elsewhere": (["-S", str(HOOK), "pre-tool-use"],
                                        _payload(hook_event_name="PreToolUse", tool_name="Bash",
                                                 tool_input={"command": "git -C /nonexistent commit -m x"}),
                                        HEAVY | {"sqlite3", "subprocess"}),
    "memory write": ([str(LAUNCHER), "memory", "insight", "performance-engineer",
                      '{"area": "caching", "insight": "warm the cache", "impact": "high", '
                      '"confidence": 0.9}'],
                     b"", HEAVY | {"re", "json", "enum", "typing"}),
    "--help": ([str(LAUNCHER), "--help"], b"", HEAVY - {"click"} | {"sqlite3"}),
    "snapshot": ([str(LAUNCHER), "snapshot"], b"", {"yaml", "jsonschema", "git"}),
}


def _imported(argv: list[str], stdin: bytes, cwd: Path) -> tuple[set[str], subprocess.CompletedProcess]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PERFPACK_MEMORY_DB": str(cwd / "memory.db")}
    proc = subprocess.run([sys.executable, "-X", "importtime", *argv], input=stdin, capture_output=True,
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
    argv, stdin, forbidden = ENTRY_POINTS[name]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    modules, proc = _imported(argv, stdin, tmp_path)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode()[-2000:]
    assert modules, "importtime reported nothing: the entry point did not run"
    assert not (modules & forbidden), f"{name} imported {sorted(modules & forbidden)}"
