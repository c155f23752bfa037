"""`perfpack install` / `perfpack uninstall`: the click layer only translates arguments and prints.

The work is in perfpack.install.core (plain functions returning a Result); this module turns a Result
into a perfpack.report.Report for the text and json reporters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from perfpack.errors import PerfpackError
from perfpack.report import Report, format_choices, render

if TYPE_CHECKING:
    from perfpack.install.core import Result

_SYMBOLS = {"add": "+", "update": "~", "restore": "~", "remove": "-", "keep": "=", "skip": "!"}
_MAX_STAYS_LINES = 25  # a summary an agent can read; --format json has every line


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--format", "fmt", type=click.Choice(format_choices("text", "json")), default="text",
        help="Output format.",
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
    merges three hooks into .claude/settings.json (SessionStart: perfpack on the Bash tool's PATH;
    UserPromptSubmit: routing; PreToolUse Bash: commit check), and git-ignores .claude/memory/ and
    .claude/perfpack/local/. Committed files hold no path of this machine: they reach perfpack
    through .claude/perfpack/local/ (a launcher and two links, git-ignored), and stay silent in a
    clone where it is missing. Your settings keep every key, hook and their order; a backup is
    written first. Everything happens as one journaled transaction: an interrupted install is rolled
    back by the next install or uninstall. Re-running upgrades in place.

    Exit codes: 0 installed, 1 installed except files where one of yours has the same name,
    2 bad input or environment (e.g. invalid settings.json): nothing is changed.
    """
    from perfpack.install import core

    with _os_errors_as_usage():
        result = core.install(core.resolve_target(project, user), dry_run=dry_run)
    click.echo(render(_report(result), fmt))
    return result.exit_code


@click.command()
@_options
def uninstall(project: str | None, user: bool, dry_run: bool, fmt: str) -> int:
    """Remove exactly what `perfpack install` added, using its record (.claude/perfpack/install.json).

    Files you changed since install are kept; only perfpack's own hook entries and .gitignore lines
    are removed (a line stays while the data it ignores stays). A settings.json untouched since install
    gets its exact pre-install bytes back. Saved baselines, agent memory and your own files stay, and
    the output lists them. --dry-run prints the same plan the real run then applies.

    Exit codes: 0 removed (or nothing was installed: it says so), 2 bad input or an unusable
    record: nothing is changed.
    """
    from perfpack.install import core

    with _os_errors_as_usage():
        result = core.uninstall(core.resolve_target(project, user), dry_run=dry_run)
    click.echo(render(_report(result), fmt))
    return result.exit_code


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


def _report(result: Result) -> Report:
    from perfpack.terminal import one_line

    plan = result.plan
    target = plan.target
    changes = [c for c in plan.changes if c.op != "stays"]
    stays = [c for c in plan.changes if c.op == "stays"]
    data: dict[str, Any] = {
        "action": plan.action,
        "dry_run": result.dry_run,
        "target": str(target.claude_dir),
        "installed": plan.installed,
        "recovered": result.recovered,
        "changes": [{"op": c.op, "path": c.rel, "detail": c.detail} for c in changes],
        "removed": [c.rel for c in changes if c.op == "remove"],
        "changed": [c.rel for c in changes if c.op in ("add", "update", "restore")],
        "stays": [{"path": c.rel, "detail": c.detail} for c in stays],
        "backups": [c.rel for c in changes if ".perfpack-backup-" in c.rel and c.op == "add"],
        "warnings": plan.warnings,
        "conflicts": plan.conflicts,
    }
    lines = []
    if result.recovered:
        lines.append(f"perfpack {result.recovered}")
    for rel in result.left_alone:
        lines.append(f"  warning: {one_line(rel)} changed after the interruption; left as it is")
    where = one_line(target.claude_dir)
    if not plan.installed:
        lines.append(f"perfpack is not installed in {where} (no {target.rel('perfpack', 'install.json')}); "
                     "nothing to remove")
    else:
        verb = ("would " + plan.action) if result.dry_run else plan.action
        note = " (dry run: nothing written)" if result.dry_run else ""
        lines.append(f"perfpack {verb} in {where}{note}")
        for c in changes:
            lines.append(f"  {_SYMBOLS.get(c.op, '?')} {one_line(c.rel)}: {one_line(c.detail)}")
        if stays:
            lines.append("stays" if result.dry_run else "left in place")
            for c in stays[:_MAX_STAYS_LINES]:
                lines.append(f"  {one_line(c.rel)}: {one_line(c.detail)}")
            if len(stays) > _MAX_STAYS_LINES:
                lines.append(f"  ... and {len(stays) - _MAX_STAYS_LINES} more (--format json lists them)")
    for warning in plan.warnings:
        lines.append(f"  warning: {one_line(warning)}")
    return Report(command=plan.action, data=data, text="\n".join(lines))
