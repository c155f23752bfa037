"""The finding type every checker reports (validate, commits), and its output formats.

A finding always carries its fix: a user should never have to guess what to change.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Iterable

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)

FORMATS = ("text", "json", "github", "sarif")


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: where it is, which rule found it, what is wrong, and how to fix it."""

    path: str
    line: int
    col: int
    rule: str  # stable id, e.g. "PP101"
    severity: str  # error | warning | info
    message: str
    fix: str = ""
    name: str = field(default="", compare=False)  # rule's short name, e.g. "yaml-syntax"

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


def count(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {severity: 0 for severity in SEVERITIES}
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts


def format_findings(findings: list[Finding], fmt: str, *, tool: str = "perfpack",
                    checked: int | None = None, rules: dict[str, str] | None = None) -> str:
    """Render findings as text, json, github (workflow annotations) or sarif. `rules`: id -> description."""
    findings = sorted(findings)
    if fmt == "text":
        return _text(findings, checked)
    if fmt == "json":
        counts = count(findings)
        payload = {"findings": [asdict(f) for f in findings], "summary": {**counts, "checked": checked}}
        return json.dumps(payload, indent=2, ensure_ascii=False)
    if fmt == "github":
        return _github(findings)
    if fmt == "sarif":
        return _sarif(findings, tool, rules or {})
    raise ValueError(f"unknown format {fmt!r}")


def _text(findings: list[Finding], checked: int | None) -> str:
    lines = []
    for f in findings:
        label = f"{f.rule}" + (f"({f.name})" if f.name else "")
        lines.append(f"{f.location}: {f.severity}: {label}: {f.message}")
        if f.fix:
            lines.append(f"    fix: {f.fix}")
    counts = count(findings)
    what = f" in {checked} file{'s' if checked != 1 else ''}" if checked is not None else ""
    if findings:
        lines.append(f"{counts[ERROR]} error(s), {counts[WARNING]} warning(s), {counts[INFO]} note(s){what}")
    else:
        lines.append(f"no problems found{what}")
    return "\n".join(lines)


def _github_escape(value: str, *, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def _github(findings: list[Finding]) -> str:
    level = {ERROR: "error", WARNING: "warning", INFO: "notice"}
    lines = []
    for f in findings:
        message = f.message + (f" Fix: {f.fix}" if f.fix else "")
        lines.append(
            f"::{level.get(f.severity, 'warning')} file={_github_escape(f.path, prop=True)},line={f.line},"
            f"col={f.col},title={_github_escape(f.rule, prop=True)}::{_github_escape(message)}"
        )
    return "\n".join(lines)


def _sarif(findings: list[Finding], tool: str, rules: dict[str, str]) -> str:
    level = {ERROR: "error", WARNING: "warning", INFO: "note"}
    used = sorted({f.rule for f in findings} | set(rules))
    run = {
        "tool": {"driver": {
            "name": tool,
            "informationUri": "https://github.com/perfpack/perfpack",
            "rules": [{"id": rule_id, "shortDescription": {"text": rules.get(rule_id, rule_id)}} for rule_id in used],
        }},
        "results": [
            {
                "ruleId": f.rule,
                "level": level.get(f.severity, "warning"),
                "message": {"text": f.message + (f" Fix: {f.fix}" if f.fix else "")},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": f.path},
                    "region": {"startLine": max(f.line, 1), "startColumn": max(f.col, 1)},
                }}],
            }
            for f in findings
        ],
    }
    document = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False)
