"""`perfpack install` / `perfpack uninstall`: the click layer only translates arguments and prints.

The work is in perfpack.install.core (plain functions returning a Result, and the Report it renders as).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from perfpack.errors import PerfpackError
from perfpack.report import format_choices, render


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--format", "fmt", type=click.Choice(format_choices("text", "json")), default="text",
        show_default=True, help="Output format.",
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
    merges five hooks into .claude/settings.json (SessionStart: perfpack on the Bash tool's PATH;
    UserPromptSubmit: routing; PreToolUse Bash: commit check; SubagentStop and Stop: the evidence
    check of a pack agent's or /optimize's final figures), and git-ignores .claude/memory/ and
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
    click.echo(render(core.report(result), fmt))
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
    click.echo(render(core.report(result), fmt))
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
