"""The values `perfpack explain` passes around: plans, full scans, suggestions, statements."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Scan:
    """A table read in full, as the engine's plan says."""

    alias: str  # the name the plan uses (an alias, or the table)
    how: str  # "scan", "automatic index", "index order", "covering index", "seq scan"
    table: str | None = None  # the real table, once resolved
    rows: int | None = None


@dataclass
class Plan:
    lines: list[str]
    scans: list[Scan]
    indexes: set[str] = field(default_factory=set)  # index names the plan uses to search or order
    sorts: int = 0  # explicit sorts (SQLite's temp B-tree for ORDER BY, PostgreSQL's Sort nodes)


@dataclass
class Suggestion:
    ddl: list[str]
    tables: list[str]
    checked: str  # "planner": the engine's planner would use it; "measured": built and timed
    before_ms: float | None = None
    after_ms: float | None = None
    speedup: float | None = None
    before_capped: bool = False  # the statement was stopped at the time cap: before_ms is a lower bound
    plan_after: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "ddl": "; ".join(self.ddl),
            "indexes": self.ddl,
            "tables": self.tables,
            "checked": self.checked,
            "before_ms": _round(self.before_ms),
            "after_ms": _round(self.after_ms),
            "speedup": None if self.speedup is None else round(self.speedup, 1),
            "before_is_lower_bound": self.before_capped,
            "plan_after": self.plan_after,
        }


@dataclass
class Statement:
    sql: str  # the shape: literals as ?
    example: str  # one real statement of that shape
    count: int = 1
    total_ms: float | None = None
    rows: int | None = None
    kind: str = ""
    plan: list[str] = field(default_factory=list)
    full_scans: list[Scan] = field(default_factory=list)
    suggestion: Suggestion | None = None
    notes: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    tried: Suggestion | None = None  # what --try-indexes built and timed, kept or not (for the ledger)
    source: str = ""  # where it came from: the --sql-file, "--sql", or empty (captured: see sites)
    line: int = 0

    def location(self) -> tuple[str, int]:
        """(path, line) a finding points at: the program's line that sent it, or the SQL's own place."""
        if self.sites:
            path, _, line = self.sites[0].rpartition(":")
            if path and line.isdigit():
                return path, int(line)
        return self.source or "sql", max(self.line, 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "sql": self.sql,
            "example": self.example,
            "kind": self.kind,
            "count": self.count,
            "total_ms": _round(self.total_ms),
            "rows": self.rows,
            "plan": self.plan,
            "full_scans": [
                {"table": s.table or s.alias, "rows": s.rows, "how": s.how} for s in self.full_scans
            ],
            "suggestion": self.suggestion.to_json() if self.suggestion else None,
            "notes": self.notes,
            "sites": self.sites,
        }


@dataclass
class NPlusOne:
    sql: str
    count: int
    loops: int
    site: str | None
    table: str | None = None
    sizes: list[int] = field(default_factory=list)  # the runs in each loop, in order

    def to_json(self) -> dict[str, Any]:
        return {
            "sql": self.sql,
            "count": self.count,
            "loops": self.loops,
            "sizes": self.sizes,
            "site": self.site,
            "table": self.table,
        }


def _round(value: float | None) -> float | None:
    if value is None:
        return None
    return round(value, 3) if value < 10 else round(value, 1)


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")


def quote_ident(name: str) -> str:
    """A bare lower-case identifier stays bare (readable DDL); anything else is double-quoted (PostgreSQL
    folds bare names to lower case)."""
    if _IDENT.match(name) and name == name.lower() and name.upper() not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


_RESERVED = frozenset(
    [
        "ALL",
        "AND",
        "ANY",
        "AS",
        "ASC",
        "BETWEEN",
        "BY",
        "CASE",
        "CHECK",
        "COLLATE",
        "COLUMN",
        "CONSTRAINT",
        "CREATE",
        "CROSS",
        "DEFAULT",
        "DELETE",
        "DESC",
        "DISTINCT",
        "DROP",
        "ELSE",
        "END",
        "EXCEPT",
        "EXISTS",
        "FOR",
        "FOREIGN",
        "FROM",
        "FULL",
        "GROUP",
        "HAVING",
        "IN",
        "INDEX",
        "INNER",
        "INSERT",
        "INTERSECT",
        "INTO",
        "IS",
        "JOIN",
        "KEY",
        "LEFT",
        "LIKE",
        "LIMIT",
        "NATURAL",
        "NOT",
        "NULL",
        "OFFSET",
        "ON",
        "OR",
        "ORDER",
        "OUTER",
        "PRIMARY",
        "REFERENCES",
        "RIGHT",
        "SELECT",
        "SET",
        "TABLE",
        "THEN",
        "TO",
        "TRANSACTION",
        "UNION",
        "UNIQUE",
        "UPDATE",
        "USER",
        "USING",
        "VALUES",
        "WHEN",
        "WHERE",
        "WITH",
    ]
)
