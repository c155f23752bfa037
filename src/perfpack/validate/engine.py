"""Runs every check over what `discover` found and collects the findings (never stops at the first)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.findings import Finding
from perfpack.frontmatter import Frontmatter, Position, read_frontmatter
from perfpack.validate import schemas
from perfpack.validate.agents import check_agent, check_delegation, delegation_info, find_line
from perfpack.validate.commands import bash_patterns, check_command
from perfpack.validate.discover import AGENT, COMMAND, HOOKS, PLUGIN, SETTINGS, Target, discover
from perfpack.validate.jsonfiles import check_hooks, check_plugin
from perfpack.validate.markdown import Context, MdFile, check_frontmatter, check_home_paths
from perfpack.validate.rules import RULES, expand_selection, rule

# the cap Claude Code puts on skill descriptions; agents are paid per message too
DEFAULT_MAX_DESCRIPTION = 1024


@dataclass
class ValidationResult:
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0


CONFIG_KEYS = ("select", "ignore", "external-agents", "external-skills", "max-description", "cli-version")


@dataclass
class Options:
    select: set[str] = field(default_factory=set)
    ignore: set[str] = field(default_factory=set)
    external_agents: set[str] = field(default_factory=set)
    external_skills: set[str] = field(default_factory=set)
    max_description: int = DEFAULT_MAX_DESCRIPTION
    cli_version: str = ""  # resolved by perfpack.validate.claude_code; "" = the newest recorded

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Options:
        from perfpack.project import check_config_keys

        config = check_config_keys("tool.perfpack.validate", config, CONFIG_KEYS)
        try:
            select = expand_selection(sorted(_names(config.get("select"), "select")))
            ignore = expand_selection(sorted(_names(config.get("ignore"), "ignore")))
        except PerfpackError as exc:
            raise PerfpackError(f"configuration [tool.perfpack.validate]: {exc.message}",
                                hint="run `perfpack validate --list-rules`") from None
        budget = config.get("max-description", DEFAULT_MAX_DESCRIPTION)
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
            raise PerfpackError("configuration: validate.max-description must be a positive integer")
        version = config.get("cli-version", "")
        if not isinstance(version, str):
            raise PerfpackError("configuration: validate.cli-version must be a string such as \"2.1.332\"")
        return cls(select, ignore,
                   {n.lower() for n in _names(config.get("external-agents"), "external-agents")},
                   _names(config.get("external-skills"), "external-skills"), budget, version)


def _names(value: Any, key: str) -> set[str]:
    """A config value naming things: one string, a list, or a table's keys; anything else is an error."""
    if value is None:
        return set()
    if isinstance(value, dict):
        return {str(k) for k in value}
    if isinstance(value, (list, tuple)):
        return {str(v) for v in value}
    if isinstance(value, str):
        return {value}
    raise PerfpackError(f"configuration: validate.{key} must be a list of names")


def _display(path: Path, cwd: Path) -> str:
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


@dataclass
class FileReport:
    """What checking one Markdown file gives: its own findings and what the cross-file checks need."""

    display: str
    kind: str
    findings: list[Finding]
    name: str | None = None
    name_pos: tuple[int, int] = (1, 1)
    delegations: list[tuple[str, int, int, str]] = field(default_factory=list)
    local_external: set[str] = field(default_factory=set)
    fallbacks: list[tuple[str, str, int, int]] = field(default_factory=list)
    scope: str = ""  # names clash only inside one scope: a project's agents, or one plugin's (namespaced)


_DROPPING = {"PP101", "PP102", "PP104", "PP105", "PP106", "PP113", "PP114", "PP201", "PP213"}
_PARALLEL_MIN_FILES = 200  # below this, starting worker processes costs more than it saves
_worker_ctx: Context | None = None


