"""Journaled file transactions for install and uninstall: all of it happens, or none of it does.

Before the first change, the journal records every step with the state it replaces (the old bytes, the
old link target, or "absent") and is written atomically and fsync'd beside the Claude folder. The steps
are then applied in order, each atomic on its own (temp file + rename), and the journal is removed last.
A SIGKILL anywhere leaves either no journal (nothing changed yet, or everything done) or a journal that
the next `perfpack install` or `uninstall` uses first: an interrupted install is rolled back (the journal
holds the old bytes), an interrupted uninstall completed (it holds the new bytes). A failure inside the
run (a full disk, a read-only folder) is rolled back at once.

Every path a journal names is resolved and kept inside the target folder (`perfpack.safeio.contained`),
and must be one that install manages (`allowed`): a journal planted in a repository cannot direct writes
or deletions anywhere else.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.safeio import contained, loads_json_strict, read_user_bytes

JOURNAL_VERSION = 1
MAX_FILE_BYTES = 8 * 1024 * 1024  # settings.json, agents, .gitignore: far below this
MAX_JOURNAL_BYTES = 64 * 1024 * 1024

ABSENT, FILE, LINK, DIR = "absent", "file", "link", "dir"
BACK, FORWARD = "back", "forward"  # what the next run does with an interrupted transaction


@dataclass(frozen=True)
class State:
    """What is at a path: nothing, a regular file (bytes, mode), a symbolic link (target) or a folder."""

    kind: str
    data: bytes | None = None
    mode: int | None = None
    link: str | None = None
    sha256: str | None = None  # a file's hash when its bytes are not kept (read back from a journal)

    def digest(self) -> str | None:
        return hashlib.sha256(self.data).hexdigest() if self.data is not None else self.sha256

    def same_as(self, other: State) -> bool:
        if self.kind != other.kind:
            return False
        if self.kind == FILE:
            return self.digest() == other.digest()
        if self.kind == LINK:
            return self.link == other.link
        return True


@dataclass
class Step:
    """One change: make `rel` (relative to the root, '/'-separated) hold `after`.

    follow: `rel` may be a symbolic link to a file inside the root (a user's symlinked settings.json):
    its content is changed where it points and the link stays a link.
    if_empty: a folder removal that is skipped, not failed, when something of the user's is inside.
    """

    rel: str
    after: State
    follow: bool = False
    if_empty: bool = False
    before: State | None = None


@dataclass
class Outcome:
    """What running or recovering a transaction did."""

    applied: list[Step] = field(default_factory=list)
    kept_dirs: list[str] = field(default_factory=list)  # if_empty folders that were not empty
    recovered: str | None = None  # "rolled back an interrupted install (started ...)", if any
    left_alone: list[str] = field(default_factory=list)  # changed since the crash: not rolled back


class Transaction:
    """The journal of one target folder. `root`: every path lives inside it. `journal`: the file.

    `allowed(rel)` says whether install manages that path; anything else in a journal is refused.
    """

    def __init__(self, root: Path, journal: Path, allowed: Callable[[str], bool]) -> None:
        self.root = root
        self.journal = journal
        self.allowed = allowed

    # ------------------------------------------------------------------------------ public
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock on the journal's folder (no file created) for one install/uninstall."""
        import fcntl

        try:
            fd = os.open(self.journal.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError as exc:
            raise PerfpackError(f"{self.journal.parent}: cannot open: {exc.strerror or exc}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise PerfpackError(f"another perfpack install or uninstall is running in {self.root}",
                                    hint="wait for it to finish, then run the command again") from None
            yield
        finally:
            os.close(fd)  # releases the lock

    def pending(self) -> dict[str, Any] | None:
        """The interrupted run's journal, validated; None when there is none."""
        try:
            raw = read_user_bytes(self.journal, what="perfpack's install journal",
                                  max_bytes=MAX_JOURNAL_BYTES, follow_symlinks=False)
        except FileNotFoundError:
            return None
        return self._parse(raw)

    def recover(self) -> Outcome:
        """Finish an interrupted run, if its journal is there: an install is rolled back, an uninstall
        completed (its journal holds what it writes, not what it deletes: a full disk can still be
        cleaned up). Then the leftovers of killed writes beside the paths it names go."""
        outcome = Outcome()
        remove_temp_files(self.journal.parent, self.journal.name)
        record = self.pending()
        if record is None:
            return outcome
        steps = record["steps"]
        for step in steps:  # first: a killed write's temp file keeps its folder from being removed
            self._remove_temps_of(step.rel)
        if record["direction"] == BACK:
            outcome.left_alone = self._roll_back(steps)
            done = "rolled back"
        else:
            outcome.left_alone = self._roll_forward(steps)
            done = "completed"
        self._remove_journal()
        outcome.recovered = f"{done} an interrupted {record['action']} (started {record['started']})"
        return outcome

    def run(self, action: str, steps: list[Step], direction: str) -> Outcome:
        """Capture the before-states, write the journal, apply the steps, remove the journal.

        direction: what the next run does if this one is killed: BACK (roll back; the journal keeps
        the old bytes) or FORWARD (complete it; the journal keeps the new bytes). On an error the
        steps already applied are rolled back here, and a PerfpackError says whether that worked
        ("nothing changed") or what the next run will finish.
        """
        outcome = Outcome()
        if not steps:
            return outcome
        for step in steps:
            step.before = self._state(step)
        try:
            self._write_journal(action, steps, direction)
        except OSError as exc:
            remove_temp_files(self.journal.parent, self.journal.name)
            raise PerfpackError(f"{action} failed, nothing changed: cannot write its journal "
                                f"({_describe(exc, self.root)})",
                                hint="free some space or check the folder's permissions") from None
        done: list[Step] = []
        step = steps[0]
        try:
            for step in steps:
                if self._apply(step):
                    done.append(step)
                else:
                    outcome.kept_dirs.append(step.rel)
        except (OSError, PerfpackError) as exc:
            failure = _describe(exc, self.root)
            if isinstance(exc, OSError) and not getattr(exc, "filename", None):
                failure = f"{step.rel}: {failure}"  # a failed write() names no file
            try:
                for step in steps:
                    self._remove_temps_of(step.rel)
                self._roll_back(done)
                self._remove_journal()
            except (OSError, PerfpackError) as again:
                then = "finishes the rollback" if direction == BACK else "completes it"
                raise PerfpackError(
                    f"{action} failed ({failure}) and could not be fully undone "
                    f"({_describe(again, self.root)})",
                    hint=f"free some space or fix the permissions, then run `perfpack {action}` again: "
                    f"it {then}",
                ) from None
            raise PerfpackError(f"{action} failed, nothing changed: {failure}",
                                hint="free some space or check the folder's permissions") from None
        self._remove_journal()
        outcome.applied = done
        return outcome

    # ------------------------------------------------------------------------------ states
    def path(self, rel: str) -> Path:
        if not self.allowed(rel):
            raise PerfpackError(f"install journal names {rel!r}, which perfpack does not manage; refused",
                                hint=f"move {self.journal} aside and check the .claude folder by hand")
        return Path(contained(self.root, rel, what="install path"))

    def _target(self, step: Step) -> Path:
        """Where the content of `step` lives: the path itself, or where its symlink points (inside root)."""
        path = self.path(step.rel)
        if step.follow and path.is_symlink():
            real = Path(os.path.realpath(path))
            if not _inside(self.root, real):
                raise PerfpackError(f"{step.rel} is a symbolic link to {real}, outside {self.root}; "
                                    "perfpack writes only inside the project",
                                    hint="replace the link with the file, or add perfpack's hooks by hand")
            return real
        return path

    def _state(self, step: Step) -> State:
        return read_state(self._target(step))

    # ------------------------------------------------------------------------------ apply
    def _apply(self, step: Step) -> bool:
        """Make the path hold step.after. False when an if_empty folder was not empty (left alone)."""
        path = self._target(step)
        after = step.after
        current = read_state(path)
        same_mode = after.kind != FILE or after.mode is None or current.mode == after.mode
        if current.same_as(after) and same_mode:
            return True
        if after.kind == FILE:
            _write_file(path, after.data or b"", after.mode)
        elif after.kind == LINK:
            _write_link(path, after.link or "")
        elif after.kind == DIR:
            if current.kind != ABSENT:
                raise OSError(errno.EEXIST, "something else is in the way", str(path))
            path.mkdir()
        else:  # ABSENT
            if current.kind == DIR:
                try:
                    path.rmdir()
                except OSError as exc:
                    if step.if_empty and exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                        return False
                    raise
            elif current.kind != ABSENT:
                path.unlink()
        return True

    # ------------------------------------------------------------------------------ recovery
    def _roll_back(self, steps: list[Step]) -> list[str]:
        """Put every step's before-state back, last step first; a path changed since is left alone."""
        left_alone = []
        for step in reversed(steps):
            before = step.before or State(ABSENT)
            current = self._state(step)
            if current.same_as(before):
                continue
            if not current.same_as(step.after):
                left_alone.append(step.rel)
                continue
            if before.kind == FILE and before.data is None:
                raise PerfpackError(f"the install journal lacks the old content of {step.rel}")
            self._apply(Step(step.rel, before, follow=step.follow, if_empty=True))
        return left_alone

    def _roll_forward(self, steps: list[Step]) -> list[str]:
        """Apply every step not yet applied, in order; a path changed since is left alone."""
        left_alone = []
        for step in steps:
            current = self._state(step)
            if current.same_as(step.after):
                continue
            if not current.same_as(step.before or State(ABSENT)):
                left_alone.append(step.rel)
                continue
            if step.after.kind == FILE and step.after.data is None:
                raise PerfpackError(f"the install journal lacks the new content of {step.rel}")
            self._apply(step)
        return left_alone

    # ------------------------------------------------------------------------------ journal
    def _write_journal(self, action: str, steps: list[Step], direction: str) -> None:
        body = {
            "version": JOURNAL_VERSION,
            "action": action,
            "direction": direction,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "steps": [
                {"path": s.rel, "follow": s.follow, "if_empty": s.if_empty,
                 "before": _encode(s.before or State(ABSENT), content=direction == BACK),
                 "after": _encode(s.after, content=direction == FORWARD)}
                for s in steps
            ],
        }
        data = json.dumps(body, indent=1).encode("utf-8")
        _write_file(self.journal, data, 0o600)
        _fsync_dir(self.journal.parent)

    def _remove_journal(self) -> None:
        try:
            self.journal.unlink()
        except FileNotFoundError:
            pass
        _fsync_dir(self.journal.parent)

    def _parse(self, raw: bytes) -> dict[str, Any]:
        what = f"perfpack's install journal {self.journal}"
        data = loads_json_strict(raw, what=what)
        try:
            if not isinstance(data, dict) or data.get("version") != JOURNAL_VERSION:
                raise ValueError("unknown version")
            if data.get("action") not in ("install", "uninstall") or not isinstance(data.get("steps"), list):
                raise ValueError("no action or steps")
            direction = data.get("direction")
            if direction not in (BACK, FORWARD):
                raise ValueError("no direction")
            steps = []
            for item in data["steps"]:
                rel = item["path"]
                if not isinstance(rel, str):
                    raise TypeError("a path is not text")
                self.path(rel)  # contained and managed, or refused
                step = Step(rel, _decode(item["after"]), follow=bool(item.get("follow")),
                            if_empty=bool(item.get("if_empty")), before=_decode(item["before"]))
                needed = step.before if direction == BACK else step.after
                if needed is not None and needed.kind == FILE and needed.data is None:
                    raise ValueError(f"the content of {rel} is missing")
                steps.append(step)
            return {"action": data["action"], "direction": direction,
                    "started": str(data.get("started", "?")), "steps": steps}
        except PerfpackError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PerfpackError(f"{what} is damaged ({exc.__class__.__name__}: {exc}); nothing changed",
                                hint="move it aside and check the .claude folder by hand") from None

    # ------------------------------------------------------------------------------ temp files
    def _remove_temps_of(self, rel: str) -> None:
        path = self.path(rel)
        remove_temp_files(path.parent, path.name)
        if path.is_symlink():
            real = Path(os.path.realpath(path))
            if _inside(self.root, real):
                remove_temp_files(real.parent, real.name)


# ---------------------------------------------------------------------------------- helpers
_TEMP = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{12}\.tmp")


def temp_files(folder: Path, name: str) -> list[Path]:
    """Leftovers of killed atomic writes of `name` in `folder`: `.NAME.<12 hex>.tmp` (perfpack.fsutil's
    naming), regular files or links only."""
    found: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        match = _TEMP.fullmatch(entry.name)
        if match and match["name"] == name and (entry.is_symlink() or entry.is_file(follow_symlinks=False)):
            found.append(Path(entry.path))
    return found


def remove_temp_files(folder: Path, name: str) -> None:
    for path in temp_files(folder, name):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def read_state(path: Path) -> State:
    """What is at `path` now (a symlink is reported as a link, not followed); FIFOs and devices refused."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return State(ABSENT)
    except NotADirectoryError:
        return State(ABSENT)
    if stat.S_ISLNK(info.st_mode):
        return State(LINK, link=os.readlink(path))
    if stat.S_ISDIR(info.st_mode):
        return State(DIR)
    if stat.S_ISREG(info.st_mode):
        data = read_user_bytes(path, what="file", max_bytes=MAX_FILE_BYTES, follow_symlinks=False)
        return State(FILE, data=data, mode=stat.S_IMODE(info.st_mode))
    raise PerfpackError(f"{path}: is not a regular file, folder or link (a FIFO, socket or device); "
                        "perfpack leaves it alone and changes nothing",
                        hint="move it aside and run the command again")


def _encode(state: State, *, content: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": state.kind}
    if state.kind == FILE:
        out["sha256"] = state.digest()
        out["mode"] = state.mode
        if content:
            out["data"] = base64.b64encode(state.data or b"").decode("ascii")
    elif state.kind == LINK:
        out["link"] = state.link
    return out


def _decode(item: dict[str, Any]) -> State:
    kind = item["kind"]
    if kind == FILE:
        mode = item.get("mode")
        if mode is not None and (not isinstance(mode, int) or not 0 <= mode <= 0o7777):
            raise ValueError("a file mode is out of range")
        digest = item.get("sha256")
        if not isinstance(digest, str):
            raise ValueError("a file's hash is missing")
        data = base64.b64decode(item["data"], validate=True) if "data" in item else None
        if data is not None and hashlib.sha256(data).hexdigest() != digest:
            raise ValueError("a file's content does not match its hash")
        return State(FILE, data=data, mode=mode, sha256=digest)
    if kind == LINK:
        if not isinstance(item["link"], str):
            raise ValueError("a link target is not text")
        return State(LINK, link=item["link"])
    if kind in (DIR, ABSENT):
        return State(kind)
    raise ValueError(f"unknown kind {kind!r}")


def _write_file(path: Path, data: bytes, mode: int | None) -> None:
    """Atomic write; a new file gets the usual 0666 & ~umask (not the temp file's 0600)."""
    from perfpack.fsutil import atomic_write_bytes

    if mode is None and not os.path.lexists(path):
        mask = os.umask(0o022)
        os.umask(mask)
        mode = 0o666 & ~mask
    atomic_write_bytes(path, data, mode=mode)


def _write_link(path: Path, target: str) -> None:
    """Replace `path` with a symlink to `target` atomically (a link at a temp name, renamed over)."""
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp"
        try:
            os.symlink(target, tmp)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(errno.EEXIST, "no free temporary name", str(path))
    try:
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _inside(root: Path, path: Path) -> bool:
    from perfpack.safeio import is_inside

    return is_inside(root, path)


def _describe(exc: BaseException, root: Path) -> str:
    if isinstance(exc, PerfpackError):
        return exc.message
    where = getattr(exc, "filename", None) or ""
    if where:
        try:
            where = str(Path(where).relative_to(root))
        except ValueError:
            pass
    reason = getattr(exc, "strerror", None) or str(exc)
    return f"{where}: {reason}" if where else reason
