"""`perfpack load` as a plain function: build the plan, check the target, run, summarize, record.

Everything the user got wrong is found before the first request (exit 2); once the run starts, the
figures are always printed, whatever the verdict, and Ctrl-C prints what was measured so far.
"""

from __future__ import annotations

import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.exitcodes import ExitCode
from perfpack.load.engine import Counts, Engine, preflight
from perfpack.load.plan import Plan, load_scenario, parse_duration, single_request_plan
from perfpack.load.result import (
    Threshold,
    fit,
    only_the_max,
    parse_threshold,
    render_text,
    summarize,
    with_default_error_threshold,
)

DEFAULT_RATE = 50.0
MAX_CONNECTIONS = 10_000


@dataclass
class LoadOptions:
    """The command line, as values (defaults: the documented ones)."""

    url: str | None = None
    scenario: str | None = None
    rate: float | None = None
    concurrency: int | None = None
    duration: str | None = None
    warmup: str | None = None
    timeout: str | None = None
    connections: int | None = None
    method: str = "GET"
    headers: tuple[str, ...] = ()
    body: str | None = None
    thresholds: tuple[str, ...] = ()
    name: str | None = None
    save: bool = False
    force: bool = False
    allow_changed: bool = False  # compare with a baseline that measured something else
    workers: int = 0
    quiet: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadOutcome:
    plan: Plan
    counts: Counts
    summary: dict[str, Any]
    text: str
    exit_code: int
    notes: list[str] = field(default_factory=list)


def build_plan(o: LoadOptions) -> Plan:
    """Check every option and file; one PerfpackError on the first problem, before anything is sent."""
    if o.rate is not None and o.concurrency is not None:
        raise PerfpackError(
            "--rate and --concurrency are exclusive",
            hint="--rate RPS: open loop (the default); --concurrency N: closed loop",
        )
    settings: dict[str, Any] = {}
    if o.scenario:
        if o.url or o.method != "GET" or o.headers or o.body is not None:
            raise PerfpackError("with --scenario, the URL, --method, --header and --body come from the file")
        settings = load_scenario(Path(o.scenario))
        target, requests = settings["target"], settings["requests"]
    else:
        if not o.url:
            raise PerfpackError(
                "give a URL to load, or --scenario FILE",
                hint="perfpack load http://127.0.0.1:8000/ --rate 100 --duration 10s",
            )
        target, requests = single_request_plan(o.url, method=o.method, headers=o.headers, body=o.body)
    thresholds: list[Threshold] = with_default_error_threshold(
        [parse_threshold(t) for t in [*settings.get("thresholds", []), *o.thresholds]]
    )
    rate = o.rate if o.rate is not None else settings.get("rate")
    concurrency = (
        o.concurrency
        if o.concurrency is not None
        else (None if o.rate is not None else settings.get("concurrency"))
    )
    if rate is not None and concurrency is not None:
        raise PerfpackError("the scenario file sets both rate and concurrency; keep one")
    if rate is None and concurrency is None:
        rate = DEFAULT_RATE
    if rate is not None and not 0 < float(rate) <= 1_000_000:
        raise PerfpackError(f"--rate {rate}: must be more than 0 and at most 1,000,000 requests/s")
    if concurrency is not None and not 1 <= int(concurrency) <= MAX_CONNECTIONS:
        raise PerfpackError(f"--concurrency {concurrency}: must be 1 to {MAX_CONNECTIONS}")
    duration = parse_duration(o.duration, what="--duration") if o.duration else settings.get("duration", 30.0)
    warmup = (
        parse_duration(o.warmup, what="--warmup", allow_zero=True)
        if o.warmup is not None
        else settings.get("warmup", 5.0)
    )
    timeout = parse_duration(o.timeout, what="--timeout") if o.timeout else settings.get("timeout", 10.0)
    connections = o.connections or int(settings.get("connections", 1000))
    if not 1 <= connections <= MAX_CONNECTIONS:
        raise PerfpackError(f"--connections {connections}: must be 1 to {MAX_CONNECTIONS}")
    if rate is not None and (duration + warmup) * float(rate) > 100_000_000:
        raise PerfpackError("that run would send more than 100 million requests", hint="shorten --duration")
    _raise_fd_limit(connections if concurrency is None else int(concurrency))
    return Plan(
        target=target,
        requests=requests,
        rate=float(rate) if rate is not None else None,
        concurrency=int(concurrency) if concurrency is not None else None,
        duration_s=duration,
        warmup_s=warmup,
        timeout_s=timeout,
        connections=connections,
        thresholds=thresholds,
    )


