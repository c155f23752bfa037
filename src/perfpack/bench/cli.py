"""Click commands `perfpack bench`, `compare`, `baseline`, `history` and `report`: they only translate
arguments into requests for perfpack.bench.commands / report / baseline / history and print the result
through the shared reporters."""

from __future__ import annotations

import sys
from typing import Any

import click

from perfpack.exitcodes import ExitCode
from perfpack.report import format_choices

FORMATS = click.Choice(format_choices("text", "json", "markdown"))
_CTX = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_ARGS_CTX = {**_CTX, "allow_interspersed_args": False}


def _emit(report: Any, fmt: str) -> None:
    from perfpack.report import render

    text = render(report, fmt)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


_common = [
    click.option(
        "--warmup",
        type=click.IntRange(0, 10_000),
        default=1,
        show_default=True,
        help="Unmeasured runs first (warm caches).",
    ),
    click.option(
        "--timeout",
        type=click.FloatRange(0, min_open=True),
        default=None,
        help="Seconds per run; on expiry the whole process tree is killed.",
    ),
    click.option("--shell", is_flag=True, help="Run through /bin/sh -c (off by default: no shell)."),
    click.option("--ignore-failure", is_flag=True, help="Keep measuring when a run fails or times out."),
    click.option(
        "--show-output",
        is_flag=True,
        help="Let the command write to the terminal (default: /dev/null; "
        "a failing run's last stderr lines are shown).",
    ),
    click.option(
        "--env",
        "env",
        multiple=True,
        metavar="NAME=VALUE",
        help="Set a variable for the command and pin it: a baseline compares only with runs that "
        "pinned the same value. Repeatable.",
    ),
    click.option(
        "--pin-env",
        "pin_env",
        multiple=True,
        metavar="NAME",
        help="Pin a variable at its current value (or as unset). Repeatable.",
    ),
    click.option(
        "--min-effect",
        default="5%",
        show_default=True,
        help="Smallest change reported as faster/slower (below it: same).",
    ),
    click.option(
        "--max-regression",
        default=None,
        help="Tolerated significant slowdown, e.g. 5%  [default: the minimum effect].",
    ),
    click.option(
        "--allow-changed-command",
        "allow_changed",
        is_flag=True,
        help="Compare with a baseline even though the command, its arguments, working directory or "
        "pinned variables differ (the result says what differed).",
    ),
    click.option("--format", "fmt", type=FORMATS, default="text", show_default=True),
    click.option(
        "--project",
        type=click.Path(file_okay=False),
        default=None,
        help="Project folder (default: found from the current directory).",
    ),
]


def _with_common(func: Any) -> Any:
    for option in reversed(_common):
        func = option(func)
    return func


def _run_options(**kw: Any) -> Any:
    from perfpack.bench.commands import RunOptions

    return RunOptions(
        shell=kw["shell"],
        warmup=kw["warmup"],
        timeout=kw["timeout"],
        ignore_failure=kw["ignore_failure"],
        show_output=kw["show_output"],
        env=list(kw["env"]),
        pin_env=list(kw["pin_env"]),
        min_effect=kw["min_effect"],
        max_regression=kw["max_regression"],
        allow_changed=kw["allow_changed"],
        project=kw["project"],
    )


