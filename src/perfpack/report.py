"""One report type and one reporter per output format, for every command.

A command builds a `Report` (its findings, what it checked, its figures as data, and its own human
summary); `render(report, fmt)` turns it into text, json, github (workflow annotations), sarif or
markdown. Adding a format touches the REPORTERS table only; a command's `--format` choices come from
`format_choices`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from perfpack.exitcodes import ExitCode
from perfpack.findings import ERROR, INFO, SEVERITIES, WARNING, Finding
from perfpack.terminal import one_line, printable


@dataclass
class Report:
    """What a command found and measured.

    findings: problems, each with its fix. checked: how many things were checked (None when the
    command is not a check). data: the command's results, JSON-ready, merged into the json output.
    text / markdown: the command's own human summary for those formats (already laid out); in text it
    follows the findings and replaces the counts line.
    failed: a failure that is not a finding (a breached budget or threshold, a regression).
    """

    command: str
    findings: list[Finding] = field(default_factory=list)
    checked: int | None = None
    checked_noun: str = "file"
    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    markdown: str = ""
    failed: bool = False
    ordered: bool = False  # findings are already in a meaningful order (e.g. history); do not sort them

    def counts(self) -> dict[str, int]:
        counts = {severity: 0 for severity in SEVERITIES}
        for finding in self.findings:
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
        return counts

    def exit_code(self, *, strict: bool = False) -> int:
        """FINDINGS when an error (a warning too with `strict`) or a failure is present, else OK."""
        counts = self.counts()
        if self.failed or counts[ERROR] or (strict and counts[WARNING]):
            return ExitCode.FINDINGS
        return ExitCode.OK


def _sorted(report: Report) -> list[Finding]:
    return list(report.findings) if report.ordered else sorted(report.findings)


def _text(report: Report) -> str:
    """Findings first (as linters print them), then the command's own summary, or the counts line."""
    lines = []
    for f in _sorted(report):
        label = f.rule + (f"({f.name})" if f.name else "")
        lines.append(f"{one_line(f.location)}: {f.severity}: {label}: {one_line(f.message)}")
        if f.fix:
            lines.append(f"    fix: {one_line(f.fix)}")
    if report.text:
        lines.append(printable(report.text.rstrip("\n")))
    elif report.checked is not None or report.findings:
        counts = report.counts()
        what = ""
        if report.checked is not None:
            noun = report.checked_noun + ("" if report.checked == 1 else "s")
            what = f" in {report.checked} {noun}"
        if report.findings:
            lines.append(f"{counts[ERROR]} error(s), {counts[WARNING]} warning(s), "
                         f"{counts[INFO]} note(s){what}")
        else:
            lines.append(f"no problems found{what}")
    return "\n".join(lines)


def _json(report: Report) -> str:
    payload: dict[str, Any] = dict(report.data)
    if report.checked is not None or report.findings:
        payload["findings"] = [_finding_json(f) for f in _sorted(report)]
        payload["summary"] = {**report.counts(), "checked": report.checked}
    return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False, default=str)


def _finding_json(finding: Finding) -> dict[str, Any]:
    data = asdict(finding)
    if data.get("context") is None:
        del data["context"]
    return data


def github_escape(value: str, *, prop: bool = False) -> str:
    """Escape for a GitHub Actions workflow command: a newline can never start a command of its own,
    and no control character (an ESC sequence) reaches the log viewer."""
    value = printable(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def _github(report: Report) -> str:
    level = {ERROR: "error", WARNING: "warning", INFO: "notice"}
    lines = []
    for f in _sorted(report):
        message = f.message + (f" Fix: {f.fix}" if f.fix else "")
        lines.append(
            f"::{level.get(f.severity, 'warning')} file={github_escape(f.path, prop=True)},line={f.line},"
            f"col={f.col},title={github_escape(f.rule, prop=True)}::{github_escape(message)}"
        )
    return "\n".join(lines)


def sarif_uri(path: str) -> str:
    """A relative file path as a SARIF `uri` (RFC 3986: spaces, `%`, `#`, `?` percent-encoded)."""
    from urllib.parse import quote

    return quote(path.replace("\\", "/"), safe="/")


def _sarif(report: Report) -> str:
    from perfpack import rules as registry

    level = {ERROR: "error", WARNING: "warning", INFO: "note"}
    used = sorted({f.rule for f in report.findings})
    descriptors = []
    for rule_id in used:
        try:
            rule = registry.get(rule_id)
        except KeyError:
            descriptors.append({"id": rule_id, "shortDescription": {"text": rule_id}})
            continue
        descriptor: dict[str, Any] = {"id": rule.id, "name": rule.name,
                                      "shortDescription": {"text": rule.summary}}
        help_text = " ".join(part for part in (rule.why, f"Fix: {rule.fix}" if rule.fix else "") if part)
        if help_text:
            descriptor["help"] = {"text": help_text}
        descriptors.append(descriptor)
    run = {
        "tool": {"driver": {"name": "perfpack", "informationUri": "https://github.com/perfpack/perfpack",
                            "rules": descriptors}},
        "results": [
            {
                "ruleId": f.rule,
                "level": level.get(f.severity, "warning"),
                "message": {"text": f.message + (f" Fix: {f.fix}" if f.fix else "")},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": sarif_uri(f.path)},
                    "region": {"startLine": max(f.line, 1), "startColumn": max(f.col, 1)},
                }}],
            }
            for f in _sorted(report)
        ],
    }
    document = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False)


def markdown_cell(value: object) -> str:
    """Text for one Markdown table cell: one line, pipes and backticks escaped, no HTML entities."""
    text = one_line(value).replace("\\n", " ").replace("|", "\\|")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _markdown(report: Report) -> str:
    parts = [report.markdown.rstrip("\n")] if report.markdown else []
    if report.findings:
        rows = ["| where | rule | severity | message | fix |", "|---|---|---|---|---|"]
        for f in _sorted(report):
            rows.append("| " + " | ".join(markdown_cell(cell) for cell in (
                f.location, f.rule, f.severity, f.message, f.fix)) + " |")
        parts.append("\n".join(rows))
    elif report.checked is not None:
        parts.append(f"No problems found in {report.checked} {report.checked_noun}"
                     f"{'' if report.checked == 1 else 's'}.")
    if not parts and report.text:
        parts.append("```\n" + printable(report.text) + "\n```")
    return "\n\n".join(parts)


REPORTERS: dict[str, Callable[[Report], str]] = {
    "text": _text,
    "json": _json,
    "github": _github,
    "sarif": _sarif,
    "markdown": _markdown,
}


def format_choices(*names: str) -> tuple[str, ...]:
    """A command's `--format` choices: a subset of REPORTERS, in the given order (all when none given)."""
    unknown = [name for name in names if name not in REPORTERS]
    if unknown:
        raise ValueError(f"no reporter for {unknown}")
    return names or tuple(REPORTERS)


def render(report: Report, fmt: str) -> str:
    try:
        reporter = REPORTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(REPORTERS)}") from None
    return reporter(report)
