#!/usr/bin/env python3
"""Train the routing model (the hook's second stage) and rebuild hooks/routes.json with it embedded.

    python scripts/train_route_model.py                 # train on TRAINING, write hooks/route-model.json
    python scripts/train_route_model.py --check         # exit 1 if the committed model is stale
    python scripts/train_route_model.py --leave-one-out # per training set: train on the others, score it

Training is deterministic (fixed seed, sorted inputs), so --check can compare bytes. The held-out sets
(HELD_OUT) are never read here: benchmarks/route.py scores them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from perfpack.route.compile import MODEL_FILE, compile_agents, render_routes  # noqa: E402
from perfpack.route.engine import RuleSet, prompt_features  # noqa: E402
from perfpack.route.model import NONE, Model, train  # noqa: E402

DATA = ROOT / "tests" / "data"
# Labelled prompts by several authors (docs/routing.md tells which); every one is training data now.
TRAINING = ["route_corpus", "route_heldout", "route_heldout_v5", "route_tuning_v6", "route_tuning_v7_backend",
            "route_tuning_v7_frontend", "route_tuning_v7_infra", "route_tuning_v7_data_tools",
            "route_tuning_v7_negatives", "route_tuning_v7_styles", "route_tuning_v8_stacks",
            "route_tuning_v8_boundaries", "route_tuning_v8_long", "route_tuning_v8_checklist",
            "route_tuning_v8_long_numbers", "route_tuning_v8_units", "route_tuning_v9_spec",
            "route_tuning_v10_spec", "route_tuning_v11_negatives", "route_tuning_v11_terse"]
# Written blind (from the labelling guide alone) and never trained or tuned on: the budget is judged here.
HELD_OUT = ["route_heldout_v6", "route_heldout_v8_roles", "route_heldout_v8_company",
            "route_heldout_v9_everyday", "route_heldout_v10_adversarial", "route_heldout_v11_examiner"]
MODEL_PATH = ROOT / "hooks" / MODEL_FILE
ROUTES_PATH = ROOT / "hooks" / "routes.json"
THRESHOLD = 0.6  # P(some agent) needed to suggest one; chosen with --leave-one-out (docs/routing.md)


def load(name: str) -> list[dict]:
    rows = []
    for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows


def rules_only() -> RuleSet:
    return RuleSet(compile_agents(ROOT / "agents", model=False))


def classes(rules: RuleSet) -> list[str]:
    return [NONE] + sorted(rule.name for rule in rules.rules)


def fit(rows: list[dict], rules: RuleSet) -> dict:
    names = classes(rules)
    examples = [(prompt_features(row["prompt"], rules), names.index(row["expected"] or NONE)) for row in rows]
    document = train(examples, names)
    document["threshold"] = THRESHOLD
    document["trained_on"] = {"prompts": len(rows)}
    return document


def render(document: dict) -> str:
    weights = document.pop("weights")
    head = json.dumps(document, ensure_ascii=False)[:-1]
    body = ",\n".join(f"{json.dumps(key, ensure_ascii=False)}:{json.dumps(value)}" for key, value in
                      sorted(weights.items()))
    document["weights"] = weights
    return head + ', "weights": {\n' + body + "\n}}\n"


def score(rows: list[dict], rules: RuleSet, model: Model, threshold: float) -> tuple[float, float]:
    tp = fp = fn = 0
    for row in rows:
        probs = model.probabilities(prompt_features(row["prompt"], rules))
        got = 1 - probs[0] >= threshold
        want = row["expected"] is not None
        tp += got and want
        fp += got and not want
        fn += want and not got
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if hooks/route-model.json is stale")
    parser.add_argument("--leave-one-out", action="store_true", help="estimate quality on unseen authors")
    args = parser.parse_args()
    rules = rules_only()
    sets = {name: load(name) for name in TRAINING}
    if args.leave_one_out:
        for name, rows in sets.items():
            others = [row for other, other_rows in sets.items() if other != name for row in other_rows]
            model = Model(fit(others, rules))
            cells = "  ".join(f"{t:.1f}: {p:.3f}/{r:.3f}" for t in (0.3, 0.4, 0.5, 0.6, 0.7)
                              for p, r in [score(rows, rules, model, t)])
            print(f"{name:28s} {len(rows):4d}  threshold: precision/recall  {cells}")
        return 0
    text = render(fit([row for rows in sets.values() for row in rows], rules))
    routes = render_routes(compile_agents(ROOT / "agents", model=False) | {"model": json.loads(text)})
    if args.check:
        stale = [path.name for path, want in ((MODEL_PATH, text), (ROUTES_PATH, routes))
                 if not path.is_file() or path.read_text(encoding="utf-8") != want]
        if stale:
            print(f"stale: {', '.join(stale)}; run python scripts/train_route_model.py", file=sys.stderr)
            return 1
        print("route model and routes.json are up to date")
        return 0
    MODEL_PATH.write_text(text, encoding="utf-8")
    ROUTES_PATH.write_text(routes, encoding="utf-8")
    print(f"wrote {MODEL_PATH.relative_to(ROOT)} ({len(text) // 1024} KiB) and "
          f"{ROUTES_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
