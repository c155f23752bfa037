"""The `perfpack` command: a thin click group whose subcommands are imported only when run.

Each subcommand lives in its capability's package (`perfpack/<capability>/cli.py`) and returns an
exit code (perfpack.exitcodes.ExitCode). This module is the one error handler: an expected failure
(PerfpackError) becomes one clear line and exit 2; an unexpected exception (a bug) becomes one line,
exit 3, and its traceback in a log file, so CI never mistakes a crash for findings (exit 1).
"""

from __future__ import annotations

import sys

# `typing` costs about a third of a bare interpreter start, and every command starts here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# name -> ("module:attribute", one-line help shown by `perfpack --help` without importing the module)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("perfpack.validate.cli:validate",
                 "Check agent, command, plugin and hook files against what Claude Code really accepts."),
    "install": ("perfpack.install.cli:install",
                "Install the agents, /optimize and hooks into a project's .claude/."),
    "uninstall": ("perfpack.install.cli:uninstall", "Remove exactly what `perfpack install` added."),
    "route": ("perfpack.route.cli:route", "Explain which agent a prompt is routed to, and why."),
    "snapshot": ("perfpack.snapshot.cli:snapshot",
                 "Baseline of the host and project for /optimize (always exits 0)."),
    "bench": ("perfpack.bench.cli:bench", "Benchmark a command; save baselines, enforce budgets."),
    "compare": ("perfpack.bench.cli:compare", "Compare two commands, or two git revisions, interleaved."),
    "baseline": ("perfpack.bench.cli:baseline", "List, show or remove saved baselines."),
    "history": ("perfpack.bench.cli:history", "A baseline over time: every saved run, trend, change points."),
    "report": ("perfpack.bench.cli:report", "Write the Markdown performance report from baselines."),
    "load": ("perfpack.load.cli:load",
             "HTTP load, open loop: latency without coordinated omission, k6-style thresholds."),
    "memory": ("perfpack.memory.cli:memory", "Agent memory that survives sessions and parallel subagents."),
    "evidence": ("perfpack.evidence.cli:evidence",
                 "Check that the figures in an agent's report were really measured (the ledger)."),
    "commits": ("perfpack.commits.cli:commits",
                "Check commits are atomic: size, one concern, sign-off, trailers."),
    "explain": ("perfpack.explain.cli:explain",
                "Query plans, full table reads, N+1 loops, and the indexes that fix them, measured."),
    "profile": ("perfpack.profile.cli:profile",
                "Where a program's time or memory goes: hot spots in 2 KB, a flame graph."),
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

    settings = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

    @click.group(cls=LazyGroup, context_settings=settings)
    @click.version_option(__version__, prog_name="perfpack")
    def perfpack() -> None:
        """perfpack: performance engineering for Claude Code.

        Validate agent packs, install the performance agents into a project, route prompts,
        measure and compare commands against saved baselines and budgets, load-test HTTP,
        profile programs, explain slow queries, keep agent memory, check that commits stay
        atomic and that an agent's figures were measured.

        Exit codes: 0 fine, 1 findings / violations / regression / breached budget or threshold,
        2 usage or environment error (one line, nothing changed), 3 internal error (a bug; the
        traceback is written to $XDG_CACHE_HOME/perfpack/perfpack.log, by default
        ~/.cache/perfpack/perfpack.log), 130 interrupted.
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

    from perfpack.exitcodes import ExitCode

    group = _build_group()
    try:
        result = group.main(args, prog_name="perfpack", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:  # Ctrl-C inside a click prompt or command
        sys.stderr.write("perfpack: interrupted\n")
        return ExitCode.INTERRUPTED
    return result if isinstance(result, int) else 0


def _run(call: Callable[[], int]) -> int:
    from perfpack.errors import PerfpackError
    from perfpack.exitcodes import ExitCode

    try:
        return call()
    except PerfpackError as exc:
        sys.stderr.write(f"perfpack: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("perfpack: interrupted\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); not an error worth a traceback. Dropping stdout keeps
        # the interpreter's final flush from raising it again.
        sys.stdout = None
        return ExitCode.OK
    except Exception as exc:  # a bug: say so in one line, keep the traceback for the report
        where = _log_internal_error(exc)
        sys.stderr.write(f"perfpack: internal error: {type(exc).__name__}: {str(exc)[:300]}\n"
                         f"  this is a bug in perfpack, not in your files; "
                         f"{'the traceback is in ' + where if where else 'no log file could be written'}\n")
        return ExitCode.INTERNAL


def crash_log_path() -> str:
    """$XDG_CACHE_HOME/perfpack/perfpack.log (default ~/.cache/...), as pre-commit keeps its log."""
    import os

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "perfpack", "perfpack.log")


def _log_internal_error(exc: BaseException) -> str:
    """Append the traceback (with perfpack's version and the command line) to the crash log; its path."""
    import os
    import time
    import traceback

    from perfpack import __version__
    from perfpack.safeio import append_nofollow

    path = crash_log_path()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    from perfpack.redact import redact_argv

    # the command line may carry a secret: a database URL's password (explain --db), a measured command's
    # token (bench -- curl -H 'Authorization: Bearer ...')
    argv = redact_argv(sys.argv)
    entry = (f"--- {stamp} perfpack {__version__} python {sys.version.split()[0]}\n"
             f"argv: {argv!r}\n" + "".join(traceback.format_exception(exc)))
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        append_nofollow(path, entry.encode("utf-8", "backslashreplace"))
    except Exception:  # the log is a courtesy; the one-line message already says what happened
        return ""
    return path


if __name__ == "__main__":
    run()
