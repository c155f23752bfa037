"""`perfpack bench` and `perfpack compare` as plain functions: a typed request in, a typed result out.

run_bench(BenchRequest) -> BenchResult and run_compare(CompareRequest) -> CompareResult do all the work
(measuring, baselines, history, comparisons, budgets, the ledger); each result turns into a
perfpack.report.Report for the shared reporters. The click layer (bench/cli.py) only translates arguments.
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfpack.bench import engine
from perfpack.bench.baseline import Baseline, Identity, Measurement, check_name, identity_for
from perfpack.bench.budgets import Budget, parse_budgets, parse_percent
from perfpack.bench.comparison import Comparison
from perfpack.errors import PerfpackError
from perfpack.exitcodes import ExitCode
from perfpack.terminal import one_line

if TYPE_CHECKING:
    from perfpack.report import Report


@dataclass
class RunOptions:
    """How each command is run: shared by bench and compare."""

    shell: bool = False
    warmup: int = 1
    timeout: float | None = None
    ignore_failure: bool = False
    show_output: bool = False
    env: list[str] = field(default_factory=list)  # NAME=VALUE: set for the command and pinned
    pin_env: list[str] = field(default_factory=list)  # NAME: pinned at its current value (or as unset)
    min_effect: str = "5%"
    max_regression: str | None = None
    allow_changed: bool = False  # compare with a baseline although what was measured differs
    project: str | None = None
    cwd: str | None = None  # where the command runs (default: the current directory)
    ledger: bool = True


@dataclass
class BenchRequest:
    command: list[str]
    options: RunOptions = field(default_factory=RunOptions)
    runs: int | None = None
    min_time: float | None = None
    name: str | None = None
    save: bool = False
    force: bool = False
    budgets: list[str] = field(default_factory=list)
    presets: list[str] = field(default_factory=list)


@dataclass
class BenchResult:
    request: BenchRequest
    measurement: Measurement
    summary: dict[str, Any]
    budgets: list[dict[str, Any]]
    comparison: Comparison | None = None
    regression: bool = False
    saved: Baseline | None = None
    stored: Path | None = None  # the comparison kept for `perfpack report`
    notes: list[str] = field(default_factory=list)
    failed_runs: int = 0
    last_stderr: str = ""
    ledger_id: str = ""

    @property
    def breached(self) -> list[dict[str, Any]]:
        return [b for b in self.budgets if not b["ok"]]

    @property
    def exit_code(self) -> int:
        return ExitCode.FINDINGS if (self.breached or self.regression) else ExitCode.OK

    def status(self) -> str:
        parts = []
        if self.breached:
            parts.append("budget breached: " + ", ".join(b["text"] for b in self.breached))
        if self.regression:
            parts.append("significant regression")
        return "; ".join(parts) or "ok"

    def to_report(self) -> Report:
        from perfpack.bench import render
        from perfpack.report import Report

        return Report(
            command="bench",
            data=render.bench_data(self),
            text=render.bench_text(self),
            markdown=render.bench_markdown(self),
            failed=self.exit_code != ExitCode.OK,
        )


@dataclass
class CompareRequest:
    """Either two commands (`a`, `b`) or one command at two git revisions (`revs`)."""

    a: list[str] = field(default_factory=list)
    b: list[str] = field(default_factory=list)
    revs: list[str] = field(default_factory=list)
    setup: str | None = None  # --rev: run once in each worktree before measuring
    options: RunOptions = field(default_factory=RunOptions)
    pairs: int = engine.DEFAULT_PAIRS
    name: str | None = None
    store: bool = True


@dataclass
class CompareResult:
    request: CompareRequest
    comparison: Comparison
    regression: bool
    samples: dict[str, dict[str, list[Any]]]
    stored: Path | None = None
    subjects: tuple[str, str] = ("", "")
    ledger_id: str = ""

    @property
    def exit_code(self) -> int:
        return ExitCode.FINDINGS if self.regression else ExitCode.OK

    def to_report(self) -> Report:
        from perfpack.bench import render
        from perfpack.report import Report

        return Report(
            command="compare",
            data=render.compare_data(self),
            text=render.compare_text(self),
            markdown=render.compare_markdown(self),
            failed=self.regression,
        )


# ------------------------------------------------------------------ shared pieces
def project_root(project: str | None) -> Path:
    from perfpack.project import project_from_option

    return project_from_option(project)


def pinned_env(options: RunOptions) -> dict[str, str | None]:
    """The variables the user pinned: --env NAME=VALUE (set), --pin-env NAME (as it is now, or unset)."""
    pinned: dict[str, str | None] = {}
    for spec in options.env:
        key, sep, value = spec.partition("=")
        if not sep or not key or "\0" in spec or any(c in key for c in "=\n"):
            raise PerfpackError(
                f"invalid --env {one_line(repr(spec))}", hint="write NAME=VALUE, e.g. --env PYTHONHASHSEED=0"
            )
        pinned[key] = value
    for key in options.pin_env:
        if not key or any(c in key for c in "=\n\0"):
            raise PerfpackError(
                f"invalid --pin-env {one_line(repr(key))}",
                hint="write a variable name, e.g. --pin-env DATABASE_URL",
            )
        pinned.setdefault(key, os.environ.get(key))
    return pinned


def make_plan(
    command: list[str],
    options: RunOptions,
    *,
    runs: int | None,
    min_time: float | None,
    pinned: dict[str, str | None],
    cwd: str | None = None,
) -> engine.Plan:
    from perfpack.bench.runner import resolve_command

    if runs is not None and min_time is not None:
        raise PerfpackError("--runs and --min-time are exclusive", hint="pick one")
    where = cwd or options.cwd
    argv = resolve_command(list(command), shell=options.shell, cwd=where)
    plan = engine.Plan(
        argv=argv,
        display=list(command),
        runs=runs,
        min_time=min_time,
        warmup=options.warmup,
        timeout=options.timeout,
        ignore_failure=options.ignore_failure,
        show_output=options.show_output,
        cwd=where,
    )
    for key, value in pinned.items():
        plan.set_env(key, value)
    return plan


def _percent_options(options: RunOptions) -> tuple[float, float | None]:
    effect = parse_percent(options.min_effect, "--min-effect")
    return (engine.MIN_EFFECT if effect is None else effect), parse_percent(options.max_regression)


def _record(
    root: Path,
    kind: str,
    name: str | None,
    command: list[str],
    figures: list[dict[str, Any]],
    extra: dict[str, Any] | None = None,
) -> str:
    """Append what was printed to the project's ledger (for `perfpack evidence check`)."""
    from perfpack import ledger

    return ledger.record(root, kind=kind, name=name, command=command, figures=figures, extra=extra)


