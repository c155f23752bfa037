"""`perfpack load`: the click layer over perfpack.load.run (arguments in, a Report out, an exit code back)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from perfpack.report import format_choices

_CTX = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command(context_settings=_CTX)
@click.argument("url", required=False)
@click.option(
    "--rate",
    type=float,
    default=None,
    metavar="RPS",
    help="Open loop (default, 50 req/s): start requests at this constant rate, whatever the answers.",
)
@click.option(
    "--concurrency",
    type=int,
    default=None,
    metavar="N",
    help="Closed loop instead: N connections sending back to back (omits queueing; says so).",
)
@click.option(
    "--duration", default=None, metavar="TIME", help="Measured time after the warm-up.  [default: 30s]"
)
@click.option("--warmup", default=None, metavar="TIME", help="Unmeasured load first.  [default: 5s]")
@click.option(
    "--timeout", default=None, metavar="TIME", help="Give up on a request after this.  [default: 10s]"
)
@click.option(
    "--connections",
    type=int,
    default=None,
    metavar="N",
    help="Most connections the open loop opens; past that requests queue.  [default: 1000]",
)
@click.option("--method", "-X", default="GET", show_default=True)
@click.option("--header", "-H", "headers", multiple=True, metavar="'NAME: VALUE'", help="Repeatable.")
@click.option("--body", default=None, metavar="TEXT|@FILE", help="Request body: the text, or @FILE's bytes.")
@click.option(
    "--scenario",
    default=None,
    metavar="FILE",
    help="TOML file of weighted requests, rate and thresholds (docs/load.md).",
)
@click.option(
    "--threshold",
    "thresholds",
    multiple=True,
    metavar="EXPR",
    help="k6-style, repeatable: p95<200ms, p99<1s, avg<50, max<2s, error_rate<1%, rate>450. "
    "Without one on error_rate or errors, error_rate<=1% applies (more than 1 % of requests failing: "
    "FAIL).",
)
@click.option(
    "--name",
    default=None,
    help="Baseline name: compare with it, or --save to it; also the run's name in the ledger (`perfpack "
    "evidence list`). Without it the run is recorded under its path and the time, as profile names its runs "
    "(GET /api/orders: api-orders-20261207-191403; / is root; --scenario: the file's name), and nothing is "
    "compared.",
)
@click.option("--save", is_flag=True, help="Save this run as baseline NAME (needs --name).")
@click.option("--force", is_flag=True, help="With --save: replace an existing baseline NAME.")
@click.option(
    "--allow-changed-command",
    "allow_changed",
    is_flag=True,
    help="Compare with baseline NAME even though the URL, rate or requests differ (the output says what).",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=0,
    show_default=True,
    help="Run on N local Locust workers (Locust master/worker mode) instead of this process.",
)
@click.option(
    "--expect-workers",
    type=click.IntRange(0, 1000),
    default=0,
    help="Also wait for this many remote workers (python -m perfpack.load.distributed worker HOST:PORT).",
)
@click.option(
    "--master-bind",
    default="127.0.0.1:5557",
    show_default=True,
    metavar="HOST:PORT",
    help="Where the Locust master listens for workers.",
)
@click.option(
    "--format", "fmt", type=click.Choice(format_choices("text", "json")), default="text", show_default=True
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@click.option(
    "--project",
    type=click.Path(file_okay=False),
    default=None,
    help="Project folder for the ledger and baselines (default: found from the current directory).",
)
def load(
    url: str | None,
    rate: float | None,
    concurrency: int | None,
    duration: str | None,
    warmup: str | None,
    timeout: str | None,
    connections: int | None,
    method: str,
    headers: tuple[str, ...],
    body: str | None,
    scenario: str | None,
    thresholds: tuple[str, ...],
    name: str | None,
    save: bool,
    force: bool,
    allow_changed: bool,
    workers: int,
    expect_workers: int,
    master_bind: str,
    fmt: str,
    quiet: bool,
    project: str | None,
) -> int:
    """HTTP load without coordinated omission: open loop at a constant rate, latency from each request's
    intended start, k6-style thresholds.

    \b
      perfpack load http://127.0.0.1:8000/orders --rate 500 --duration 30s --threshold 'p95<200ms'
      perfpack load --scenario checkout.toml --threshold 'error_rate<1%' --format json
      perfpack load URL --rate 500 --name orders --save      (then: --name orders to compare)

    The figures are always printed. When the generator itself cannot keep the rate (its own lag, or
    requests never sent), it says so and the verdict is "inconclusive". Every run is recorded in the
    project's ledger.

    With no threshold on errors, error_rate<=1% applies: a run where more than 1 % of requests fail
    does not pass (--threshold 'error_rate<10%' sets another).

    Exit codes: 0 every threshold holds; 1 a threshold failed; 2 bad input, unreachable URL, or an
    inconclusive run (the generator could not keep the rate); 130 interrupted (Ctrl-C; the figures
    measured so far are printed).
    """
    from perfpack.load.run import LoadOptions, run_load
    from perfpack.project import project_from_option
    from perfpack.report import Report, render

    root = project_from_option(project)
    options = LoadOptions(
        url=url,
        scenario=scenario,
        rate=rate,
        concurrency=concurrency,
        duration=duration,
        warmup=warmup,
        timeout=timeout,
        connections=connections,
        method=method,
        headers=headers,
        body=body,
        thresholds=thresholds,
        name=name,
        save=save,
        force=force,
        allow_changed=allow_changed,
        workers=workers,
        quiet=quiet,
        extra={"expect_workers": expect_workers, "master_bind": master_bind},
    )
    outcome = run_load(options, root=Path(root))
    report = Report(
        command="load", data=outcome.summary, text=outcome.text, failed=outcome.summary["verdict"] != "pass"
    )
    sys.stdout.write(render(report, fmt) + "\n")
    sys.stdout.flush()
    return outcome.exit_code
