"""Reading commits for the checks: the range to check, and ONE `git log --numstat -z` pass over it.

Goes through GitPython's git command interface (`repo.git.log`); never `commit.stats` per commit, which
costs a git process per commit (15.8 s vs ~1 s for 5,000 commits, see reference/anchors.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from perfpack.commits.logpass import DIFF_OPTIONS, range_revisions, start_log, stop
from perfpack.commits.parse import parse_log, parse_numstat
from perfpack.commits.rules import CommitInfo, FileChange
from perfpack.errors import PerfpackError

_ZERO_RE = re.compile(r"^0{40}$|^0{64}$")
_HEX_RE = re.compile(rb"[0-9a-f]+")


def open_repo(path: Path | str) -> Any:
    """The git repository at or above `path`, or a clear error."""
    try:
        import git
    except ImportError as exc:  # git executable missing makes GitPython's import fail
        raise PerfpackError(f"cannot use git: {exc}",
                            hint="install git and make sure it is on PATH") from None
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise PerfpackError(f"{path}: not inside a git repository") from None


def _git(repo: Any, command: str, *args: str) -> bytes:
    import git

    try:
        return getattr(repo.git, command)(*args, stdout_as_string=False)
    except git.GitCommandError as exc:
        detail = (exc.stderr or "").strip().strip("'").strip() or str(exc)
        raise PerfpackError(f"git {command} failed: {detail.splitlines()[-1] if detail else exc}") from None


def _verify(repo: Any, rev: str) -> str | None:
    try:
        return _git(repo, "rev_parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip() or None
    except PerfpackError:
        return None


def is_shallow(repo: Any) -> bool:
    # The file is what git itself consults; reading it saves a git process on every check.
    common = Path(getattr(repo, "common_dir", None) or repo.git_dir)
    return (common / "shallow").is_file() or (Path(repo.git_dir) / "shallow").is_file()


def shallow_boundary(repo: Any) -> set[str]:
    """Commits whose parents a shallow clone did not fetch (listed in .git/shallow)."""
    path = Path(_git(repo, "rev_parse", "--git-path", "shallow").decode().strip())
    if not path.is_absolute():
        path = Path(repo.working_tree_dir or repo.git_dir) / path
    try:
        return set(path.read_text().split())
    except OSError:
        return set()


def default_base(repo: Any) -> str:
    """The default branch to compare against: origin/HEAD, then main, master, origin/main, origin/master."""
    try:
        head = _git(repo, "symbolic_ref", "--quiet", "refs/remotes/origin/HEAD").decode().strip()
    except PerfpackError:
        head = ""
    candidates = ([head] if head else []) + ["main", "master", "origin/main", "origin/master"]
    for candidate in candidates:
        if _verify(repo, candidate):
            return candidate.removeprefix("refs/remotes/")
    raise PerfpackError("cannot find the default branch (no origin/HEAD, main or master)",
                        hint="pass a RANGE, e.g. `perfpack commits check origin/develop..HEAD`, or run "
                             "`git remote set-head origin --auto`")


def _fetch_hint(repo: Any, rev: str) -> str:
    if is_shallow(repo):
        return (f"this is a shallow clone: fetch the history down to {rev}: `git fetch --deepen=N` "
                "(N = commits in the range) or `git fetch --unshallow`; in GitHub Actions set "
                "`fetch-depth: 0` on actions/checkout")
    return f"fetch it first, e.g. `git fetch origin {rev}`"


def resolve_range(repo: Any, spec: str | None) -> tuple[list[str], str]:
    """git log revision arguments for RANGE, and a label for messages.

    None: the current branch's commits not on the default branch. Otherwise as `git log RANGE` reads
    it: `A..B` / `A...B`; a revision R is R and all its history (root commits included); `R^!` is R alone.
    """
    if spec is None:
        base = default_base(repo)
        return [f"{base}..HEAD"], f"{base}..HEAD"
    spec = spec.strip()
    if not spec:
        raise PerfpackError("empty RANGE", hint="e.g. main..HEAD, or leave it out for the current branch")
    if spec.startswith("-"):
        raise PerfpackError(f"RANGE {spec!r} looks like an option", hint="e.g. main..HEAD")
    separator = "..." if "..." in spec else ".." if ".." in spec else None
    if separator is None:
        ends = [spec.removesuffix("^!")]
    else:
        left, _, right = spec.partition(separator)
        ends = [left or "HEAD", right or "HEAD"]
    for end in ends:
        if _ZERO_RE.match(end):
            break
    else:
        # Common case in one git process: every end resolves to a commit.
        try:
            _git(repo, "rev_parse", "--quiet", *(f"{end}^{{commit}}" for end in ends), "--")
            ends = []
        except PerfpackError:
            pass
    for end in ends:
        if _ZERO_RE.match(end):
            raise PerfpackError(
                f"range base {end[:12]}... is all zeros: a new branch push has no 'before' commit",
                hint="check against the default branch instead, e.g. `perfpack commits check "
                     "origin/main..HEAD` (fetch it with `git fetch origin main`; in a shallow clone "
                     "`git fetch --unshallow` or `git fetch --deepen=N`)")
        if not _verify(repo, end):
            raise PerfpackError(f"revision {end!r} is not in this repository", hint=_fetch_hint(repo, end))
    return range_revisions(spec), spec


def read_commits(repo: Any, revisions: list[str], *, merges: bool = False) -> list[CommitInfo]:
    """All commits of the range with their numstat, in one `git log` run (see `iter_commits`)."""
    return [commit for batch in iter_commits(repo, revisions, merges=merges) for commit in batch]


def _split_point(buffer: bytes) -> int:
    """Where the last complete record ends: just before a NUL + RS + full hash + NUL, or -1."""
    position = buffer.rfind(b"\0\x1e")
    while position >= 0:
        end = buffer.find(b"\0", position + 2, position + 2 + 66)
        if end in (position + 42, position + 66) and _HEX_RE.fullmatch(buffer[position + 2:end]):
            return position + 1
        position = buffer.rfind(b"\0\x1e", 0, position)
    return -1


def iter_commits(repo: Any, revisions: list[str], *, merges: bool = False, process: Any = None,
                 chunk: int = 1 << 18) -> Iterator[list[CommitInfo]]:
    """Batches of commits, parsed while git is still writing: one `git log` process for the whole range.

    Renames are detected (-M): a renamed file counts once, with the lines its content changed. Binary files
    count as a file with 0 lines. Merges get a first-parent diff only when they are checked. A commit at a
    shallow clone's boundary is an error: its diff against unfetched parents is unknown.
    `process`: the pass already started with start_log() for these revisions.
    """
    boundary = shallow_boundary(repo) if is_shallow(repo) else set()
    if process is None:
        process = start_log(repo.working_tree_dir or repo.git_dir, revisions, merges=merges)
    stream = process.stdout
    buffer = b""
    try:
        while True:
            data = stream.read1(chunk)
            if not data:
                break
            buffer += data
            cut = _split_point(buffer)
            if cut > 0:
                batch, buffer = buffer[:cut], buffer[cut:]
                yield _checked_boundary(parse_log(batch), boundary)
        if buffer:
            yield _checked_boundary(parse_log(buffer), boundary)
        errors = process.stderr.read()
        if process.wait() != 0:
            detail = errors.decode("utf-8", "replace").strip()
            last = detail.splitlines()[-1] if detail else process.returncode
            raise PerfpackError(f"git log failed: {last}")
    finally:
        stop(process)


def _checked_boundary(commits: list[CommitInfo], boundary: set[str]) -> list[CommitInfo]:
    for commit in commits:
        if commit.full_hash in boundary:
            raise PerfpackError(
                f"the range reaches the shallow clone's boundary at {commit.ref}: its parents were not "
                "fetched, so its diff and the commits below it cannot be checked",
                hint="fetch more history: `git fetch --deepen=N` (N = commits in the range) or "
                     "`git fetch --unshallow`; in GitHub Actions `fetch-depth: 0`")
    return commits


def staged_changes(repo: Any, *, with_tracked: bool = False) -> list[FileChange]:
    """What `git commit` would record now: the index against HEAD (plus tracked changes with -a)."""
    has_head = _verify(repo, "HEAD") is not None
    if with_tracked and has_head:
        raw = _git(repo, "diff", *DIFF_OPTIONS, "HEAD", "--")
    else:
        # On an unborn branch `git diff --cached` compares against the empty tree.
        raw = _git(repo, "diff", "--cached", *DIFF_OPTIONS, "--")
    return parse_numstat(raw)
