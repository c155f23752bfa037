"""`perfpack snapshot`: always exits 0, since a non-zero `!` line aborts the whole /optimize command."""

from __future__ import annotations

import sys

import click

from perfpack.snapshot.main import run


class _LenientCommand(click.Command):
    """A usage error (e.g. `--project` without a value) must not exit 2: note it and use the defaults."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            ctx.params.clear()
            rest = super().parse_args(ctx, [])
            ctx.meta["perfpack.snapshot.usage_error"] = exc.format_message()
            return rest


@click.command(
    cls=_LenientCommand, context_settings={"ignore_unknown_options": True, "allow_extra_args": True}
)
@click.option(
    "--format",
    "fmt",
    default="markdown",
    metavar="markdown|json",
    help="Output format (default markdown, compact for embedding in a prompt).",
)
@click.option(
    "--project",
    metavar="DIR",
    default=None,
    help="Project folder (default: the nearest folder with .claude/, .git or pyproject.toml).",
)
@click.pass_context
def snapshot(ctx: click.Context, fmt: str, project: str | None) -> int:
    """Baseline of the host and the project for /optimize.

    Host: CPUs, load, CPU busy, memory, the project's disk, top 5 processes by CPU and by memory.
    Project: git branch/commit/dirty files, languages, test and benchmark suites. Containers when a
    Docker daemon answers quickly. The last saved baselines and recent memory insights.

    Every probe has a timeout (whole command capped at ~4 s); what could not be looked at is listed
    under "Skipped". Always exits 0, whatever happens, because /optimize embeds it with a `!` line.
    """
    notes: list[tuple[str, str]] = []
    usage_error = ctx.meta.get("perfpack.snapshot.usage_error")
    if usage_error:
        notes.append(("arguments", f"{usage_error.rstrip('.')}; used the defaults"))
    if ctx.args:
        notes.append(("arguments", "ignored unknown arguments: " + " ".join(ctx.args)))
    return run(fmt, project, notes, sys.stdout)