def summary_figures(summary: dict[str, Any], side: str | None = None) -> list[dict[str, Any]]:
    """Every figure bench prints for one side (perfpack.bench.render._side_lines), as ledger figures in the
    ledger's conventions (perfpack.evidence): the statistic as `metric`, `of` what (wall, cpu, rss),
    `side` "before"/"after" or "a"/"b" for a pair. The bounds of a printed 95 % interval carry the
    statistic they bound and `bound` "ci95_low"/"ci95_high"; the "± sd" is `stdev`; the noise note's two
    percentages are `median_ci_width` and `variation`. Sizes are bytes (printed as KiB/MiB/GiB).

    The secondary figures come first and the wall-time statistics (and peak RSS) last: the evidence
    matcher pairs a record's sides by statistic and what they measure (`of`), and older readers of the
    ledger paired by statistic alone, the last figure winning."""
    from perfpack.ledger import figure

    extra = {"side": side} if side else {}
    secondary: list[dict[str, Any]] = []
    main: list[dict[str, Any]] = []

    def bounds(metric: str, ci: list[float] | None, unit: str, of: str) -> None:
        if ci and ci[0] != ci[1]:
            secondary.append(figure(metric, ci[0], unit, of=of, bound="ci95_low", **extra))
            secondary.append(figure(metric, ci[1], unit, of=of, bound="ci95_high", **extra))

    wall = summary.get("wall_s") or summary.get("latency_s")
    cpu = summary.get("cpu_s")
    if cpu:
        secondary.append(figure("median", cpu["median"], "s", of="cpu", **extra))  # "cpu median 123 ms"
        bounds("median", cpu.get("median_ci"), "s", "cpu")
        main.append(figure("cpu", cpu["median"], "s", of="cpu", **extra))
    rss = summary.get("rss_bytes")
    if rss:
        secondary.append(figure("median", rss["median"], "B", of="rss", **extra))
        bounds("median", rss.get("median_ci"), "B", "rss")
        main.append(figure("rss", rss["max"], "B", of="peak rss", **extra))
    if wall:
        bounds("median", wall.get("median_ci"), "s", "wall")
        bounds("p95", wall.get("p95_ci"), "s", "wall")
        if wall.get("stdev") is not None:
            secondary.append(figure("stdev", wall["stdev"], "s", of="wall", **extra))
        main[:0] = [figure(key, wall[key], "s", of="wall", **extra)
                    for key in ("median", "mean", "min", "max", "p95", "p99")]
    secondary += noise_figures(summary, **extra)
    return secondary + main


