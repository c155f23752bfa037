"""The finding type every check reports; rendering lives in `perfpack.report`.

A finding always carries its fix: a user should never have to guess what to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable


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
    # what the finding is about beyond its path, for machines: e.g. {"commit": full id, "subject": ...}
    context: dict[str, str] | None = field(default=None, compare=False)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


def count(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {severity: 0 for severity in SEVERITIES}
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts
