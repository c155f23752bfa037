"""One registry of rules for every check perfpack runs (validate, commits, and those to come).

A rule has a stable id users configure it by, a short name, a default severity, what it guards
against, why it matters and how to fix what it finds. Checks register their rules here; `select`
turns ids, id prefixes and names into a set of ids; the docs' rule tables are generated from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfpack.errors import PerfpackError
from perfpack.findings import Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

# family -> the module whose import registers that family's rules
FAMILIES: dict[str, str] = {
    "validate": "perfpack.validate.rules",
    "commits": "perfpack.commits.rules",
    "explain": "perfpack.explain.rules",
}


@dataclass(frozen=True)
class Rule:
    """One check: its id, short name, default severity, and what it guards against, why, and the fix."""

    id: str
    name: str
    severity: str
    summary: str
    why: str = ""
    fix: str = ""
    family: str = ""
    versions: str = ""  # how client versions differ, e.g. "2.1.197: silent; 2.1.332: refused at spawn"

    def finding(self, path: str, line: int, col: int, message: str, fix: str = "",
                severity: str | None = None, context: dict[str, str] | None = None) -> Finding:
        return Finding(path, max(line, 1), max(col, 1), self.id, severity or self.severity, message,
                       fix or self.fix, self.name, context)


_REGISTRY: dict[str, Rule] = {}


def register(*rules: Rule) -> None:
    """Add rules; re-registering the same rule is harmless, a different rule under a taken id is a bug."""
    for rule in rules:
        known = _REGISTRY.get(rule.id)
        if known is not None and known != rule:
            raise ValueError(f"rule id {rule.id} registered twice with different definitions")
        _REGISTRY[rule.id] = rule


def load(family: str | None = None) -> None:
    """Import the modules that register `family`'s rules (all families when None)."""
    import sys

    for name, module in FAMILIES.items():
        if family in (None, name) and module not in sys.modules:
            __import__(module)


def get(rule_id: str) -> Rule:
    if rule_id not in _REGISTRY:
        load()
    return _REGISTRY[rule_id]


def family_rules(family: str) -> list[Rule]:
    """The family's rules in id order."""
    load(family)
    return sorted((rule for rule in _REGISTRY.values() if rule.family == family), key=lambda rule: rule.id)


def select(items: Iterable[str] | None, family: str, *, what: str = "rule") -> set[str]:
    """Rule ids named by ids, id prefixes (`PP2`) or names (`home-path`), comma or space separated.

    An unknown entry is a one-line PerfpackError naming it, never silently ignored.
    """
    rules = family_rules(family)
    ids = {rule.id for rule in rules}
    by_name = {rule.name: rule.id for rule in rules}
    selected: set[str] = set()
    for raw in items or ():
        for item in str(raw).replace(",", " ").split():
            upper = item.upper()
            if upper in ids:
                selected.add(upper)
            elif item in by_name:
                selected.add(by_name[item])
            elif len(upper) >= 2 and any(rule_id.startswith(upper) for rule_id in ids):
                selected.update(rule_id for rule_id in ids if rule_id.startswith(upper))
            else:
                raise PerfpackError(f"unknown {what} {item!r}",
                                    hint=f"known: {', '.join(sorted(ids))} (or their names)")
    return selected


def markdown_table(family: str) -> str:
    """The family's rules as the Markdown table the docs carry (generated; a test checks for drift)."""
    from perfpack.report import markdown_cell

    rows = ["| id | name | severity | what it finds | why | fix |", "|---|---|---|---|---|---|"]
    for rule in family_rules(family):
        why = rule.why + (f" {rule.versions}" if rule.versions else "")
        rows.append("| " + " | ".join(markdown_cell(cell) for cell in (
            rule.id, f"`{rule.name}`", rule.severity, rule.summary, why.strip(), rule.fix)) + " |")
    return "\n".join(rows)
