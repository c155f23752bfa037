"""Scores the routing engine on a labelled JSONL corpus: precision, recall, top-1 agent accuracy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perfpack.route.engine import RuleSet, route


def load_corpus(path: Path) -> list[dict[str, Any]]:
    """Rows of {"prompt", "expected" (agent or null), "category"} from a JSONL file."""
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if not isinstance(row.get("prompt"), str) or "expected" not in row:
                raise ValueError(f"{path}:{number}: needs prompt and expected")
            rows.append(row)
    return rows


def evaluate(rows: list[dict[str, Any]], rules: RuleSet) -> dict[str, Any]:
    """Precision/recall of "suggest a performance agent at all", and top-1 accuracy on true positives."""
    tp = fp = fn = tn = right_agent = 0
    mistakes = []
    for row in rows:
        got = route(row["prompt"], rules).agent
        want = row["expected"]
        if want and got:
            tp += 1
            right_agent += got == want
        elif got and not want:
            fp += 1
        elif want and not got:
            fn += 1
        else:
            tn += 1
        if got != want:
            mistakes.append({"prompt": row["prompt"], "expected": want, "got": got,
                             "category": row.get("category")})
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    positives = sum(1 for row in rows if row["expected"])
    return {"prompts": len(rows), "positives": positives, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": round(precision, 4), "recall": round(recall, 4),
            "top1_accuracy": round(right_agent / tp, 4) if tp else 0.0,
            "end_to_end_accuracy": round((right_agent + tn) / len(rows), 4) if rows else 0.0,
            "mistakes": mistakes}
