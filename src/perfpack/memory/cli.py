"""The click face of `perfpack memory`: forwards the raw arguments to the one implementation in cmd.py."""

from __future__ import annotations

import click


@click.command(
    "memory",
    add_help_option=False,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def memory(args: tuple[str, ...]) -> int:
    """Agent memory that survives sessions and parallel subagents (see `perfpack memory --help`)."""
    from perfpack.memory.cmd import main

    return main(list(args))
