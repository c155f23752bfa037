"""`perfpack install` / `perfpack uninstall`: thin click layer over perfpack.install.core."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from perfpack.errors import PerfpackError
from perfpack.exitcodes import ExitCode

_SYMBOLS = {"write": "+", "delete": "-", "skip": "!", "keep": "=", "rmdir": "-"}


def _options(func):  # type: ignore[no-untyped-def]
    func = click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="Output format."
    )(func)
    func = click.option("--dry-run", is_flag=True, help="Print the plan; write nothing.")(func)
    func = click.option(
        "--user", is_flag=True, help="Use the user's Claude folder ($CLAUDE_CONFIG_DIR or ~/.claude) instead."
    )(func)
    func = click.option(
        "--project",
        metavar="DIR",
        help="Project folder (default: the nearest folder with .claude/, .git or pyproject.toml).",
    )(func)
    return func


@click.command()
@_options
def install(project: str | None, user: bool, dry_run: bool, fmt: str) -> int:
    """Install the agents, /optimize and perfpack's hooks into DIR/.claude/.

    Copies agents/*.md and commands/*.md, compiles the routing rules to .claude/perfpack/routes.json,
    merges two hooks into .claude/settings.json (UserPromptSubmit routing, PreToolUse Bash commit
    check; absolute interpreter path), and git-ignores .claude/memory/. Your settings keep every key,
    hook and their order; a backup is written first. Re-running upgrades in place. What was written is
    recorded in .claude/perfpack/install.json for `perfpack uninstall`.

    Exit codes: 0 installed, 1 installed except files where one of yours has the same name,
    2 bad input (e.g. invalid settings.json: nothing is changed).
    """
    from perfpack.install.core import apply, plan_install, resolve_target

    with _os_errors_as_usage():
        target = resolve_target(project, user)
        plan = plan_install(target)
        backups = [] if dry_run else apply(plan)
    _report(plan, dry_run, backups, fmt)
    return ExitCode.FINDINGS if plan.conflicts else ExitCode.OK


@click.command()
@_options
def uninstall(project: str | None, user: bool, dry_run: bool, fmt: str) -> int:
    """Remove exactly what `perfpack install` added, using its record (.claude/perfpack/install.json).

    Files you changed since install are kept; only perfpack's own hook entries and .gitignore line
    are removed. A settings.json untouched since install gets its exact pre-install bytes back.

    Exit codes: 0 removed, 1 nothing installed there, 2 bad input.
    """
    from perfpack.install.core import apply, plan_uninstall, resolve_target

    with _os_errors_as_usage():
        target = resolve_target(project, user)
        plan = plan_uninstall(target)
        backups = [] if dry_run else apply(plan)
    _report(plan, dry_run, backups, fmt)
    return ExitCode.OK


@contextmanager
def _os_errors_as_usage() -> Iterator[None]:
    """An unreadable folder or file while planning is bad input (exit 2, one line), not a crash."""
    try:
        yield
    except OSError as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        raise PerfpackError(
            f"{where}{exc.strerror or exc}; nothing changed", hint="check the folder's permissions"
        ) from None


def _report(plan, dry_run: bool, backups: list[str], fmt: str) -> None:  # type: ignore[no-untyped-def]
    from perfpack.install.core import _rel

    root = plan.target.project or plan.target.claude_dir
    if fmt == "json":
        sys.stdout.write(json.dumps(plan.to_dict(Path(root), dry_run, backups), indent=2) + "\n")
        return
    verb = "would " + plan.action if dry_run else plan.action
    lines = [
        f"perfpack {verb} in {plan.target.claude_dir}" + (" (dry run: nothing written)" if dry_run else "")
    ]
    for change in plan.changes:
        detail = change.detail
        if change.op == "rmdir":
            if not dry_run and change.path.exists():
                continue  # still holds something of the user's
            detail = "remove empty folder" if dry_run else "removed (empty)"
        lines.append(f"  {_SYMBOLS.get(change.op, '?')} {_rel(change.path, Path(root))}: {detail}")
    for backup in backups:
        lines.append(f"  backup: {backup}")
    for warning in plan.warnings:
        lines.append(f"  warning: {warning}")
    sys.stdout.write("\n".join(lines) + "\n")
