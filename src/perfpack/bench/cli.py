"""Click commands `perfpack bench`, `compare`, `baseline` and `report`: argument parsing over engine/baseline."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import Any

import click

from perfpack.errors import PerfpackError
from perfpack.exitcodes import ExitCode

FORMATS = click.Choice(["text", "json", "markdown"])
_CTX = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_ARGS_CTX = {**_CTX, "allow_interspersed_args": False}


def _root(project: str | None) -> Path:
    from perfpack.project import find_project_root

    return find_project_root(project) if project else find_project_root()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _emit(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _plan(command: tuple[str, ...], *, shell: bool, runs: int | None, min_time: float | None, warmup: int,
          timeout: float | None, ignore_failure: bool, show_output: bool) -> Any:
    from perfpack.bench.engine import Plan
    from perfpack.bench.runner import resolve_command

    if runs is not None and min_time is not None:
        raise PerfpackError("--runs and --min-time are exclusive", hint="pick one")
    argv = resolve_command(list(command), shell=shell)
    return Plan(argv=argv, display=list(command), runs=runs, min_time=min_time, warmup=warmup, timeout=timeout,
                ignore_failure=ignore_failure, show_output=show_output)


_common = [
    click.option("--warmup", type=click.IntRange(0, 10_000), default=1, show_default=True,
                 help="Unmeasured runs first (warm caches)."),
    click.option("--timeout", type=click.FloatRange(0, min_open=True), default=None,
                 help="Seconds per run; on expiry the whole process tree is killed."),
    click.option("--shell", is_flag=True, help="Run through /bin/sh -c (off by default: no shell)."),
    click.option("--ignore-failure", is_flag=True, help="Keep measuring when a run fails or times out."),
    click.option("--show-output", is_flag=True, help="Let the command write to the terminal (default: /dev/null)."),
    click.option("--min-effect", default="5%", show_default=True,
                 help="Smallest change reported as faster/slower (below it: same)."),
    click.option("--max-regression", default=None,
                 help="Tolerated significant slowdown, e.g. 5%  [default: the minimum effect]."),
    click.option("--format", "fmt", type=FORMATS, default="text", show_default=True),
    click.option("--project", type=click.Path(file_okay=False), default=None,
                 help="Project folder (default: found from the current directory)."),
]


def _with_common(func: Any) -> Any:
    for option in reversed(_common):
        func = option(func)
    return func


@click.command(context_settings=_ARGS_CTX)
@click.option("--runs", type=click.IntRange(1, 1_000_000), default=None,
              help="Measured runs [default: as many as fit in 1 s, 10 to 1000].")
@click.option("--min-time", type=click.FloatRange(0, min_open=True), default=None,
              help="Run until this many seconds have passed (at least 10 runs).")
@click.option("--name", default=None, help="Baseline name: compare with it, and --save to it.")
@click.option("--save", is_flag=True, help="Save this run as baseline NAME (needs --name).")
@click.option("--budget", "budgets", multiple=True, metavar="METRIC=VALUE",
              help="Absolute budget: p50/median/mean/min/max/p95/p99 in ns/us/ms/s, rss in B/KB/MB/GB. Repeatable.")
@click.option("--budget-preset", "presets", multiple=True, metavar="NAME",
              help="Named budget set: kpi = p50<100ms, p95<300ms, p99<1s.")
@_with_common
@click.argument("command", nargs=-1, required=True, metavar="-- CMD [ARG]...")
def bench(command: tuple[str, ...], runs: int | None, min_time: float | None, name: str | None, save: bool,
          budgets: tuple[str, ...], presets: tuple[str, ...], warmup: int, timeout: float | None, shell: bool,
          ignore_failure: bool, show_output: bool, min_effect: str, max_regression: str | None, fmt: str,
          project: str | None) -> int:
    """Benchmark CMD: wall time, CPU, peak RSS of the process tree, with statistics.

    \b
    perfpack bench --runs 30 -- python app.py --fast
    perfpack bench --name startup --save -- ./start.sh          # save a baseline
    perfpack bench --name startup --budget p95=300ms -- ./start.sh   # compare + budget

    With --name and a saved baseline, the run is compared with it (Mann-Whitney U, ratio of medians
    with a bootstrap interval, minimum effect).

    Exit codes: 0 fine, 1 a breached budget or a significant regression beyond --max-regression,
    2 usage error, a corrupt baseline, or a failing command.
    """
    from perfpack.bench import baseline as store
    from perfpack.bench import engine, render
    from perfpack.bench.budgets import parse_budgets, parse_percent
    from perfpack.bench.runner import enable_subreaper

    effect = parse_percent(min_effect, "--min-effect") or 0.0
    allowance = parse_percent(max_regression)
    limits = parse_budgets(list(budgets), list(presets))
    if save and not name:
        raise PerfpackError("--save needs --name", hint="e.g. perfpack bench --name startup --save -- CMD")
    if name:
        store.check_name(name)
    root = _root(project) if (name or project) else None
    previous = None
    if name and root is not None and store.baseline_path(root, name).exists():
        previous = store.load_baseline(root, name)  # fail on a corrupt baseline before spending time measuring
    plan = _plan(command, shell=shell, runs=runs, min_time=min_time, warmup=warmup, timeout=timeout,
                 ignore_failure=ignore_failure, show_output=show_output)
    enable_subreaper()
    measured = engine.measure(plan, progress=engine.Progress(" ".join(command)[:40]))
    summary = engine.summarize_runs(measured)
    result: dict[str, Any] = {
        "command": list(command), "shell": shell, "name": name,
        "settings": {"runs": len(measured), "warmup": warmup, "timeout": timeout, "min_time": min_time},
        "samples": engine.samples_of(measured), "summary": summary, "notes": [],
    }
    regression = False
    if previous is not None:
        verdict = engine.judge_runs(previous["samples"]["wall_s"], result["samples"]["wall_s"], paired=False,
                                    min_effect=effect)
        regression = engine.is_regression(verdict, allowance, effect)
        result["comparison"] = {"name": name, "saved_at": previous["saved_at"],
                                "before_median": previous["summary"]["wall_s"]["median"],
                                "verdict": verdict.to_dict(), "regression": regression,
                                "command_differs": previous["command"] != list(command)}
    elif name and not save:
        result["notes"].append(f"no baseline named {name!r} yet; add --save to create it")
    if allowance is not None and previous is None:
        result["notes"].append("--max-regression needs a saved baseline (--name NAME) to compare with")
    checked = [b.check(summary) for b in limits]
    result["budgets"] = checked
    breached = [b for b in checked if not b["ok"]]
    status = []
    if breached:
        status.append("budget breached: " + ", ".join(b["text"] for b in breached))
    if regression:
        status.append("significant regression")
    result["status"] = "; ".join(status) or "ok"
    if root is not None:
        env = store.environment(root)
        if previous is not None:
            result["comparison"]["stored"] = str(store.save_comparison(root, {
                "schema_version": store.SCHEMA_VERSION, "kind": "perfpack-comparison", "label": name,
                "saved_at": _now(), "mode": "baseline",
                "before": {"label": f"baseline {name} ({previous['saved_at']})", "command": previous["command"],
                           "summary": previous["summary"]},
                "after": {"label": "this run", "command": list(command), "summary": summary},
                "verdict": result["comparison"]["verdict"], "budgets": checked, "environment": env}))
        if save:
            record = {"schema_version": store.SCHEMA_VERSION, "kind": store.KIND, "name": name, "saved_at": _now(),
                      "command": list(command), "shell": shell, "settings": result["settings"], "environment": env,
                      "samples": result["samples"], "summary": summary, "budgets": checked}
            result["saved"] = str(store.save_baseline(root, record))
    renderer = {"text": render.bench_text, "json": render.as_json, "markdown": render.bench_markdown}[fmt]
    _emit(renderer(result))
    return ExitCode.FINDINGS if (breached or regression) else ExitCode.OK


@click.command(context_settings=_ARGS_CTX)
@click.option("--runs", type=click.IntRange(2, 100_000), default=30, show_default=True,
              help="Number of A/B pairs.")
@click.option("--no-store", is_flag=True, help="Do not store the result for `perfpack report`.")
@_with_common
@click.argument("commands", nargs=-1, required=True, metavar="CMD_A... --vs CMD_B...")
def compare(commands: tuple[str, ...], runs: int, no_store: bool, warmup: int, timeout: float | None, shell: bool,
            ignore_failure: bool, show_output: bool, min_effect: str, max_regression: str | None, fmt: str,
            project: str | None) -> int:
    """Compare CMD_A (before) with CMD_B (after), interleaved in one run.

    \b
    perfpack compare --runs 30 -- python old.py --vs python new.py

    Pairs run in random AB/BA order so a drifting, shared machine affects both alike. The
    ratio B/A is the median of the pair ratios with a bootstrap 95% interval; the verdict uses
    Mann-Whitney U and the minimum effect.

    Exit codes: 0 same or faster (or a slowdown within --max-regression), 1 B significantly
    slower, 2 usage error or a failing command.
    """
    from perfpack.bench import baseline as store
    from perfpack.bench import engine, render
    from perfpack.bench.budgets import parse_percent
    from perfpack.bench.runner import enable_subreaper

    effect = parse_percent(min_effect, "--min-effect") or 0.0
    allowance = parse_percent(max_regression)
    if commands.count("--vs") != 1:
        raise PerfpackError("compare needs exactly one --vs between the two commands",
                            hint="perfpack compare -- CMD_A ARGS --vs CMD_B ARGS")
    split = commands.index("--vs")
    cmd_a, cmd_b = commands[:split], commands[split + 1:]
    if not cmd_a or not cmd_b:
        raise PerfpackError("compare needs a command on each side of --vs",
                            hint="perfpack compare -- CMD_A ARGS --vs CMD_B ARGS")
    plans = [_plan(c, shell=shell, runs=runs, min_time=None, warmup=warmup, timeout=timeout,
                   ignore_failure=ignore_failure, show_output=show_output) for c in (cmd_a, cmd_b)]
    enable_subreaper()
    runs_a, runs_b = engine.interleave(plans[0], plans[1], runs, progress=engine.Progress("compare"))
    verdict = engine.judge_runs([r.wall_s for r in runs_a], [r.wall_s for r in runs_b], paired=True,
                                min_effect=effect)
    regression = engine.is_regression(verdict, allowance, effect)
    result: dict[str, Any] = {
        "schema_version": store.SCHEMA_VERSION, "kind": "perfpack-comparison",
        "label": f"{shlex.join(cmd_a)} vs {shlex.join(cmd_b)}"[:200], "saved_at": _now(), "mode": "interleaved",
        "before": {"label": "A", "command": list(cmd_a), "summary": engine.summarize_runs(runs_a)},
        "after": {"label": "B", "command": list(cmd_b), "summary": engine.summarize_runs(runs_b)},
        "verdict": verdict.to_dict(),
    }
    if not no_store:
        root = _root(project)
        result["environment"] = store.environment(root)
        result["saved"] = str(store.save_comparison(root, {k: v for k, v in result.items() if k != "saved"}))
    result.update({"pairs": runs, "regression": regression,
                   "status": "significant regression (B slower than A)" if regression else "ok",
                   "samples": {"a": engine.samples_of(runs_a), "b": engine.samples_of(runs_b)}})
    renderer = {"text": render.compare_text, "json": render.as_json, "markdown": render.compare_markdown}[fmt]
    _emit(renderer(result))
    return ExitCode.FINDINGS if regression else ExitCode.OK


@click.group(context_settings=_CTX)
def baseline() -> None:
    """List, show or remove saved baselines (.claude/perfpack/baselines/NAME.json).

    Exit codes: 0 done, 2 no such baseline, an invalid name, or a corrupt file.
    """


_project_option = click.option("--project", type=click.Path(file_okay=False), default=None,
                               help="Project folder (default: found from the current directory).")


@baseline.command("list", context_settings=_CTX)
@_project_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def baseline_list(project: str | None, fmt: str) -> int:
    """List saved baselines with their median and p95. Exit 0 (2 if a file is corrupt)."""
    from perfpack.bench import render
    from perfpack.bench.baseline import list_baselines
    from perfpack.bench.budgets import format_seconds as fs

    items = list_baselines(_root(project))
    if fmt == "json":
        _emit(render.as_json(items))
    elif not items:
        _emit("no baselines saved yet (perfpack bench --name NAME --save -- CMD)\n")
    else:
        for item in items:
            if item.get("error"):
                _emit(f"{item['name']:<24} ERROR {item['error']}\n")
            else:
                s = item["summary"]
                _emit(f"{item['name']:<24} median {fs(s['median']):>9}  p95 {fs(s['p95']):>9}  n={s['n']:<5} "
                      f"{item['saved_at']}  {shlex.join(item['command'])}\n")
    return ExitCode.USAGE if any(item.get("error") for item in items) else ExitCode.OK


@baseline.command("show", context_settings=_CTX)
@click.argument("name")
@_project_option
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def baseline_show(name: str, project: str | None, fmt: str) -> int:
    """Show one baseline: environment, statistics, budgets."""
    from perfpack.bench import render
    from perfpack.bench.baseline import load_baseline

    data = load_baseline(_root(project), name)
    if fmt == "json":
        _emit(render.as_json(data))
        return ExitCode.OK
    view = {**data, "status": "saved " + data["saved_at"], "notes": []}
    env = data["environment"]
    text = render.bench_markdown(view) if fmt == "markdown" else render.bench_text(view)
    _emit(text + f"host {env['host'].get('hostname')} ({env['host'].get('cpu_count')} CPUs), Python "
          f"{env['python'].get('version')}, git {env['git'].get('commit') or 'n/a'}\n")
    return ExitCode.OK


@baseline.command("rm", context_settings=_CTX)
@click.argument("name")
@_project_option
def baseline_rm(name: str, project: str | None) -> int:
    """Remove a saved baseline."""
    from perfpack.bench.baseline import remove_baseline

    path = remove_baseline(_root(project), name)
    _emit(f"removed {path}\n")
    return ExitCode.OK


@click.command(context_settings=_CTX)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the report here (an SVG chart is saved beside it); default: stdout, no chart.")
@_project_option
@click.option("--budget", "budgets", multiple=True, metavar="METRIC=VALUE", help="Budgets to check every baseline against.")
@click.option("--budget-preset", "presets", multiple=True, metavar="NAME", help="e.g. kpi.")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Newest comparisons to include.")
def report(out: str | None, project: str | None, budgets: tuple[str, ...], presets: tuple[str, ...],
           limit: int) -> int:
    """Write the Markdown performance report: baselines, before/after comparisons, budgets, chart.

    Exit codes: 0 written (budgets shown, not enforced here), 2 usage error.
    """
    from perfpack.bench.budgets import parse_budgets
    from perfpack.bench.report import build_report

    limits = parse_budgets(list(budgets), list(presets))
    root = _root(project)
    text, svg = build_report(root, limits=limits, limit=limit, chart_name=Path(out).with_suffix(".svg").name
                             if out else None)
    if out:
        from perfpack.bench.baseline import write_text

        target = Path(out)
        write_text(target, text)
        written = [str(target)]
        if svg:
            write_text(target.with_suffix(".svg"), svg)
            written.append(str(target.with_suffix(".svg")))
        _emit("wrote " + ", ".join(written) + "\n")
    else:
        _emit(text)
    return ExitCode.OK
