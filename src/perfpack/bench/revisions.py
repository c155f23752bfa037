"""Temporary git worktrees of two revisions for `perfpack compare --rev A --rev B -- CMD`.

The worktrees live in a private temporary folder and are removed whatever happens: a normal end, an
error, Ctrl-C (KeyboardInterrupt) or SIGTERM/SIGHUP (turned into an exception for the clean-up, then
re-raised so the process still ends by that signal). Only SIGKILL cannot be cleaned up after; the next
run prunes what it left in git's list of worktrees. Hooks are not run in them (core.hooksPath=/dev/null):
the checkouts are perfpack's own scratch.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.terminal import one_line

PREFIX = "perfpack-rev-"
_GIT_TIMEOUT = 300  # a checkout of a big repository can take a while; never forever


@dataclass
class Worktree:
    rev: str  # as the user wrote it
    commit: str  # full id
    subject: str
    path: Path  # the worktree's top
    cwd: Path  # where the command runs: the same sub-folder as the user's current one


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived; raised so `finally` blocks run, then the signal is re-raised."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _git(args: list[str], cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            ["git", "-c", "core.hooksPath=/dev/null", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_GIT_TIMEOUT,
            env=env,
        )
    except FileNotFoundError:
        raise PerfpackError("git is not installed", hint="--rev needs git") from None
    except subprocess.TimeoutExpired:
        raise PerfpackError(f"git {args[0]} took over {_GIT_TIMEOUT} s") from None
    if check and proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise PerfpackError(f"git {args[0]}: {one_line(last, limit=200)}")
    return proc


def repo_top(start: Path) -> Path:
    proc = _git(["rev-parse", "--show-toplevel"], start, check=False)
    if proc.returncode != 0:
        raise PerfpackError(
            f"{one_line(str(start))} is not inside a git repository",
            hint="--rev compares two revisions of a git repository; run it inside one",
        )
    return Path(proc.stdout.strip())


def resolve(top: Path, rev: str) -> tuple[str, str]:
    """(full commit id, subject) of `rev`, or a one-line error."""
    if not rev or rev.startswith("-") or "\0" in rev:
        raise PerfpackError(
            f"invalid revision {one_line(repr(rev))}", hint="a commit, branch or tag, e.g. HEAD~1"
        )
    proc = _git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], top, check=False
    )
    if proc.returncode != 0:
        raise PerfpackError(
            f"unknown revision {one_line(repr(rev))} in {one_line(str(top))}",
            hint="a commit, branch or tag that `git rev-parse` knows, e.g. HEAD~1 or main",
        )
    commit = proc.stdout.strip()
    subject = _git(["log", "-1", "--format=%s", commit], top, check=False).stdout.strip()
    return commit, subject


def _on_signal(signum: int, frame: Any) -> None:
    raise Terminated(signum)


@contextmanager
def worktrees(start: Path, revs: list[str], *, setup: str | None = None) -> Iterator[list[Worktree]]:
    """Check out each revision in a temporary worktree; yield them; always remove them."""
    top = repo_top(start)
    resolved = [(rev, *resolve(top, rev)) for rev in revs]
    rel = os.path.relpath(os.path.realpath(start), os.path.realpath(top))
    rel = "." if rel.startswith("..") else rel
    _git(["worktree", "prune"], top, check=False)  # forget worktrees a SIGKILLed run left behind
    handlers = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            handlers[signum] = signal.signal(signum, _on_signal)
        except ValueError:  # not the main thread: rely on the caller
            pass
    base = Path(tempfile.mkdtemp(prefix=PREFIX))
    made: list[Path] = []
    terminated: Terminated | None = None
    try:
        trees = []
        for i, (rev, commit, subject) in enumerate(resolved):
            path = base / f"{i + 1}-{commit[:12]}"
            made.append(path)
            _git(["worktree", "add", "--detach", "--quiet", str(path), commit], top)
            cwd = path / rel
            if not cwd.is_dir():
                raise PerfpackError(
                    f"{one_line(rel)} does not exist at revision {one_line(rev)}",
                    hint="run from a folder that exists in both revisions (e.g. the top)",
                )
            trees.append(Worktree(rev=rev, commit=commit, subject=subject, path=path, cwd=cwd))
        if setup:
            for tree in trees:
                _setup(tree, setup)
        yield trees
    except Terminated as exc:
        terminated = exc
    finally:
        # A second Ctrl-C or SIGTERM must not cut the clean-up short: hold them off until it is done.
        held = {}
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            try:
                held[signum] = signal.signal(signum, signal.SIG_IGN)
            except ValueError:
                pass
        for path in made:
            _git(["worktree", "remove", "--force", "--force", str(path)], top, check=False)
        shutil.rmtree(base, ignore_errors=True)
        _git(["worktree", "prune"], top, check=False)
        for signum, handler in held.items():
            signal.signal(signum, handler)
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    if terminated is not None:
        # Cleaned up: now end the way the signal meant, so the caller sees "killed by SIGTERM".
        signal.signal(terminated.signum, signal.SIG_DFL)
        os.kill(os.getpid(), terminated.signum)
        raise terminated  # not reached: the default action ends the process


def _setup(tree: Worktree, command: str) -> None:
    """Run the user's --setup command once in a worktree (e.g. a build); its failure stops the comparison."""
    try:
        proc = subprocess.run(
            ["/bin/sh", "-c", command],
            cwd=tree.cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        raise PerfpackError(f"--setup could not start: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        tail = "\n".join(
            f"    | {one_line(line, limit=200)}" for line in proc.stderr.strip().splitlines()[-8:]
        )
        raise PerfpackError(
            f"--setup exited with {proc.returncode} at revision {one_line(tree.rev)} ({tree.commit[:12]})",
            hint="fix the setup command" + (f"\n  its stderr ended with:\n{tail}" if tail else ""),
        )
