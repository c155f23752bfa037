"""The checks as plain functions (range, staged change, message file); the CLI and hooks are thin shells."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from perfpack.commits.rules import CommitInfo, Policy, check_commit, clean_message, first_line, skip_reason
from perfpack.errors import PerfpackError
from perfpack.findings import Finding

MAX_MESSAGE_BYTES = 1024 * 1024


@dataclass
class Report:
    """Findings over what was checked, and what was skipped and why."""

    label: str
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    items: list[dict] = field(default_factory=list)  # per commit: ref, files, lines, skipped


def load_policy(root: Path) -> Policy:
    from perfpack.project import load_config

    return Policy.from_config(load_config(root, "commits"))


def _check_all(report: Report, commits: list[CommitInfo], policy: Policy) -> Report:
    for commit in commits:
        reason = skip_reason(commit, policy)
        files = commit.files or []
        report.items.append({"ref": commit.ref, "hash": commit.full_hash or None,
                             "subject": first_line(commit.message),
                             "files": len(files), "lines": sum(f.added + f.deleted for f in files),
                             "skipped": reason})
        if reason:
            report.skipped[reason] = report.skipped.get(reason, 0) + 1
            continue
        report.checked += 1
        report.findings.extend(check_commit(commit, policy))
    return report


def check_range(root: Path, spec: str | None, policy: Policy) -> Report:
    """Every commit of RANGE (default: the branch's commits not on the default branch), one git log pass."""
    from perfpack.commits.gitlog import iter_commits, open_repo, resolve_range
    from perfpack.commits.logpass import stop, take_prestarted

    merges = "merge" not in policy.skip
    # An explicit RANGE starts git at once (or prestart() already did): it diffs on one core while this
    # one imports GitPython and validates the range; a range that fails validation stops it.
    early = take_prestarted(root, spec, merges=merges)
    try:
        repo = open_repo(root)
        revisions, label = resolve_range(repo, spec)
    except BaseException:
        if early is not None:
            stop(early)
        raise
    report = Report(label)
    # Check each batch while git writes the next one: the two cores overlap git and Python.
    for batch in iter_commits(repo, revisions, merges=merges, process=early):
        _check_all(report, batch, policy)
    return report


def check_staged(root: Path, policy: Policy, message: str | None = None, *,
                 with_tracked: bool = False) -> Report:
    """The change `git commit` would record now (sizes only, unless a message is given)."""
    from perfpack.commits.gitlog import open_repo, staged_changes

    repo = open_repo(root)
    files = staged_changes(repo, with_tracked=with_tracked)
    commit = CommitInfo(ref="(staged)", message=message or "", files=files, ref_kind="staged")
    if message is None:
        # Size rules only: there is no message yet to judge.
        size_policy = replace(policy, mixed_words=[], require_signoff=False, require_assisted_by=False,
                              _mixed_re=None)
        return _check_all(Report("staged"), [commit], size_policy)
    return _check_all(Report("staged"), [commit], policy)


def read_message_file(path: Path) -> str:
    """A commit message file as text: any bytes accepted (undecodable ones replaced), comments removed.

    Read through perfpack.safeio: a FIFO or a folder is refused at once instead of blocking git's hook.
    """
    from perfpack.safeio import read_user_bytes

    try:
        raw = read_user_bytes(path, what="commit message", max_bytes=MAX_MESSAGE_BYTES)
    except FileNotFoundError:
        raise PerfpackError(f"{path}: cannot read the commit message: no such file") from None
    if b"\0" in raw:
        raise PerfpackError(f"{path}: not a commit message (binary data: NUL bytes)")
    return clean_message(raw.decode("utf-8", "replace"))


def check_message_file(path: Path, policy: Policy, *, staged_root: Path | None) -> Report:
    """The commit-msg hook: the message, plus the staged size when inside a repository."""
    message = read_message_file(path)
    files = None
    if staged_root is not None:
        from perfpack.commits.gitlog import open_repo, staged_changes

        try:
            repo = open_repo(staged_root)
        except PerfpackError:
            repo = None
        if repo is not None:
            files = staged_changes(repo)
    commit = CommitInfo(ref=str(path), message=message, files=files, ref_kind="message")
    return _check_all(Report(str(path)), [commit], policy)
