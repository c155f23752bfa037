"""The one `git log --numstat -z` pass of `perfpack commits check`: its command line, start and stop.

Light on purpose (os, subprocess and perfpack.project only): the pass can then start before click,
GitPython and the rules are imported, and git diffs on one core while Python imports on the other.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError

# One record per commit: RS, full hash, parents, raw message; numstat entries follow, NUL-terminated.
LOG_FORMAT = "--format=%x1e%H%x00%P%x00%B"
# Options pinned so user configuration cannot change the counts or the output's shape (gitlog and the hook).
DIFF_OPTIONS = ("--no-color", "--no-ext-diff", "--no-textconv", "--no-relative", "-M", "--numstat", "-z")


def range_revisions(spec: str) -> list[str]:
    """git log's revision arguments for an explicit RANGE (not validated: see gitlog.resolve_range)."""
    # As `git log RANGE` reads it: A..B, A...B, R (all of R's history, roots included), R^! (R alone).
    return [spec.strip()]


def log_command(revisions: list[str], *, merges: bool = False) -> list[str]:
    """The one `git log` pass: full hashes, parents, raw messages and numstat, NUL-separated."""
    return ["log", "--root", "--encoding=UTF-8", "--no-show-signature", *DIFF_OPTIONS, LOG_FORMAT,
            "--diff-merges=first-parent" if merges else "--diff-merges=off", *revisions, "--"]


def start_log(cwd: Path | str, revisions: list[str], *, merges: bool = False) -> Any:
    """Start the `git log` pass now and return the process (stdout and stderr are pipes).

    Started directly rather than through GitPython's command interface so that it can start before
    GitPython is imported: that import alone costs ~120 ms, a fifth of git's whole pass over 5,000
    commits. The environment and the executable are the ones GitPython would use.
    """
    env = {**os.environ, "LANGUAGE": "C", "LC_ALL": "C"}  # as GitPython runs git
    executable = os.environ.get("GIT_PYTHON_GIT_EXECUTABLE") or "git"
    try:
        process = subprocess.Popen([executable, *log_command(revisions, merges=merges)], cwd=cwd, env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise PerfpackError(f"cannot run git: {exc.strerror or exc}",
                            hint="install git and make sure it is on PATH") from None
    _grow_pipe(process.stdout)
    return process


def stop(process: Any) -> None:
    """End a started `git log` whose output is no longer wanted."""
    if process.poll() is None:
        process.kill()
    process.wait()
    process.stdout.close()
    process.stderr.close()


def _grow_pipe(stream: Any) -> None:
    """Let git write ahead while Python checks a batch: a 64 KiB pipe would stall git (Linux only)."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError, AttributeError):
        pass


def start_early(root: Path, spec: str | None, *, merges: bool) -> Any:
    """The pass for an explicit RANGE, started now, or None when there is none to start.

    Never a RANGE that git would read as an option (`--output=FILE` writes a file): that one goes to
    gitlog.resolve_range, which refuses it with a clear message.
    """
    if spec is None or not spec.strip() or spec.strip().startswith("-") or not Path(root).is_dir():
        return None
    return start_log(root, range_revisions(spec), merges=merges)


# The pass prestart() began before click was imported: (root, RANGE, merges, process).
_prestarted: tuple | None = None


def prestart(args: list[str]) -> None:
    """`perfpack commits check RANGE [--format F]`: start the pass before the CLI imports click.

    Called by perfpack.cli with the arguments after `commits`; click, GitPython and the rules then load
    while git runs. Any other form, or any trouble here, starts nothing: check_range() starts the pass
    itself and reports the trouble properly. Merge commits are diffed only when the configuration's
    `skip` leaves them out; check_range() restarts the pass if that guess was wrong.
    """
    global _prestarted
    if args[:1] != ["check"]:
        return
    ranges: list[str] = []
    rest = iter(args[1:])
    for arg in rest:
        if arg == "--format":
            next(rest, None)
        elif not arg.startswith("--format="):
            if arg.startswith("-"):
                return  # -C, --staged, --help, ...: the ordinary path
            ranges.append(arg)
    if len(ranges) != 1:
        return
    try:
        from perfpack.project import find_project_root, load_config

        root = find_project_root(Path.cwd())
        skip = load_config(root, "commits").get("skip")
        merges = isinstance(skip, list) and "merge" not in skip  # merges are skipped by default
        _prestarted = (root, ranges[0], merges, start_early(root, ranges[0], merges=merges))
    except Exception:
        _prestarted = None


def take_prestarted(root: Path, spec: str | None, *, merges: bool) -> Any:
    """The pass prestart() began for exactly this root, RANGE and merge setting, else a new one (or None)."""
    global _prestarted
    early, _prestarted = _prestarted, None
    if early is not None:
        if early[:3] == (root, spec, merges):
            return early[3]
        if early[3] is not None:
            stop(early[3])
    return start_early(root, spec, merges=merges)
