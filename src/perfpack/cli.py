"""The `perfpack` command: a thin click group whose subcommands are imported only when run.

Each subcommand lives in its capability's package (`perfpack/<capability>/cli.py`) and returns an
exit code. This module maps expected failures (PerfpackError) to one clear line and exit code 2;
tracebacks are kept for real bugs.
"""

from __future__ import annotations

import sys

# `typing` costs about a third of a bare interpreter start, and every command starts here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

# name -> ("module:attribute", one-line help shown by `perfpack --help` without importing the module)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("perfpack.validate.cli:validate",
                 "Check agent, command, plugin and hook files against what Claude Code really accepts."),
    "install": ("perfpack.install.cli:install", "Install the agents, /optimize and hooks into a project's .claude/."),
    "uninstall": ("perfpack.install.cli:uninstall", "Remove exactly what `perfpack install` added."),
    "route": ("perfpack.route.cli:route", "Explain which agent a prompt is routed to, and why."),
    "snapshot": ("perfpack.snapshot.cli:snapshot", "Baseline of the host and project for /optimize (always exits 0)."),
    "bench": ("perfpack.bench.cli:bench", "Benchmark a command; save baselines, enforce budgets."),
    "compare": ("perfpack.bench.cli:compare", "Compare two commands interleaved in one run."),
    "baseline": ("perfpack.bench.cli:baseline", "List, show or remove saved baselines."),
    "report": ("perfpack.bench.cli:report", "Write the Markdown performance report from baselines."),
    "memory": ("perfpack.memory.cli:memory", "Agent memory that survives sessions and parallel subagents."),
    "commits": ("perfpack.commits.cli:commits", "Check commits are atomic: size, one concern, sign-off, trailers."),
}

# Commands that must start faster than click allows: name -> "module:function(argv, *, ends_process) -> int".
# They get the raw arguments after the command name and parse them themselves; `ends_process` is True
# when the process ends with os._exit right after (see run()).
FAST_PATHS: dict[str, str] = {
    "memory": "perfpack.memory.cmd:main",  # one write per agent action: skip click (issue 6)
}
# Commands whose slow outside work can begin before click is imported: name -> "module:function(argv)",
# given the raw arguments after the command name; it may start work, never prints, never raises.
PRESTARTS: dict[str, str] = {
    "commits": "perfpack.commits.logpass:prestart",  # git's pass over the range (issue 7's budget)
}


def _resolve(spec: str) -> Any:
    module_name, _, attribute = spec.partition(":")
    # __import__ + sys.modules, not importlib.import_module: `import importlib` (and the warnings module
    # it loads) costs ~1 ms of every start, and these names are absolute, so the two are equivalent.
    __import__(module_name)
    return getattr(sys.modules[module_name], attribute)


def _build_group() -> Any:
    import click

    from perfpack import __version__

    class LazyGroup(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return sorted(COMMANDS)

        def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
            if name not in COMMANDS:
                return None
            return _resolve(COMMANDS[name][0])

        def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    @click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
    @click.version_option(__version__, prog_name="perfpack")
    def perfpack() -> None:
        """perfpack: performance engineering for Claude Code.

        Validate agent packs, install the performance agents into a project, route prompts,
        measure and compare commands against saved baselines and budgets, keep agent memory,
        and check that commits stay atomic.

        Exit codes: 0 fine, 1 findings / violations / regression / breached budget,
        2 usage or environment error.
        """

    return perfpack


def main(argv: list[str] | None = None, *, ends_process: bool = False) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in FAST_PATHS:
        return _run(lambda: _resolve(FAST_PATHS[args[0]])(args[1:], ends_process=ends_process))
    if args and args[0] in PRESTARTS:
        _resolve(PRESTARTS[args[0]])(args[1:])
    return _run(lambda: _click_main(args))


def run() -> None:
    """The `perfpack` launcher's and `python -m perfpack`'s entry: main(), then exit with its code.

    A fast-path command ends with os._exit once its output is flushed: it leaves no atexit work (it
    closes its database before returning), and the interpreter's teardown of its modules costs ~6 ms,
    a quarter of a bare start, on a command an agent runs once per action.
    """
    fast = sys.argv[1:2] != [] and sys.argv[1] in FAST_PATHS
    code = main(ends_process=fast)
    if fast:
        import os  # already loaded by the interpreter's start-up: free

        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):  # None after a BrokenPipeError, or closed
                pass
        os._exit(code)
    sys.exit(code)


def _click_main(args: list[str]) -> int:
    import click

    group = _build_group()
    try:
        result = group.main(args, prog_name="perfpack", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted!", err=True)
        return 130
    return result if isinstance(result, int) else 0


def _run(call: Callable[[], int]) -> int:
    from perfpack.errors import PerfpackError

    try:
        return call()
    except PerfpackError as exc:
        sys.stderr.write(f"perfpack: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("perfpack: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); not an error worth a traceback.
        try:
            sys.stdout = None  # type: ignore[assignment]
        finally:
            return 0


if __name__ == "__main__":
    run()
