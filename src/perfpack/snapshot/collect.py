"""Run the snapshot probes in daemon threads under one deadline; a probe that fails or is late is skipped."""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfpack.snapshot import probes

# Hard cap for the whole command: /optimize waits on it before the model sees anything.
HARD_CAP_S = 4.0


@dataclass
class Snapshot:
    project: str
    sections: dict[str, Any] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            **self.sections,
            "skipped": [{"what": what, "why": why} for what, why in self.skipped],
            "elapsed_s": round(self.elapsed_s, 3),
        }


# name -> (probe, its own budget in seconds); each is also cut off by HARD_CAP_S.
PROBES: dict[str, tuple[Callable[[Path | None, probes.Skips], Any], float]] = {
    "host": (probes.host, 2.0),
    "git": (probes.git, 2.5),
    "stack": (probes.stack, 2.5),
    "containers": (probes.containers, 1.5),
    "baselines": (probes.baselines, 1.5),
    "insights": (probes.insights, 1.5),
    "memory": (probes.memory, 1.5),
}


def take_snapshot(
    project: str | os.PathLike[str] | None = None,
    *,
    hard_cap_s: float = HARD_CAP_S,
    only: list[str] | None = None,
) -> Snapshot:
    """Collect every probe in parallel; never raises for a probe's trouble, stops waiting at hard_cap_s."""
    started = time.perf_counter()
    root, problem = _resolve_project(project)
    snap = Snapshot(project=str(root) if root else str(project))
    if problem:
        snap.skipped.append(("project", problem))
    results: dict[str, Any] = {}
    skips: dict[str, probes.Skips] = {}
    threads: dict[str, threading.Thread] = {}
    names = [name for name in PROBES if only is None or name in only]
    for name in names:
        probe, _budget = PROBES[name]
        skips[name] = probes.Skips()
        thread = threading.Thread(
            target=_run_probe,
            args=(name, probe, root, skips[name], results),
            name=f"perfpack-snapshot-{name}",
            daemon=True,
        )
        threads[name] = thread
        thread.start()
    for name in names:
        remaining = started + min(PROBES[name][1], hard_cap_s) - time.perf_counter()
        threads[name].join(max(0.0, remaining))
    for name in names:
        if threads[name].is_alive():
            snap.skipped.append((name, f"timed out after {min(PROBES[name][1], hard_cap_s):.1f} s"))
            continue
        snap.skipped.extend(skips[name].items)
        outcome = results.get(name)
        if isinstance(outcome, BaseException):
            snap.skipped.append((name, f"probe failed: {type(outcome).__name__}: {_one_line(outcome)}"))
        elif outcome is not None:
            snap.sections[name] = outcome
    snap.sections["toolkit"] = perfpack_command()
    snap.elapsed_s = time.perf_counter() - started
    return snap


def _run_probe(
    name: str, probe: Callable[..., Any], root: Path | None, skips: probes.Skips, results: dict[str, Any]
) -> None:
    try:
        results[name] = probe(root, skips)
    except BaseException as exc:
        results[name] = exc


def _resolve_project(project: str | os.PathLike[str] | None) -> tuple[Path | None, str | None]:
    try:
        if project is None:
            try:
                from perfpack.project import find_project_root
            except ImportError:  # an old Python (no tomllib) behind the plugin's libexec/perfpack
                return Path.cwd(), None
            return find_project_root(), None
        path = Path(project).expanduser()
        if not path.exists():
            return None, f"{project} does not exist"
        if not path.is_dir():
            return None, f"{project} is not a directory"
        return path.resolve(), None
    except (OSError, ValueError, RuntimeError) as exc:
        what = repr(str(project)) if project is not None else "the current folder"
        return None, f"cannot use {what}: {_one_line(exc)}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""


def perfpack_command() -> dict[str, Any]:
    """How an agent's Bash calls reach this perfpack: `perfpack` when PATH finds it, else an absolute path.

    An install into a virtual environment that is not on Claude Code's PATH would otherwise make every
    `perfpack bench`/`memory` call in the agents fail with "command not found".
    """
    if shutil.which("perfpack"):
        return {"command": "perfpack", "on_path": True}
    script = Path(sys.executable).parent / "perfpack"
    if script.is_file() and os.access(script, os.X_OK):
        return {"command": str(script), "on_path": False}
    return {"command": f"{sys.executable} -m perfpack", "on_path": False}