def _check_md(job: tuple[Target, str]) -> FileReport:
    """Per-file checks of one agent or command (runs in a worker process for large trees)."""
    target, display = job
    ctx = _worker_ctx
    assert ctx is not None
    fm = read_frontmatter(target.path)
    # Claude Code's lenient retry reads a single-line `key: a: b`; in a CRLF file only since 2.1.337 (the
    # oracle, a100: 2.1.197 and 2.1.332 drop that agent, 2.1.337 loads it)
    from perfpack.validate import claude_code

    no_retry = fm.has_crlf and not claude_code.since(ctx.version or claude_code.default_version(), "2.1.337")
    data = fm.data if fm.data is not None else (None if no_retry else fm.lenient_data)
    if fm.data is None and isinstance(fm.lenient_data, dict):
        _lenient_positions(fm)
    md = MdFile(target, display, fm, data if isinstance(data, dict) else None)
    findings = check_frontmatter(md, target.kind, ctx.version)
    report = FileReport(display, target.kind, findings)
    if fm.unreadable:
        return report
    if target.kind == AGENT:
        findings += check_agent(md, ctx)
        report.scope = f"{'plugin' if target.plugin else 'project'}:{target.root}"
        dropped = any(f.severity == "error" and f.rule in _DROPPING for f in findings)
        report.name = None if dropped else md.name
        if md.name:
            report.name_pos = fm.value_position("name") if "name" in fm.positions else \
                (find_line(fm, "name:", 1, fm.end_line or None)[0], 1)
        report.delegations, report.local_external, report.fallbacks = delegation_info(md)
    else:
        findings += check_command(md, ctx)
    findings += check_home_paths(display, fm.text or "")
    return report


def _lenient_positions(fm: Frontmatter) -> None:
    """Key positions for frontmatter only the lenient re-read understood, so findings keep their lines."""
    for index, text in enumerate(fm.yaml_text.split("\n")):
        match = _KEY_LINE.match(text)
        if match and match.group(1) not in fm.positions:
            line = fm.yaml_start_line + index
            value_col = match.end() + 1 if match.end() < len(text) else 1
            fm.positions[match.group(1)] = Position(line, 1, line if value_col > 1 else line + 1,
                                                    value_col if value_col > 1 else 3)


_KEY_LINE = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:[ \t]*")


def _idle_cores() -> int:
    """Worker processes worth starting: the cores other work leaves idle (as `make -l`), at most 4.

    On a busy machine extra processes only queue behind the load and add their start-up and result copying
    (measured: one process was faster at load 11 on 2 cores); on an idle one each core takes a share.
    """
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        load = 0.0
    return max(1, min(4, cores, int(cores - load + 0.5)))


