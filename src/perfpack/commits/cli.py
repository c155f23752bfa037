"""`perfpack commits`: check that commits stay atomic (size, one concern, sign-off, Assisted-By)."""

from __future__ import annotations

from pathlib import Path

import click

from perfpack.exitcodes import ExitCode
from perfpack.report import format_choices

_FORMATS = format_choices("text", "json", "github", "sarif")


def _render(result, fmt: str, default_range: bool = False) -> str:
    from perfpack import rules
    from perfpack.report import Report, render

    skipped = sum(result.skipped.values())
    what = f"{result.checked} commit(s) checked in {result.label}"
    if default_range and result.checked == 0 and not skipped:
        # on the default branch itself BASE..HEAD is empty: say why nothing was checked, and how to
        base = result.label.removesuffix("..HEAD")
        what += (f" (HEAD is on {base} or has no commit beyond it; name a range to check, "
                 "e.g. `perfpack commits check HEAD~5..HEAD`)")
    if skipped:
        what += " (skipped: " + ", ".join(f"{n} {kind}" for kind, n in sorted(result.skipped.items())) + ")"
    report = Report("commits", result.findings, checked=result.checked, checked_noun="commit", ordered=True,
                    text=what if result.findings else f"no problems found: {what}",
                    data={"range": result.label, "skipped": result.skipped, "commits": result.items,
                          "rules": {rule.id: rule.name for rule in rules.family_rules("commits")}})
    return render(report, fmt)


def _emit(result, fmt: str, default_range: bool = False) -> int:
    text = _render(result, fmt, default_range)
    if text:
        click.echo(text)
    return ExitCode.FINDINGS if result.findings else ExitCode.OK


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
    ("seed", "kernel"), skip (merge, revert, fixup, squash, amend), exclude / extra-exclude (globs of
    files that do not count), select / ignore (rule ids or names; `disable` = ignore), hook-mode
    ("context" or "deny").

    Exit codes: 0 no violations, 1 violations, 2 usage or repository error, 3 internal error.
    """


@commits.command("check")
@click.argument("range_", metavar="[RANGE]", required=False)
@click.option("--staged", is_flag=True,
              help="Check the staged change (what `git commit` would record): sizes.")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="text", show_default=True)
@click.option("-C", "repo_dir", metavar="DIR", help="Run in DIR instead of the current directory.")
def check(range_: str | None, staged: bool, fmt: str, repo_dir: str | None) -> int:
    """Check every commit in RANGE with one `git log` pass.

    RANGE is read as `git log RANGE` reads it: `A..B` (commits in B not in A), `A...B`, a revision R
    (R and all its history, root commits included), or `R^!` (that commit only). Default: the current
    branch's commits not on the default branch (origin/HEAD, main or master). Commits are listed in
    history order, newest first, as `git log` shows them.
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
    return _emit(check_range(root, range_, policy), fmt, default_range=range_ is None)


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
