"""Prompt routing: quality on the labelled corpora and the hook's start-up cost against a bare interpreter.

Usage: .venv/bin/python benchmarks/route.py [--runs N] [--json]
Quality: precision / recall of "suggest a performance agent at all", top-1 agent accuracy, on every
labelled set in tests/data: the training sets (scripts/train_route_model.py) and the held-out set
tests/data/route_heldout_v6.jsonl, written blind and never trained or tuned on: the budget is judged there.
Latency: the hook launched exactly as installed (absolute interpreter + hook.py path, payload on stdin),
interleaved with `python -c pass` on the same interpreter; the ratio of medians is the figure.
Budgets: precision >= 0.95, recall >= 0.90, hook/bare <= 1.3. Exit 1 if one is breached.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from perfpack.route.compile import write_routes  # noqa: E402
from perfpack.route.engine import load_rules  # noqa: E402
from perfpack.route.quality import evaluate, load_corpus  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from train_route_model import HELD_OUT, TRAINING  # noqa: E402

HOOK = ROOT / "src" / "perfpack" / "hook.py"
BUDGET = {"precision": 0.95, "recall": 0.90, "ratio": 1.3}


def _time(argv: list[str], stdin: bytes, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


def latency(rules_file: Path, project: Path, prompts: list[str], runs: int) -> dict:
    # An installed wheel has bytecode; this checkout may not (PYTHONDONTWRITEBYTECODE), so build it once.
    compileall.compile_dir(str(ROOT / "src" / "perfpack" / "route"), quiet=1)
    compileall.compile_file(str(ROOT / "src" / "perfpack" / "__init__.py"), quiet=1)
    python = sys.executable  # the venv interpreter, by absolute path, as installed
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(project)}
    env.pop("PERFPACK_ROUTE", None)
    env.pop("PERFPACK_HOOKS", None)
    bare, hook = [], []
    hook_argv = [python, str(HOOK), "user-prompt-submit", "--rules", str(rules_file)]
    for _ in range(5):  # warm the page cache
        _time([python, "-c", "pass"], b"", env)
        _time(hook_argv, b'{"prompt": "warm"}', env)
    rng = random.Random(7)
    for i in range(runs):
        payload = json.dumps({"session_id": f"bench-{i}", "cwd": str(project), "hook_event_name": "UserPromptSubmit",
                              "prompt": prompts[i % len(prompts)]}).encode()
        pair = [("bare", [python, "-c", "pass"]), ("hook", hook_argv)]
        rng.shuffle(pair)  # interleaved, random order within each pair
        for name, argv in pair:
            (bare if name == "bare" else hook).append(_time(argv, payload, env))
    huge = b'{"prompt": "' + b"slow " * (2 * 1024 * 1024) + b'"}'  # 10 MB
    huge_times = [_time(hook_argv, huge, env) for _ in range(5)]
    return {"runs": runs, "bare_median_ms": round(statistics.median(bare) * 1000, 2),
            "hook_median_ms": round(statistics.median(hook) * 1000, 2),
            "ratio": round(statistics.median(hook) / statistics.median(bare), 3),
            "huge_10mb_median_ms": round(statistics.median(huge_times) * 1000, 2), "interpreter": python}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="hook/bare pairs (default 200)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        rules_file = write_routes(ROOT / "agents", project / ".claude" / "perfpack" / "routes.json")
        rules = load_rules(str(rules_file))
        results = {}
        for name in (*TRAINING, HELD_OUT):
            path = ROOT / "tests" / "data" / f"{name}.jsonl"
            if path.exists():
                scored = evaluate(load_corpus(path), rules)
                scored["mistakes"] = len(scored["mistakes"])
                results[name] = scored
        prompts = [row["prompt"] for row in load_corpus(ROOT / "tests" / "data" / "route_corpus.jsonl")]
        results["latency"] = latency(rules_file, project, prompts, max(args.runs, 10))
    held_out = results[HELD_OUT]
    ok = (held_out["precision"] >= BUDGET["precision"] and held_out["recall"] >= BUDGET["recall"]
          and results["latency"]["ratio"] <= BUDGET["ratio"])
    results["within_budget"] = ok
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, r in results.items():
            if name in ("latency", "within_budget"):
                continue
            print(f"{name:28} {'HELD OUT' if name == HELD_OUT else 'trained '} {r['prompts']} prompts ({r['positives']} performance): precision {r['precision']:.3f} "
                  f"recall {r['recall']:.3f} top-1 agent {r['top1_accuracy']:.3f} (fp {r['fp']}, fn {r['fn']})")
        lat = results["latency"]
        print(f"hook latency   median {lat['hook_median_ms']} ms vs bare `python -c pass` {lat['bare_median_ms']} ms "
              f"-> ratio {lat['ratio']:.3f} ({lat['runs']} interleaved pairs); 10 MB payload {lat['huge_10mb_median_ms']} ms")
        print(f"budget (held-out precision >= 0.95, recall >= 0.90, ratio <= 1.3): {'ok' if ok else 'BREACHED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