def _run_jobs(jobs: list[tuple[Target, str]], ctx: Context) -> list[FileReport]:
    global _worker_ctx
    _worker_ctx = ctx
    try:  # PERFPACK_VALIDATE_JOBS=1 forces one process (e.g. where fork is unwelcome)
        workers = int(os.environ.get("PERFPACK_VALIDATE_JOBS", "0")) or _idle_cores()
    except ValueError:
        workers = _idle_cores()
    if len(jobs) >= _PARALLEL_MIN_FILES and workers > 1:
        import multiprocessing

        if "fork" in multiprocessing.get_all_start_methods():
            # fork shares the parsed schemas and context; results are small (findings, names)
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                return pool.map(_check_md, jobs, chunksize=max(16, len(jobs) // (workers * 4)))
    return [_check_md(job) for job in jobs]


def validate_paths(paths: list[Path], options: Options | None = None, *,
                   cwd: Path | None = None) -> ValidationResult:
    """Validate everything under `paths`; duplicate names and delegation are checked across all of them."""
    options = options or Options()
    cwd = (cwd or Path(os.getcwd())).resolve()
    for path in paths:
        try:
            exists = Path(path).exists()
        except OSError:  # a name too long for the file system names nothing
            exists = False
        if not exists:
            raise PerfpackError(f"{path}: no such file or folder")
    found = discover([Path(p) for p in paths])
    result = ValidationResult(checked=len(found.targets))
    findings: list[Finding] = []
    jobs: list[tuple[Target, str]] = []
    settings_allow: dict[Path, list[str]] = {}
    from perfpack.validate import claude_code

    version = claude_code.resolve_version(options.cli_version)
    for target in found.targets:
        display = _display(target.path, cwd)
        if target.kind in (AGENT, COMMAND):
            jobs.append((target, display))
        elif target.kind == PLUGIN:
            findings += check_plugin(target, display, version)
        elif target.kind in (HOOKS, SETTINGS):
            findings += check_hooks(target, display)
            if target.kind == SETTINGS:
                settings_allow[target.root] = _settings_patterns(target.path)

    ctx = Context(agent_names=set(), skills=set(found.skills) | options.external_skills,
                  external_agents=options.external_agents, max_description=options.max_description,
                  settings_allow=settings_allow, version=version)
    schemas.preload()
    reports = _run_jobs(jobs, ctx)
    agents = [r for r in reports if r.kind == AGENT]
    ctx.agent_names = {r.name.lower() for r in agents if r.name}
    findings += _pack_meta(jobs, reports, ctx, cwd)
    for report in reports:
        findings += report.findings
        if report.kind == AGENT:
            findings += check_delegation(report.display, report.delegations, report.local_external,
                                         report.fallbacks, ctx)
    findings += _duplicates(agents)
    result.findings = [f for f in findings if _selected(f.rule, options)]
    return result


def _pack_meta(jobs: list[tuple[Target, str]], reports: list[FileReport], ctx: Context,
               cwd: Path) -> list[Finding]:
    """Each agents folder's perfpack.toml (perfpack's own metadata): checked, and its external-agents
    declarations count for the delegations its agents name in their text."""
    from perfpack.packmeta import FILE_NAME
    from perfpack.validate.packmeta_check import check_folder_meta, read_folder_meta

    folders: dict[Path, list[FileReport]] = {}
    for (target, _), report in zip(jobs, reports, strict=True):
        if report.kind == AGENT:
            folders.setdefault(target.path.parent, []).append(report)
    out: list[Finding] = []
    for folder, folder_reports in folders.items():
        path = folder / FILE_NAME
        found = read_folder_meta(path, _display(path, cwd))
        if found is None:
            continue
        meta, shape = found
        names = {r.name.lower() for r in folder_reports if r.name}
        out += shape + check_folder_meta(meta, _display(path, cwd), names, ctx)
        for report in folder_reports:
            agent = meta.agents.get(report.name or "")
            if agent is not None:
                report.local_external |= {name.lower() for name in agent.external_agents}
    return out


def _selected(rule_id: str, options: Options) -> bool:
    if options.select and rule_id not in options.select:
        return False
    return rule_id not in options.ignore


def _duplicates(agents: list[FileReport]) -> list[Finding]:
    by_name: dict[str, list[FileReport]] = {}
    for report in agents:
        if report.name:  # exact names: the oracle shows `A-b` and `a-b` both load
            by_name.setdefault(f"{report.scope}\0{report.name}", []).append(report)
    out = []
    for group in by_name.values():
        if len(group) < 2:
            continue
        for report in group:
            others = ", ".join(o.display for o in group if o is not report)
            line, col = report.name_pos
            out.append(rule("PP204").finding(report.display, line, col,
                                             f"agent name `{report.name}` is also used "
                                             f"by {others}: Claude Code silently loads only one of them",
                                             "give each agent a unique name (and file name)"))
    return out


def _settings_patterns(path: Path) -> list[str]:
    """Bash patterns a project's settings.json allows; !-lines of its commands may use them too."""
    from perfpack.safeio import read_user_text
    from perfpack.validate.jsonfiles import MAX_JSON_BYTES, loads_strict

    try:  # check_hooks has already reported anything unreadable here
        data = loads_strict(read_user_text(path, max_bytes=MAX_JSON_BYTES))
        allow = data.get("permissions", {}).get("allow", [])
    except (OSError, PerfpackError, AttributeError):
        return []
    if not isinstance(allow, list):
        return []
    patterns = bash_patterns([str(a) for a in allow])
    return patterns if patterns is not None else ["*"]


def rule_descriptions() -> dict[str, str]:
    return {rule_id: r.summary for rule_id, r in RULES.items()}
