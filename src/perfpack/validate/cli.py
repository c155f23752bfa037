"""`perfpack validate`: the thin click layer over `validate_paths`."""

from __future__ import annotations

from pathlib import Path

import click

from perfpack.errors import PerfpackError
from perfpack.exitcodes import ExitCode
from perfpack.report import Report, format_choices, render

FORMATS = format_choices("text", "json", "github", "sarif")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output: readable text, json, github (workflow annotations) or sarif.")
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too, not only on errors.")
@click.option("--select", multiple=True, metavar="RULES",
              help="Only these rules (ids, prefixes like PP3, or names; comma separated, repeatable).")
@click.option("--ignore", multiple=True, metavar="RULES", help="Skip these rules (same forms as --select).")
@click.option("--max-description", type=click.IntRange(min=1), default=None, metavar="N",
              help="Description length budget in characters (default 1024, or validate.max-description).")
@click.option("--cli-version", default=None, metavar="X.Y.Z",
              help="Judge by this Claude Code version (default: the newest the recorded oracle covers).")
@click.option("--list-rules", is_flag=True,
              help="List every rule with its id, severity and summary, and exit.")
def validate(paths: tuple[Path, ...], fmt: str, strict: bool, select: tuple[str, ...],
             ignore: tuple[str, ...], max_description: int | None, cli_version: str | None,
             list_rules: bool) -> int:
    """Check agent, command, plugin and hook files against what Claude Code really does with them.

    PATH may be a pack or plugin root, a .claude/ folder, an agents or commands folder, or single
    files; without PATH the current project is validated. Configuration comes from
    [tool.perfpack.validate] in pyproject.toml or [validate] in .claude/perfpack/config.toml:
    select, ignore, external-agents, external-skills, max-description, cli-version.
    A project with no agents, commands, skills or plugin files has nothing to validate (exit 0).

    Exit codes: 0 clean, 1 errors (or warnings with --strict), 2 usage error, 3 internal error.
    """
    from perfpack.project import find_project_root, load_config
    from perfpack.validate.engine import Options, validate_paths
    from perfpack.validate.rules import RULES, expand_selection

    if list_rules:
        from perfpack.validate.claude_code import supported_versions

        if fmt == "json":
            import json

            click.echo(json.dumps({"cli_versions": supported_versions(), "rules": [
                {"id": r.id, "name": r.name, "severity": r.severity, "summary": r.summary, "why": r.why,
                 "fix": r.fix, "versions": r.versions} for r in RULES.values()]}, indent=2))
            return ExitCode.OK
        click.echo(f"Claude Code versions recorded by the oracle: {', '.join(supported_versions())}")
        for rule in RULES.values():
            click.echo(f"{rule.id}  {rule.severity:<7}  {rule.name:<22}  {rule.summary}")
            for label, text in (("why", rule.why), ("fix", rule.fix), ("versions", rule.versions)):
                if text:
                    click.echo(f"    {label}: {text}")
        return ExitCode.OK
    try:
        root = find_project_root(paths[0] if paths else None)
    except OSError as exc:  # e.g. a PATH too long for the file system
        raise PerfpackError(f"{paths[0] if paths else '.'}: {exc.strerror or exc}") from None
    options = Options.from_config(load_config(root, "validate"))
    if select:
        options.select = expand_selection(select)
    if ignore:
        options.ignore |= expand_selection(ignore)
    if max_description is not None:
        options.max_description = max_description
    if cli_version is not None:
        options.cli_version = cli_version
    targets = list(paths) if paths else [root]
    result = validate_paths(targets, options)
    if result.checked == 0:
        where = ", ".join(str(p) for p in targets)
        click.echo(f"nothing to validate in {where} (no .claude/agents, .claude/commands, skills or plugin)",
                   err=True)
        return ExitCode.OK
    report = Report("validate", result.findings, checked=result.checked)
    click.echo(render(report, fmt))
    return report.exit_code(strict=strict)