@click.command(context_settings=_ARGS_CTX)
@click.option(
    "--runs",
    type=click.IntRange(1, 1_000_000),
    default=None,
    help="Measured runs [default: as many as fit in 1 s, 10 to 1000].",
)
@click.option(
    "--min-time",
    type=click.FloatRange(0, min_open=True),
    default=None,
    help="Run until this many seconds have passed (at least 10 runs).",
)
@click.option(
    "--name",
    default=None,
    help="Baseline name: compare with it, and --save to it. Also the label in the report.",
)
@click.option(
    "--save",
    is_flag=True,
    help="Save this run as baseline NAME (needs --name; refused when NAME exists, unless --force).",
)
@click.option(
    "--force",
    is_flag=True,
    help="With --save: replace an existing baseline (its figures stay in `perfpack history NAME`).",
)
@click.option(
    "--budget",
    "budgets",
    multiple=True,
    metavar="METRIC=VALUE",
    help="Absolute budget: p50/median/mean/min/max/p95/p99 in ns/us/ms/s, rss in B, kB/MB/GB "
    "(MB = 10^6 bytes) or KiB/MiB/GiB (MiB = 2^20 bytes), e.g. rss=64MiB. Repeatable.",
)
@click.option(
    "--budget-preset",
    "presets",
    multiple=True,
    metavar="NAME",
    help="Named budget set: kpi = p50<100ms, p95<300ms, p99<1s.",
)
@_with_common
@click.argument("command", nargs=-1, required=True, metavar="-- CMD [ARG]...")
def bench(
    command: tuple[str, ...],
    runs: int | None,
    min_time: float | None,
    name: str | None,
    save: bool,
    force: bool,
    budgets: tuple[str, ...],
    presets: tuple[str, ...],
    fmt: str,
    **kw: Any,
) -> int:
    """Benchmark CMD: wall time, CPU, peak RSS of the process tree, with statistics.

    \b
    perfpack bench --runs 30 -- python app.py --fast
    perfpack bench --name startup --save -- ./start.sh          # save a baseline
    perfpack bench --name startup --budget p95=300ms -- ./start.sh   # compare + budget

    With --name and a saved baseline, the run is compared with it, like with like only: the
    command, its arguments, working directory and pinned variables (--env, --pin-env) must match,
    or it is "not comparable" (exit 2) unless --allow-changed-command. The verdict (Mann-Whitney U,
    ratio of medians with a bootstrap interval, minimum effect) is same only when the interval lies
    within the minimum effect, faster/slower when it excludes 1 beyond it and the test agrees, else
    inconclusive with the reason.

    Exit codes: 0 fine, 1 a breached budget or a significant regression beyond --max-regression,
    2 usage error, a corrupt or not comparable baseline, an existing NAME without --force, or a
    failing command (its last stderr lines are shown).
    """
    from perfpack.bench.commands import BenchRequest, run_bench

    result = run_bench(
        BenchRequest(
            command=list(command),
            options=_run_options(**kw),
            runs=runs,
            min_time=min_time,
            name=name,
            save=save,
            force=force,
            budgets=list(budgets),
            presets=list(presets),
        )
    )
    _emit(result.to_report(), fmt)
    return result.exit_code


@click.command(context_settings=_ARGS_CTX)
@click.option(
    "--runs", type=click.IntRange(2, 100_000), default=30, show_default=True,
    help="Number of A/B pairs (a verdict needs at least 5: fewer only show the figures).",
)
@click.option("--name", default=None, help="Label of this comparison in the output and the report.")
@click.option(
    "--rev",
    "revs",
    multiple=True,
    metavar="REV",
    help="Twice: compare CMD at two git revisions, each in a temporary worktree (removed "
    "afterwards, also on Ctrl-C or SIGTERM).",
)
@click.option(
    "--setup",
    default=None,
    metavar="SHELL-CMD",
    help="With --rev: run once in each worktree before measuring (e.g. a build).",
)
@click.option("--no-store", is_flag=True, help="Do not keep the result for `perfpack report`.")
@_with_common
@click.argument(
    "commands", nargs=-1, required=True, metavar="CMD_A... --vs CMD_B...  |  --rev A --rev B -- CMD..."
)
def compare(
    commands: tuple[str, ...],
    runs: int,
    name: str | None,
    revs: tuple[str, ...],
    setup: str | None,
    no_store: bool,
    fmt: str,
    **kw: Any,
) -> int:
    """Compare CMD_A (before) with CMD_B (after), or CMD at two git revisions, interleaved in one run.

    \b
    perfpack compare --runs 30 -- python old.py --vs python new.py
    perfpack compare --name checkout --rev main --rev HEAD -- python -m app.bench

    Pairs run in random AB/BA order so a drifting, shared machine affects both alike. The ratio
    B/A is the median of the pair ratios with a bootstrap 95% interval; the verdict uses
    Mann-Whitney U and the minimum effect: same only when the interval lies within it, inconclusive
    (with the reason) when the interval and the test disagree or the pairs are too noisy.
    With --rev, CMD runs in the same sub-folder of two temporary worktrees.

    Exit codes: 0 same, faster or inconclusive (or a slowdown within --max-regression), 1 B
    significantly slower, 2 usage error, an unknown revision, or a failing command.
    """
    from perfpack.bench.commands import CompareRequest, run_compare
    from perfpack.errors import PerfpackError

    parts = list(commands)
    if revs:
        if "--vs" in parts:
            raise PerfpackError(
                "--rev runs one command at two revisions: drop --vs",
                hint="perfpack compare --rev main --rev HEAD -- CMD ARGS",
            )
        a, b = parts, []
    else:
        if parts.count("--vs") != 1:
            raise PerfpackError(
                "compare needs exactly one --vs between the two commands",
                hint="perfpack compare -- CMD_A ARGS --vs CMD_B ARGS  (or --rev A --rev B -- CMD)",
            )
        split = parts.index("--vs")
        a, b = parts[:split], parts[split + 1 :]
    result = run_compare(
        CompareRequest(
            a=a,
            b=b,
            revs=list(revs),
            setup=setup,
            options=_run_options(**kw),
            pairs=runs,
            name=name,
            store=not no_store,
        )
    )
    _emit(result.to_report(), fmt)
    return result.exit_code