def noise_figures(summary: dict[str, Any], **extra: Any) -> list[dict[str, Any]]:
    """A noise note's two percentages ("the median's 95% interval is 52% of the median (run-to-run
    variation 28%)") as ledger figures; none when the sample is not noisy."""
    from perfpack.bench.comparison import noise_percentages
    from perfpack.ledger import figure

    noise = noise_percentages(summary)
    if noise is None:
        return []
    return [figure("median_ci_width", noise[0], "%", **extra), figure("variation", noise[1], "%", **extra)]


def comparison_figures(comparison: Comparison) -> list[dict[str, Any]]:
    """Both sides' figures and what the verdict line printed (ratio, change)."""
    from perfpack.ledger import figure

    sides = ("a", "b") if comparison.mode in ("interleaved", "revisions") else ("before", "after")
    v = comparison.verdict
    return [
        *summary_figures(comparison.before.summary, sides[0]),
        *summary_figures(comparison.after.summary, sides[1]),
        figure("ratio", v["ratio"], "x", verdict=v["verdict"]),
        figure("change", (v["ratio"] - 1) * 100, "%", verdict=v["verdict"]),
        # the printed "95% CI [0.591, 0.989]": a quote of it is backed (as an interval bound only)
        figure("ratio", v["ci"][0], "x", bound="ci95_low"),
        figure("ratio", v["ci"][1], "x", bound="ci95_high"),
    ]


