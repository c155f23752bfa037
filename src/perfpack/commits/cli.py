"""`perfpack commits`: check that commits stay atomic (size, one concern, sign-off, Assisted-By)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from perfpack.errors import EXIT_FINDINGS, EXIT_OK

_FORMATS = ("text", "json", "github")


def _render(report, fmt: str) -> str:
    from perfpack.commits.rules import RULES
    from perfpack.findings import format_findings

    if fmt == "json":
        payload = json.loads(format_findings(report.findings, "json", checked=report.checked))
        payload["range"] = report.label
        payload["skipped"] = report.skipped
        payload["commits"] = report.items
        payload["rules"] = {rule: name for rule, (name, _) in RULES.items()}
        return json.dumps(payload, indent=2, ensure_ascii=False)
    if fmt == "github":
        return format_findings(report.findings, "github")
    lines = [line for line in format_findings(report.findings, "text").splitlines()
             if not line.startswith("no problems found")]
    skipped = sum(report.skipped.values())
    what = f"{report.checked} commit(s) checked in {report.label}"
    if skipped:
        what += " (skipped: " + ", ".join(f"{n} {kind}" for kind, n in sorted(report.skipped.items())) + ")"
    if not report.findings:
        lines.append(f"no problems found: {what}")
    else:
        lines.append(what)
    return "\n".join(lines)


def _emit(report, fmt: str) -> int:
    text = _render(report, fmt)
    if text:
        click.echo(text)
    return EXIT_FINDINGS if report.findings else EXIT_OK


def _root(repo_dir: str | None) -> Path:
    from perfpack.project import find_project_root

    if repo_dir:
        return Path(repo_dir).resolve()
    return find_project_root(Path.cwd())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def commits() -> None:
    """Check that commits are atomic: at most 5 files and 500 changed lines, one concern in the
    subject (no "and" / "also" / "various"), a Signed-off-by trailer, and a well-formed Assisted-By.

    Configure in [tool.perfpack.commits] (pyproject.toml) or [commits] in .claude/perfpack/config.toml:
    max-files, max-lines, mixed-words, require-signoff, require-assisted-by, assisted-by-formats
    ("seed", "kernel"), skip (merge, revert, fixup, squash, amend), ignore / extra-ignore (globs of
    files that do not count), disable (rule ids), hook-mode ("context" or "deny").

    Exit codes: 0 no violations, 1 violations, 2 usage or repository error.
    """


@commits.command("check")
@click.argument("range_", metavar="[RANGE]", required=False)
@click.option("--staged", is_flag=True, help="Check the staged change (what `git commit` would record): sizes.")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="text", show_default=True)
@click.option("-C", "repo_dir", metavar="DIR", help="Run in DIR instead of the current directory.")
def check(range_: str | None, staged: bool, fmt: str, repo_dir: str | None) -> int:
    """Check every commit in RANGE with one `git log` pass.

    RANGE is git's: `A..B` (commits in B not in A), `A...B`, or one revision (that commit only).
    Default: the current branch's commits not on the default branch (origin/HEAD, main or master).
    Merge, revert, fixup!/squash!/amend! commits are skipped unless configured otherwise.
    Renamed files count once (rename detection, -M); binary files count as a file with 0 lines.
    In CI, an all-zero base (new branch) or a shallow clone missing the base is an error (exit 2)
    that says what to fetch, never a silent pass.
    """
    from perfpack.commits.check import check_range, check_staged, load_policy
    from perfpack.errors import PerfpackError

    root = _root(repo_dir)
    policy = load_policy(root)
    if staged:
        if range_:
            raise PerfpackError("give either RANGE or --staged, not both")
        return _emit(check_staged(root, policy), fmt)
    return _emit(check_range(root, range_, policy), fmt)


@commits.command("msg")
@click.argument("message_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--no-size", is_flag=True, help="Check only the message, not the staged change.")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="text", show_default=True)
def msg(message_file: Path, no_size: bool, fmt: str) -> int:
    """Check a commit message file (the commit-msg hook) and the staged change's size.

    Comment lines and everything below a `git commit -v` scissors line are ignored, as git does.
    Use in .pre-commit-config.yaml via the `perfpack-commit-msg` hook (stages: [commit-msg]).
    """
    from perfpack.commits.check import check_message_file, load_policy

    root = _root(None)
    policy = load_policy(root)
    return _emit(check_message_file(message_file, policy, staged_root=None if no_size else root), fmt)
