"""Runs every check over what `discover` found and collects the findings (never stops at the first)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.findings import Finding
from perfpack.frontmatter import read_frontmatter
from perfpack.validate.discover import AGENT, COMMAND, HOOKS, PLUGIN, SETTINGS, discover
from perfpack.validate.jsonfiles import check_hooks, check_plugin
from perfpack.validate.markdown import (Context, MdFile, check_agent, check_command, check_frontmatter,
                                        check_home_paths, bash_patterns)
from perfpack.validate.rules import RULES, expand_selection, rule

DEFAULT_MAX_DESCRIPTION = 1024  # the cap Claude Code puts on skill descriptions; agents are paid per message too


@dataclass
class ValidationResult:
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0


@dataclass
class Options:
    select: set[str] = field(default_factory=set)
    ignore: set[str] = field(default_factory=set)
    external_agents: set[str] = field(default_factory=set)
    external_skills: set[str] = field(default_factory=set)
    max_description: int = DEFAULT_MAX_DESCRIPTION

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Options":
        def names(value: Any, key: str) -> set[str]:
            if value is None:
                return set()
            if isinstance(value, dict):
                return {str(k) for k in value}
            if isinstance(value, (list, tuple)):
                return {str(v) for v in value}
            if isinstance(value, str):
                return {value}
            raise PerfpackError(f"configuration: validate.{key} must be a list of names")

        try:
            select = expand_selection(_as_list(config.get("select")))
            ignore = expand_selection(_as_list(config.get("ignore")))
        except ValueError as exc:
            raise PerfpackError(f"configuration [tool.perfpack.validate]: {exc}",
                                hint="run `perfpack validate --list-rules`") from None
        budget = config.get("max-description", config.get("max_description", DEFAULT_MAX_DESCRIPTION))
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
            raise PerfpackError("configuration: validate.max-description must be a positive integer")
        return cls(select, ignore,
                   {n.lower() for n in names(config.get("external-agents", config.get("external_agents")), "external-agents")},
                   names(config.get("external-skills", config.get("external_skills")), "external-skills"), budget)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _display(path: Path, cwd: Path) -> str:
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def validate_paths(paths: list[Path], options: Options | None = None, *, cwd: Path | None = None) -> ValidationResult:
    """Validate everything under `paths`; duplicate names and delegation are checked across all of them."""
    options = options or Options()
    cwd = (cwd or Path(os.getcwd())).resolve()
    for path in paths:
        if not Path(path).exists():
            raise PerfpackError(f"{path}: no such file or folder")
    found = discover([Path(p) for p in paths])
    result = ValidationResult(checked=len(found.targets))
    findings: list[Finding] = []
    md_files: list[tuple[MdFile, str]] = []
    settings_allow: dict[Path, list[str]] = {}
    for target in found.targets:
        display = _display(target.path, cwd)
        if target.kind in (AGENT, COMMAND):
            fm = read_frontmatter(target.path)
            data = fm.data if fm.data is not None else fm.lenient_data
            md = MdFile(target, display, fm, data if isinstance(data, dict) else None)
            md_files.append((md, target.kind))
        elif target.kind == PLUGIN:
            findings += check_plugin(target, display)
        elif target.kind in (HOOKS, SETTINGS):
            findings += check_hooks(target, display)
            if target.kind == SETTINGS:
                settings_allow[target.root] = _settings_patterns(target.path)
    agents = [md for md, kind in md_files if kind == AGENT]
    ctx = Context(
        agent_names={md.name.lower() for md in agents if md.name},
        skills=set(found.skills) | options.external_skills,
        external_agents=options.external_agents,
        max_description=options.max_description,
        settings_allow=settings_allow,
    )
    for md, kind in md_files:
        findings += check_frontmatter(md, kind)
        if md.fm.unreadable:
            continue
        findings += check_agent(md, ctx) if kind == AGENT else check_command(md, ctx)
        findings += check_home_paths(md.display, md.fm.text or "")
    findings += _duplicates(agents)
    result.findings = [f for f in findings if _selected(f.rule, options)]
    return result


def _selected(rule_id: str, options: Options) -> bool:
    if options.select and rule_id not in options.select:
        return False
    return rule_id not in options.ignore


def _duplicates(agents: list[MdFile]) -> list[Finding]:
    by_name: dict[str, list[MdFile]] = {}
    for md in agents:
        if md.name:
            by_name.setdefault(md.name.lower(), []).append(md)
    out = []
    for name, group in by_name.items():
        if len(group) < 2:
            continue
        for md in group:
            others = ", ".join(o.display for o in group if o is not md)
            line, col = md.fm.value_position("name") if "name" in md.fm.positions else \
                _lenient_line(md, "name")
            out.append(rule("PP204").finding(md.display, line, col, f"agent name `{md.name}` is also used by "
                                             f"{others}: Claude Code silently keeps only one",
                                             "give each agent a unique name (and file name)"))
    return out


def _lenient_line(md: MdFile, key: str) -> tuple[int, int]:
    from perfpack.validate.markdown import find_line

    line, _ = find_line(md.fm, f"{key}:", 1, md.fm.end_line or None)
    return line, 1


def _settings_patterns(path: Path) -> list[str]:
    """Bash patterns a project's settings.json allows; !-lines of its commands may use them too."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        allow = data.get("permissions", {}).get("allow", [])
    except (OSError, ValueError, AttributeError):
        return []
    if not isinstance(allow, list):
        return []
    patterns = bash_patterns([str(a) for a in allow])
    return patterns if patterns is not None else ["*"]


def rule_descriptions() -> dict[str, str]:
    return {rule_id: r.summary for rule_id, r in RULES.items()}