# ------------------------------------------------------------------ bench
def run_bench(request: BenchRequest) -> BenchResult:
    """Measure a command; compare with baseline NAME (like with like), save it, check budgets."""
    from perfpack.bench import baseline as store
    from perfpack.bench import comparison as cmp
    from perfpack.bench.runner import enable_subreaper

    options = request.options
    effect, allowance = _percent_options(options)
    limits: list[Budget] = parse_budgets(list(request.budgets), list(request.presets))
    if request.save and not request.name:
        raise PerfpackError("--save needs --name", hint="e.g. perfpack bench --name startup --save -- CMD")
    if request.force and not request.save:
        raise PerfpackError(
            "--force only goes with --save", hint="perfpack bench --name NAME --save --force -- CMD"
        )
    name = check_name(request.name) if request.name is not None else None
    pinned = pinned_env(options)
    root = project_root(options.project)
    identity = identity_for(root, list(request.command), shell=options.shell, cwd=options.cwd, env=pinned)
    previous: Baseline | None = None
    notes: list[str] = []
    if name and store.exists(root, name):
        if request.save and not request.force:
            store.refuse_overwrite(root, name)  # before spending time measuring
        previous = store.load(root, name)  # a corrupt baseline fails before measuring, too
        differences = previous.identity.differences(identity)
        if previous.kind != "bench":
            differences = [f"it holds a {previous.kind} measurement"]
        if differences and not options.allow_changed:
            if request.force:
                notes.append("not compared with the replaced baseline: " + "; ".join(differences))
                previous = None
            else:
                raise cmp.not_comparable(f"baseline {name!r}", differences)
    plan = make_plan(
        list(request.command), options, runs=request.runs, min_time=request.min_time, pinned=pinned
    )
    enable_subreaper()
    try:
        runs = engine.measure(plan, progress=engine.Progress(" ".join(request.command)))
    finally:
        plan.close()
    measurement = Measurement(
        kind="bench",
        name=name,
        identity=identity,
        metric="wall_s",
        samples=engine.samples_of(runs),
        settings={
            "runs": len(runs),
            "warmup": options.warmup,
            "timeout": options.timeout,
            "min_time": request.min_time,
        },
    )
    summary = measurement.summary()
    result = BenchResult(
        request=request,
        measurement=measurement,
        summary=summary,
        budgets=[b.check(summary) for b in limits],
        notes=notes,
        failed_runs=sum(1 for r in runs if r.exit_code != 0 or r.timed_out),
        last_stderr=plan.last_stderr,
    )
    measurement.budgets = result.budgets
    env = store.environment(root)
    if previous is not None:
        result.comparison = cmp.with_baseline(
            previous, measurement, min_effect=effect, allow_changed=options.allow_changed, host=env["host"]
        )
        result.regression = result.comparison.is_regression(allowance, effect)
        result.stored = cmp.store(root, result.comparison)
    elif name and not request.save:
        result.notes.append(f"no baseline named {name!r} yet; add --save to create it")
    if allowance is not None and previous is None:
        result.notes.append("--max-regression needs a saved baseline (--name NAME) to compare with")
    if request.save:
        result.saved = store.save(root, measurement, force=True, env=env)
    if options.ledger:
        figures = comparison_figures(result.comparison) if result.comparison else summary_figures(summary)
        result.ledger_id = _record(root, "bench", name, list(request.command), figures)
    return result


# ------------------------------------------------------------------ compare
def _few_pairs(pairs: int) -> None:
    """Said on stderr before the runs (once the request is valid), not only in the verdict after them."""
    from perfpack.bench.stats import MIN_RUNS_TO_JUDGE

    if pairs < MIN_RUNS_TO_JUDGE:
        print(f"perfpack compare: --runs {pairs} is under the {MIN_RUNS_TO_JUDGE} pairs a verdict needs: the "
              "figures are shown, the verdict will be inconclusive", file=sys.stderr)


def run_compare(request: CompareRequest) -> CompareResult:
    """A/B in randomised interleaved pairs: two commands, or one command at two git revisions."""
    from perfpack.bench import comparison as cmp
    from perfpack.bench.runner import enable_subreaper

    options = request.options
    effect, allowance = _percent_options(options)
    name = check_name(request.name, "--name") if request.name is not None else None
    pinned = pinned_env(options)
    root = project_root(options.project)
    if request.revs:
        if len(request.revs) != 2 or request.b:
            raise PerfpackError(
                "--rev needs exactly two revisions and one command",
                hint="perfpack compare --rev main --rev HEAD -- CMD ARGS",
            )
        return _compare_revisions(request, root, pinned, effect, allowance, name)
    if not request.a or not request.b:
        raise PerfpackError(
            "compare needs a command on each side of --vs",
            hint="perfpack compare -- CMD_A ARGS --vs CMD_B ARGS  (or --rev A --rev B -- CMD)",
        )
    plans = [
        make_plan(c, options, runs=request.pairs, min_time=None, pinned=pinned)
        for c in (request.a, request.b)
    ]
    enable_subreaper()
    _few_pairs(request.pairs)
    try:
        runs_a, runs_b = engine.interleave(
            plans[0], plans[1], request.pairs, progress=engine.Progress("compare")
        )
    finally:
        for plan in plans:
            plan.close()
    a, b = (
        Measurement(
            kind="bench",
            name=name,
            metric="wall_s",
            samples=engine.samples_of(r),
            identity=identity_for(root, c, shell=options.shell, cwd=options.cwd, env=pinned),
        )
        for c, r in ((request.a, runs_a), (request.b, runs_b))
    )
    label = name or one_line(f"{shlex.join(request.a)} vs {shlex.join(request.b)}", limit=120)
    comparison = cmp.interleaved(a, b, label=label, min_effect=effect, name=name)
    return _finish(request, root, comparison, allowance, effect, {"a": a.samples, "b": b.samples})


