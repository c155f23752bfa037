"""The evidence check's accuracy on a labelled corpus of final reports (tests/data/evidence/).

A corpus folder holds `ledgers/NAME.jsonl` (ledgers as the measuring commands write them) and
`cases/*.md`: one final report each, whose first line is
`<!-- ledger: NAME; label: invented|genuine; invented: FIGURE -->`. A report is blocked when the check
finds an unverified figure in it; the goals are to block >= 95 % of the invented and <= 2 % of the genuine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError


@dataclass(frozen=True)
class Case:
    name: str
    label: str  # "invented" or "genuine"
    invented: str  # the invented figure, for the reader of a mistake
    ledger: str
    message: str


def load_corpus(folder: Path) -> tuple[list[Case], dict[str, list[dict[str, Any]]]]:
    ledgers = {}
    for path in sorted((folder / "ledgers").glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        ledgers[path.stem] = [json.loads(line) for line in lines if line]
    cases = []
    for path in sorted((folder / "cases").glob("*.md")):
        head, _, body = path.read_text(encoding="utf-8").partition("\n")
        if not (head.startswith("<!--") and head.endswith("-->")):
            raise PerfpackError(f"{path}: the first line is not the <!-- ledger: ...; label: ... --> header")
        fields = dict(part.strip().partition(":")[::2] for part in head[4:-3].split(";"))
        fields = {key.strip(): value.strip() for key, value in fields.items()}
        if fields.get("label") not in ("invented", "genuine") or fields.get("ledger") not in ledgers:
            raise PerfpackError(f"{path}: label must be invented|genuine and ledger one of {sorted(ledgers)}")
        cases.append(Case(path.stem, fields["label"], fields.get("invented", ""), fields["ledger"], body))
    return cases, ledgers


def evaluate(cases: list[Case], ledgers: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Counts, the block rates and every mistake (case, label, the unverified figures found)."""
    from perfpack.evidence.check import check_message

    blocked = {"invented": 0, "genuine": 0}
    totals = {"invented": 0, "genuine": 0}
    mistakes = []
    for case in cases:
        checked = check_message(case.message, ledgers[case.ledger])
        unverified = [claim.text for claim in checked.unverified]
        totals[case.label] += 1
        blocked[case.label] += bool(unverified)
        if bool(unverified) != (case.label == "invented"):
            mistakes.append({"case": case.name, "label": case.label, "invented": case.invented,
                             "unverified": unverified})
    rates = {f"{label}_block_rate": round(blocked[label] / totals[label], 4) if totals[label] else None
             for label in totals}
    return {"reports": len(cases), "invented": totals["invented"], "genuine": totals["genuine"],
            "invented_blocked": blocked["invented"], "genuine_blocked": blocked["genuine"], **rates,
            "mistakes": mistakes}