def _raise_fd_limit(connections: int) -> None:
    """Each connection is a file descriptor: lift the soft limit to the hard one, or say what is allowed."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = connections + 64
    if soft != resource.RLIM_INFINITY and soft < need:
        new = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        except (ValueError, OSError):
            new = soft
        if new < need:
            raise PerfpackError(
                f"--connections {connections} needs {need} open files; this process may open {new}",
                hint="lower --connections, or raise `ulimit -n`",
            )


def exit_code_for(verdict: str) -> int:
    return {
        "pass": ExitCode.OK,
        "fail": ExitCode.FINDINGS,
        "inconclusive": ExitCode.USAGE,
        "interrupted": ExitCode.INTERRUPTED,
    }[verdict]


def execute(
    plan: Plan, *, quiet: bool = False, workers: int = 0, extra: dict[str, Any] | None = None
) -> Counts:
    """Run the plan here (or on Locust workers); Ctrl-C stops it and keeps what was measured."""
    if workers or (extra or {}).get("expect_workers"):
        from perfpack.load.distributed import run_on_locust

        return run_on_locust(plan, workers=workers, quiet=quiet, **(extra or {}))
    preflight(plan)
    if not quiet:
        sys.stderr.write(
            f"load: {plan.describe()}, "
            + (
                f"open loop at {plan.rate:g} req/s"
                if plan.rate
                else f"closed loop with {plan.concurrency} connections"
            )
            + f", {plan.warmup_s:g} s warm-up + {plan.duration_s:g} s\n"
        )
    started = time.monotonic()
    total = plan.warmup_s + plan.duration_s

    def progress(done: float, counts: Counts) -> None:
        if not quiet and int(done) % 5 == 0 and done >= 1:
            if done < plan.warmup_s + 0.5:  # the counts are of measured requests: none yet
                sys.stderr.write(f"load: {min(done, total):.0f} s of {total:g} s, warming up\n")
            else:
                sys.stderr.write(
                    f"load: {min(done, total):.0f} s of {total:g} s, {counts.requests:,} requests measured, "
                    f"{sum(counts.errors.values()):,} errors\n"
                )
            sys.stderr.flush()

    engine = Engine(plan, progress=progress)
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: Any) -> None:
        engine.stop()

    try:
        signal.signal(signal.SIGINT, on_sigint)
        signal.signal(signal.SIGTERM, on_sigint)
    except ValueError:  # not the main thread (e.g. embedded): no Ctrl-C handling
        pass
    try:
        counts = engine.run()
    finally:
        try:
            signal.signal(signal.SIGINT, previous)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        except ValueError:
            pass
    counts.wall_s = counts.wall_s or time.monotonic() - started
    return counts


def run_load(o: LoadOptions, *, root: Path | None = None) -> LoadOutcome:
    plan = build_plan(o)
    if o.save and not o.name:
        raise PerfpackError("--save needs --name NAME")
    if o.name:
        from perfpack.load.baseline import before_run

        before_run(root or Path.cwd(), o.name, save=o.save, force=o.force)
    counts = execute(plan, quiet=o.quiet, workers=o.workers, extra=o.extra)
    summary = summarize(counts, plan.thresholds)
    notes: list[str] = []
    if root is not None:
        notes += _remember(root, o, plan, counts, summary)
    text = render_text(summary, what=plan.describe())
    if notes:
        text += "\n" + "\n".join(notes)
    summary = fit(summary)  # the JSON stays within 2 KB (the text above keeps every row)
    return LoadOutcome(plan, counts, summary, text, exit_code_for(summary["verdict"]), notes)


def _remember(root: Path, o: LoadOptions, plan: Plan, counts: Counts, summary: dict[str, Any]) -> list[str]:
    """The baseline save or comparison (with --name), then the ledger entry (always): every figure the
    text and the JSON print, in the unit they print it in."""
    notes: list[str] = []
    if o.name:
        from perfpack.load.baseline import compare_or_save

        notes = compare_or_save(root, o, plan, counts, summary)
    record(root, o, ledger_figures(summary), summary, name=o.name or default_name(o, plan))
    return notes


def default_name(o: LoadOptions, plan: Plan) -> str:
    """The ledger's name for a run without --name, as profile names its runs: what was loaded and when,
    "orders-20261207-191403" for GET /orders (the path's segments, "root" for /, the method first when
    not GET: "post-orders-..."), the scenario file's name for --scenario. Never a baseline's name: only
    --name compares and saves."""
    import re
    from urllib.parse import urlsplit

    if o.scenario:
        stem = Path(o.scenario).stem
    else:
        request = plan.requests[0]
        stem = "-".join(part for part in urlsplit(request.path).path.split("/") if part) or "root"
        if request.method != "GET":
            stem = f"{request.method.lower()}-{stem}"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:60] or "load"
    return f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"


def ledger_figures(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """What `render_text` prints (and the JSON summary holds), as ledger figures."""
    from perfpack.ledger import figure

    lat, gen = summary["latency_ms"], summary["generator"]
    # a percentile with no request beyond it was not measured (p99.9 of 100 requests is their max)
    figures = [
        figure(k if k != "p999" else "p99.9", lat[k], "ms", of="latency")
        for k in ("p50", "p90", "p95", "p99", "p999", "max", "avg")
        if not only_the_max(k, summary["requests"])
    ]
    figures += [
        figure("achieved_rate", summary["achieved_rate"], "req/s"),
        figure("error_rate", round(100 * summary["error_rate"], 4), "%"),
        figure("requests", summary["requests"], "count"),
        figure("duration", summary["duration_s"], "s", of="measured window"),
        figure("cpu", round(100 * gen["cpu_cores"], 1), "%", of="generator, of one core"),
    ]
    if summary.get("mode") != "closed":  # a closed loop has no schedule to lag behind: nothing was measured
        figures += [figure(k, v, "ms", of="generator lag") for k, v in gen["lag_ms"].items()]
    if summary["target_rate"]:
        figures.append(figure("target_rate", summary["target_rate"], "req/s"))
        figures.append(figure("achieved_of_target", 100 * summary["achieved_rate"] / summary["target_rate"],
                              "%"))
    for request, row in summary.get("by_request", {}).items():
        figures += [figure(k, row[k], "ms", of="latency", request=request) for k in ("p95", "p99")]
    for threshold in summary["thresholds"]:
        if threshold["unit"] in ("ms", "%", "req/s"):
            figures.append(figure(str(threshold.get("metric") or threshold["expr"]), threshold["actual"],
                                  threshold["unit"], of="threshold " + threshold["expr"]))
    baseline = summary.get("baseline") or {}
    for key, value in (baseline.get("then_ms") or {}).items():  # "p95 412 ms then, 50.1 ms now (-87.9 %)"
        figures.append(figure(key, value, "ms", of="latency", side="before", baseline=baseline.get("name")))
    for side, (width, variation) in (baseline.get("noise_pct") or {}).items():  # "the baseline is noisy:
        # the median's 95% interval is 94% of the median (request-to-request variation 21%)"
        figures += [figure("median_ci_width", width, "%", side=side),
                    figure("variation", variation, "%", side=side)]
    for key, value in (baseline.get("change_pct") or {}).items():
        figures.append(figure("change", value, "%", of=f"{key} latency vs baseline {baseline.get('name')}"))
    return figures


def command_line(o: LoadOptions) -> list[str]:
    """The run's command line as given (the ledger redacts its secrets): runs at different rates or with
    different thresholds must be told apart by what was run, not only by their figures."""
    command = ["perfpack", "load", *(["--scenario", o.scenario] if o.scenario else [o.url or ""])]
    for flag, value in (("--rate", o.rate), ("--concurrency", o.concurrency), ("--duration", o.duration),
                        ("--warmup", o.warmup), ("--timeout", o.timeout), ("--connections", o.connections)):
        if value is not None:
            command += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    if o.method != "GET":
        command += ["--method", o.method]
    for header in o.headers:
        command += ["--header", header]
    if o.body is not None:
        command += ["--body", o.body]
    for threshold in o.thresholds:
        command += ["--threshold", threshold]
    if o.name:
        command += ["--name", o.name]
    return command + (["--save"] if o.save else [])


def record(root: Path, o: LoadOptions, figures: list[dict[str, Any]], summary: dict[str, Any], *,
           name: str | None = None) -> str:
    from perfpack import ledger

    return ledger.record(
        root,
        kind="load",
        name=name or o.name,
        command=command_line(o),
        figures=figures,
        extra={"verdict": summary["verdict"], "mode": summary["mode"]},
    )
