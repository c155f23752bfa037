"""`perfpack evidence`: the thin click layer over the ledger and `check_message`."""

from __future__ import annotations

import click

from perfpack.exitcodes import ExitCode
from perfpack.report import format_choices

FORMATS = format_choices("text", "json")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def evidence() -> None:
    """Check that the figures an agent reports were really measured.

    Every measuring command (bench, compare, load, profile, explain --try-indexes/--capture) appends
    every figure it printed to the project's ledger (.claude/perfpack/ledger.jsonl, git-ignored).
    `check` reads an agent's final message and matches each quantitative claim (latencies, speed-ups,
    percentages, rates, sizes) against it, within rounding and unit conversion.

    Exit codes: 0 every claim backed (or none made), 1 a claim is unverified, 2 bad input, 3 internal error.
    """


@evidence.command("list")
@click.option("--kind", help="Only records of this kind (bench, compare, load, profile, explain).")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest N records.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--project", type=click.Path(file_okay=False), help="Project folder (default: the current).")
def list_(kind: str | None, limit: int, fmt: str, project: str | None) -> int:
    """The newest measurements in the ledger, with the headline figures each printed (rounded as printed;
    a run compared with a baseline shows its own side; an A/B comparison both). --format json: every
    figure, unrounded."""
    from perfpack import ledger
    from perfpack.project import project_from_option
    from perfpack.report import Report, render
    from perfpack.terminal import one_line

    root = project_from_option(project)
    everything = ledger.read(root)
    # redacted as record() stores them, also a record written before the ledger redacted
    records = [ledger.redacted(r) for r in everything if kind is None or r.get("kind") == kind][-limit:]
    lines = []
    for record in records:
        figures = ledger.headline(record)
        commit = str(record.get("commit") or "")[:8]
        row = f"{record.get('id')}  {record.get('name') or '-'}  {commit}  {figures}"
        lines.append(one_line(row, limit=300))
    if lines:
        text = "\n".join(lines)
    elif everything:
        kinds = ", ".join(sorted({str(r.get("kind")) for r in everything}))
        text = f"no measurement of kind {one_line(repr(kind))} in the ledger (its kinds: {kinds})"
    else:
        text = "the ledger is empty: no measurements recorded in this project yet"
    click.echo(render(Report("evidence", data={"records": records}, text=text), fmt))
    return ExitCode.OK


@evidence.command("check")
@click.option("--transcript", type=click.Path(), help="A Claude Code transcript (JSON Lines).")
@click.option("--message", type=click.Path(), help="The final message as plain text.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--project", type=click.Path(file_okay=False), help="Project folder (default: the current).")
def check(transcript: str | None, message: str | None, fmt: str, project: str | None) -> int:
    """Match every figure in an agent's final message against the ledger.

    Targets, budgets, quotes of the user and hypotheticals ("aim for p95 < 300 ms", "you said 2 s",
    "could drop to 50 ms") are not claims; neither is anything inside code.
    """
    from perfpack import ledger
    from perfpack.errors import PerfpackError
    from perfpack.evidence.check import check_message, summary
    from perfpack.evidence.transcript import final_message_from_transcript, read_message_file
    from perfpack.project import project_from_option
    from perfpack.report import Report, render

    if (transcript is None) == (message is None):
        raise PerfpackError("give exactly one of --transcript FILE or --message FILE")
    text = final_message_from_transcript(transcript) if transcript else read_message_file(str(message))
    checked = check_message(text, ledger.read(project_from_option(project), strict=True))
    report = Report("evidence", data=checked.as_dict(), text=summary(checked),
                    failed=bool(checked.unverified) or checked.truncated)
    click.echo(render(report, fmt))
    return report.exit_code()