@click.group(context_settings=_CTX)
def baseline() -> None:
    """List, show or remove saved baselines (.claude/perfpack/baselines/NAME.json).

    Exit codes: 0 done, 2 no such baseline, an invalid name, or a corrupt file.
    """


_project_option = click.option(
    "--project",
    type=click.Path(file_okay=False),
    default=None,
    help="Project folder (default: found from the current directory).",
)


@baseline.command("list", context_settings=_CTX)
@_project_option
@click.option(
    "--format", "fmt", type=click.Choice(format_choices("text", "json")), default="text", show_default=True
)
def baseline_list(project: str | None, fmt: str) -> int:
    """List saved baselines with their median and p95. Exit 0 (2 if a file is corrupt)."""
    from perfpack.bench import render
    from perfpack.bench.baseline import list_baselines
    from perfpack.bench.commands import project_root
    from perfpack.report import Report

    items = list_baselines(project_root(project))
    _emit(
        Report(command="baseline list", data={"baselines": items}, text=render.baseline_list_text(items)), fmt
    )
    return ExitCode.USAGE if any(item.get("error") for item in items) else ExitCode.OK


@baseline.command("show", context_settings=_CTX)
@click.argument("name")
@_project_option
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def baseline_show(name: str, project: str | None, fmt: str) -> int:
    """Show one baseline: what was measured, where, its statistics and budgets."""
    from perfpack.bench import render
    from perfpack.bench.baseline import load
    from perfpack.bench.commands import project_root
    from perfpack.report import Report

    b = load(project_root(project), name)
    text = render.baseline_text(b)
    _emit(
        Report(command="baseline show", data=b.to_dict(), text=text, markdown="```\n" + text + "```\n"), fmt
    )
    return ExitCode.OK


@baseline.command("rm", context_settings=_CTX)
@click.argument("name")
@_project_option
def baseline_rm(name: str, project: str | None) -> int:
    """Remove a saved baseline (its history stays: `perfpack history NAME`)."""
    from perfpack.bench.baseline import remove
    from perfpack.bench.commands import project_root
    from perfpack.terminal import one_line

    path = remove(project_root(project), name)
    sys.stdout.write(f"removed {one_line(str(path))} (its history stays)\n")
    return ExitCode.OK


@click.command(context_settings=_CTX)
@click.argument("name")
@_project_option
@click.option(
    "--min-effect", default="5%", show_default=True, help="Smallest step flagged as a change point."
)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def history(name: str, project: str | None, min_effect: str, fmt: str) -> int:
    """Every saved run of baseline NAME over time: trend and change points.

    Each `perfpack bench --name NAME --save` appends one line (commit, date, host fingerprint,
    percentiles, CPU, peak RSS) to .claude/perfpack/history/NAME.jsonl, meant to be committed. A
    change point is a step in the median at least the minimum effect and beyond the runs' noise.

    Exit codes: 0 shown (also when there is no history yet), 2 an invalid name or project.
    """
    from perfpack.bench import render
    from perfpack.bench.baseline import check_name
    from perfpack.bench.budgets import parse_percent
    from perfpack.bench.commands import project_root
    from perfpack.bench.history import read_history
    from perfpack.report import Report

    effect = parse_percent(min_effect, "--min-effect")
    h = read_history(project_root(project), check_name(name), min_effect=0.05 if effect is None else effect)
    _emit(
        Report(
            command="history",
            data=render.history_data(h),
            text=render.history_text(h),
            markdown=render.history_markdown(h),
        ),
        fmt,
    )
    return ExitCode.OK


@click.command(context_settings=_CTX)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the report here (SVG charts are saved beside it); default: stdout, no charts.",
)
@_project_option
@click.option(
    "--budget",
    "budgets",
    multiple=True,
    metavar="METRIC=VALUE",
    help="Budgets to check every baseline against.",
)
@click.option("--budget-preset", "presets", multiple=True, metavar="NAME", help="e.g. kpi.")
@click.option(
    "--limit",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="Newest comparisons to include.",
)
def report(
    out: str | None, project: str | None, budgets: tuple[str, ...], presets: tuple[str, ...], limit: int
) -> int:
    """Write the Markdown performance report: comparisons (with every caveat), history with change
    points, baselines, budgets; with --out, SVG charts beside it (before/after, one trend per name).

    Exit codes: 0 written (budgets shown, not enforced here), 2 usage error.
    """
    from perfpack.bench.report import ReportRequest, build_report

    result = build_report(
        ReportRequest(project=project, out=out, budgets=list(budgets), presets=list(presets), limit=limit)
    )
    _emit(result.to_report(), "text")
    return result.exit_code