def _compare_revisions(
    request: CompareRequest,
    root: Path,
    pinned: dict[str, str | None],
    effect: float,
    allowance: float | None,
    name: str | None,
) -> CompareResult:
    from perfpack.bench import comparison as cmp
    from perfpack.bench.revisions import worktrees
    from perfpack.bench.runner import enable_subreaper

    options = request.options
    command = list(request.a)
    if not command:
        raise PerfpackError(
            "--rev needs the command to run at both revisions",
            hint="perfpack compare --rev main --rev HEAD -- CMD ARGS",
        )
    start = Path(options.cwd or os.getcwd())
    with worktrees(start, list(request.revs), setup=request.setup) as trees:
        plans = [
            make_plan(command, options, runs=request.pairs, min_time=None, pinned=pinned, cwd=str(t.cwd))
            for t in trees
        ]
        for plan, tree in zip(plans, trees, strict=True):
            # a file git does not track (ignored data, a build's output) is not in a fresh checkout: the
            # usual cause, and --ignore-failure would only measure the failure
            plan.where = (f"the command runs in a fresh checkout of {tree.rev}, which holds only the files "
                          "git tracks: give untracked or ignored inputs by absolute path, or create them "
                          "with --setup")
        enable_subreaper()
        _few_pairs(request.pairs)
        try:
            runs_a, runs_b = engine.interleave(
                plans[0], plans[1], request.pairs, progress=engine.Progress("compare --rev")
            )
        finally:
            for plan in plans:
                plan.close()
    ta, tb = trees
    identity = Identity(command=command, shell=options.shell, cwd=".", env=pinned)
    a, b = (
        Measurement(kind="bench", name=name, metric="wall_s", samples=engine.samples_of(r), identity=identity)
        for r in (runs_a, runs_b)
    )
    label = name or one_line(f"{shlex.join(command)} at {ta.rev} vs {tb.rev}", limit=120)
    comparison = cmp.interleaved(
        a,
        b,
        label=label,
        mode="revisions",
        min_effect=effect,
        name=name,
        labels=(f"{ta.rev} ({ta.commit[:12]})", f"{tb.rev} ({tb.commit[:12]})"),
        commits=(ta.commit, tb.commit),
    )
    result = _finish(request, root, comparison, allowance, effect, {"a": a.samples, "b": b.samples})
    result.subjects = (ta.subject, tb.subject)
    return result


def _finish(
    request: CompareRequest,
    root: Path,
    comparison: Comparison,
    allowance: float | None,
    effect: float,
    samples: dict[str, dict[str, list[Any]]],
) -> CompareResult:
    from perfpack.bench import comparison as cmp

    result = CompareResult(
        request=request,
        comparison=comparison,
        regression=comparison.is_regression(allowance, effect),
        samples=samples,
    )
    if request.store:
        result.stored = cmp.store(root, comparison)
    if request.options.ledger:
        figures = comparison_figures(comparison)
        command = request.a + (["--vs", *request.b] if request.b else [])
        result.ledger_id = _record(
            root,
            "compare",
            comparison.name,
            command,
            figures,
            extra={"revs": request.revs} if request.revs else None,
        )
    return result
