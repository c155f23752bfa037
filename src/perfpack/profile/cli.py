"""Click commands `perfpack profile [...] -- CMD`, `perfpack profile --pid PID` and
`perfpack profile diff A B`: argument translation over perfpack.profile.run and .diff."""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from perfpack.exitcodes import ExitCode
from perfpack.report import format_choices

_CTX = {"help_option_names": ["-h", "--help"], "max_content_width": 100, "allow_interspersed_args": False}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$")


def parse_duration(text: str) -> float:
    from perfpack.errors import PerfpackError
    from perfpack.terminal import one_line

    match = _DURATION.match(text)
    if not match:
        raise PerfpackError(
            f"--duration {one_line(text, limit=40)}: use a number of seconds or 500ms, 10s, 2m, 1h"
        )
    value = (
        float(match.group(1)) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "min": 60, "h": 3600}[match.group(2)]
    )
    if not 0 < value <= 7 * 24 * 3600:
        raise PerfpackError(f"--duration {one_line(text, limit=40)}: must be more than 0 and at most a week")
    return value


def parse_pid(text: str) -> int:
    from perfpack.errors import PerfpackError
    from perfpack.terminal import one_line

    if not text.strip().isdigit() or len(text.strip()) > 10 or int(text) <= 0:
        raise PerfpackError(f"--pid {one_line(text, limit=40)}: not a process id")
    return int(text)


class _ProfileCommand(click.Command):
    """`perfpack profile diff A B` is its own command; anything else is a profile run."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        if args[:1] == ["diff"]:
            return diff.make_context("profile diff", args[1:], parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)


@click.command(cls=_ProfileCommand, context_settings=_CTX)
@click.option(
    "--name",
    default=None,
    help="Name of this profile (its folder; for `profile diff`). Default: the program's name and the time.",
)
@click.option(
    "--top",
    type=click.IntRange(1, 100),
    default=8,
    show_default=True,
    help="Hot spots (or allocation sites) in the summary.",
)
@click.option(
    "--format", "fmt", type=click.Choice(format_choices("text", "json")), default="text", show_default=True
)
@click.option(
    "--out",
    default=None,
    metavar="DIR",
    help="Folder for the profile's files [default: .claude/perfpack/profiles/ in the project].",
)
@click.option("--memory", is_flag=True, help="Memory instead of CPU: the allocation sites live at the peak.")
@click.option(
    "--pid", default=None, metavar="PID", help="Attach to this running process (yours) instead of a command."
)
@click.option(
    "--duration",
    default=None,
    metavar="TIME",
    help="Stop after TIME (10s, 500ms, 2m): with --pid [default 10s], or to cut a long command short.",
)
@click.option(
    "--engine",
    default="auto",
    show_default=True,
    metavar="NAME",
    help="CPU: auto | py-spy | cprofile | perf. Memory: auto | memray | tracemalloc.",
)
@click.option(
    "--rate",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="Samples per second (py-spy, perf).",
)
@click.option("--native", is_flag=True, help="py-spy: include native (C/C++/Rust) frames of extensions.")
@click.option("--threads", is_flag=True, help="py-spy: keep one root per thread in the flame graph.")
@click.option(
    "--no-subprocesses",
    "no_subprocesses",
    is_flag=True,
    help="py-spy: do not follow child processes (followed by default).",
)
@click.option(
    "--project",
    type=click.Path(file_okay=False),
    default=None,
    help="Project folder (default: found from the current directory).",
)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def profile(
    name: str | None,
    top: int,
    fmt: str,
    out: str | None,
    memory: bool,
    pid: str | None,
    duration: str | None,
    engine: str,
    rate: int,
    native: bool,
    threads: bool,
    no_subprocesses: bool,
    project: str | None,
    command: tuple[str, ...],
) -> int:
    """Where a program's time (or memory) goes, as a summary of at most 2 KB.

    \b
      perfpack profile -- python app.py ARGS        CPU hot spots of a command (Python: py-spy)
      perfpack profile --memory -- python app.py    allocation sites at the memory peak
      perfpack profile --pid 1234 --duration 10s    attach to a running Python process
      perfpack profile diff BEFORE AFTER            which functions' shares moved most

    Hot spots show self share (the function's own code plus the library and native code it calls
    directly), total share (with all its callees), file:line and the call path. The full profile,
    the folded stacks and a flame graph (SVG) are written under .claude/perfpack/profiles/NAME/.
    Python is sampled with py-spy from outside the process, following threads and child processes;
    where py-spy cannot sample, cProfile runs it instead (the summary says why). Native programs use
    `perf` where it exists.

    Exit codes: 0 profiled; 2 bad input (the command failed, ended at once, is not profilable, a PID
    that is gone or not yours) with one line on stderr.
    """
    from perfpack.profile.run import Request
    from perfpack.profile.run import profile as run_profile
    from perfpack.profile.summary import cpu_text, memory_text, to_json
    from perfpack.report import Report, render

    request = Request(
        command=list(command),
        pid=parse_pid(pid) if pid is not None else None,
        duration=parse_duration(duration) if duration is not None else None,
        name=name,
        top=top,
        out=out,
        memory=memory,
        engine=engine,
        rate=rate,
        native=native,
        threads=threads,
        subprocesses=not no_subprocesses,
        project=project,
    )
    if sys.stderr.isatty():
        what = f"PID {pid}" if pid is not None else "the command"
        sys.stderr.write(
            f"perfpack: profiling {what}{' (memory)' if memory else ''}… Ctrl-C stops it and "
            "keeps what was measured\n"
        )
    outcome = run_profile(request)
    text = memory_text(outcome, top=top) if memory else cpu_text(outcome, top=top)
    report = Report("profile", data=to_json(outcome, limit=top), text=text)
    sys.stdout.write(render(report, fmt) + "\n")
    return ExitCode.OK


@click.command(context_settings={**_CTX, "allow_interspersed_args": True})
@click.argument("before")
@click.argument("after")
@click.option("--top", type=click.IntRange(1, 100), default=10, show_default=True, help="Functions shown.")
@click.option(
    "--format", "fmt", type=click.Choice(format_choices("text", "json")), default="text", show_default=True
)
@click.option(
    "--project",
    type=click.Path(file_okay=False),
    default=None,
    help="Project folder (default: found from the current directory).",
)
def diff(before: str, after: str, top: int, fmt: str, project: str | None) -> int:
    """Compare two profiles: the functions whose share moved most.

    BEFORE and AFTER are profile names (folders under .claude/perfpack/profiles/), folders, or
    profile.json files. Both CPU or both --memory.
    """
    from perfpack.profile.diff import diff_profiles, to_text
    from perfpack.report import Report, render

    result = diff_profiles(before, after, project=project, top=top)
    report = Report("profile diff", data=result.to_json(), text=to_text(result))
    sys.stdout.write(render(report, fmt) + "\n")
    return ExitCode.OK
