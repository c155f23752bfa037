"""What the hook benchmarks (route.py, evidence.py) share: the hook command of a project that
`perfpack install` set up, pointing at this checkout, and one timed run of a command."""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / "src" / "perfpack" / "hook.py"


def installed_target(project: Path) -> Any:
    """The install Target of `project`, its .claude/perfpack/local links made as `perfpack install` makes
    them (to this interpreter and this checkout's hook.py): hook_argv(target, EVENT) is the installed command.

    perfpack must be importable (the benchmark puts ROOT/src on sys.path first).
    """
    from perfpack.install.core import Target

    # An installed wheel has bytecode; this checkout may not (PYTHONDONTWRITEBYTECODE), so build it once.
    compileall.compile_dir(str(ROOT / "src" / "perfpack"), quiet=1)
    target = Target(project / ".claude", project)
    target.local.mkdir(parents=True, exist_ok=True)
    for name, real in (("python", os.path.realpath(sys.executable)), ("hook.py", HOOK)):
        if not (target.local / name).is_symlink():
            (target.local / name).symlink_to(real)
    return target


def time_run(argv: list[str], stdin: bytes, env: dict[str, str]) -> float:
    """Seconds of one run of `argv` fed `stdin`, its output discarded."""
    start = time.perf_counter()
    subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=False)
    return time.perf_counter() - start
