"""Prompt routing: quality on the labelled corpora and the hook's start-up cost against a bare interpreter.

Usage: .venv/bin/python benchmarks/route.py [--runs N] [--json]
Quality: precision / recall of "suggest a performance agent at all", top-1 agent accuracy, on every
labelled set in tests/data: the training sets (scripts/train_route_model.py) and the held-out sets
(HELD_OUT there), written blind and never trained or tuned on: the budget is judged on those together.
Latency: the hook launched exactly as `perfpack install` writes it (absolute interpreter, -S, hook.py path,
payload on stdin), interleaved with `python -c pass` on the same interpreter; the ratio of medians is the
figure. `python -S -c pass` runs in the same loop: the ratio to it is the hook's own cost at its launch form.
The plugin route's hook (hooks/hooks.json's command, rules from the plugin's folder, cached in the user's
cache) and the PreToolUse hook on a non-commit Bash call are timed in the same loop, as ratios to
`python -c pass` (as the project route) and `python -S -c pass` (PreToolUse, the issue's anchor).
Budgets: precision >= 0.95, recall >= 0.90, hook/bare and plugin hook/bare <= 1.3, PreToolUse <= 1.3 x
`python -S -c pass`. Exit 1 if one is breached.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import sys
import tempfile
from pathlib import Path

from hookbench import HOOK, installed_target, time_run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from perfpack.install.core import HOOK_PYTHON_FLAGS, hook_argv  # noqa: E402
from perfpack.route.compile import write_routes  # noqa: E402
from perfpack.route.engine import load_rules  # noqa: E402
from perfpack.route.quality import evaluate, load_corpus  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from train_route_model import HELD_OUT, TRAINING  # noqa: E402

BUDGET = {"precision": 0.95, "recall": 0.90, "ratio": 1.3}
ALL_HELD_OUT = "all held-out sets"  # the budget is judged on them together


def latency(project: Path, prompts: list[str], runs: int) -> dict:
    python = sys.executable  # the venv interpreter, by absolute path, as installed
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(project)}
    env.pop("PERFPACK_ROUTE", None)
    env.pop("PERFPACK_HOOKS", None)
    # What the installed hook command executes: .claude/perfpack/local/python -S local/hook.py (links
    # that `perfpack install` makes to the interpreter and to this checkout's hook).
    target = installed_target(project)
    hook = hook_argv(target, "UserPromptSubmit")
    script = Path(hook[hook.index("user-prompt-submit") - 1])
    assert script.resolve() == HOOK, "benchmark this checkout's hook"
    # The plugin route: python3 -S ${CLAUDE_PLUGIN_ROOT}/src/perfpack/hook.py ... --rules
    # ${CLAUDE_PLUGIN_ROOT}/hooks/routes.json, in a project without .claude/perfpack (its rules cache goes
    # to the user's cache folder).
    plugin_project = project.parent / "plugin-project"
    plugin_project.mkdir(exist_ok=True)
    plugin_env = {**env, "CLAUDE_PROJECT_DIR": str(plugin_project),
                  "XDG_CACHE_HOME": str(project.parent / "cache")}
    plugin_rules = str(ROOT / "hooks" / "routes.json")
    plugin_hook = [python, *HOOK_PYTHON_FLAGS, str(HOOK), "user-prompt-submit", "--rules", plugin_rules]
    commands = {"bare": [python, "-c", "pass"], "bare -S": [python, "-S", "-c", "pass"], "hook": hook,
                "plugin hook": plugin_hook, "pre-tool-use": hook_argv(target, "PreToolUse")}
    envs = {name: plugin_env if name == "plugin hook" else env for name in commands}
    # A non-commit Bash call, for the runs where the hook starts at all: with the `if` filter of
    # hooks/hooks.json, Claude Code >= 2.1.85 starts no process for it.
    bash_payload = json.dumps({"session_id": "bench", "cwd": str(project), "hook_event_name": "PreToolUse",
                               "tool_name": "Bash", "tool_input": {"command": "ls -la src"}}).encode()
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(5):  # warm the page cache (and write the rules caches)
        for name, argv in commands.items():
            time_run(argv, b'{"prompt": "the api is slow", "session_id": "warm"}', envs[name])
    rng = random.Random(7)
    for i in range(runs):
        payload = json.dumps({"session_id": f"bench-{i}", "cwd": str(project),
                              "hook_event_name": "UserPromptSubmit",
                              "prompt": prompts[i % len(prompts)]}).encode()
        order = list(commands)
        rng.shuffle(order)  # interleaved, random order within each round
        for name in order:
            times[name].append(time_run(commands[name], bash_payload if name == "pre-tool-use" else payload,
                                     envs[name]))
    huge = b'{"prompt": "' + b"slow " * (2 * 1024 * 1024) + b'"}'  # 10 MB
    huge_times = [time_run(hook, huge, env) for _ in range(5)]
    median = {name: statistics.median(values) for name, values in times.items()}
    return {"runs": runs, "command": shlex.join(hook), "bare_median_ms": round(median["bare"] * 1000, 2),
            "bare_S_median_ms": round(median["bare -S"] * 1000, 2),
            "hook_median_ms": round(median["hook"] * 1000, 2),
            "ratio": round(median["hook"] / median["bare"], 3),
            "ratio_to_bare_S": round(median["hook"] / median["bare -S"], 3),
            "plugin_hook_median_ms": round(median["plugin hook"] * 1000, 2),
            "plugin_ratio": round(median["plugin hook"] / median["bare"], 3),
            "plugin_to_project": round(median["plugin hook"] / median["hook"], 3),
            "pre_tool_use_median_ms": round(median["pre-tool-use"] * 1000, 2),
            "pre_tool_use_ratio_to_bare_S": round(median["pre-tool-use"] / median["bare -S"], 3),
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
        corpora = {name: load_corpus(ROOT / "tests" / "data" / f"{name}.jsonl")
                   for name in (*TRAINING, *HELD_OUT)}
        corpora[ALL_HELD_OUT] = [row for name in HELD_OUT for row in corpora[name]]
        for name, rows in corpora.items():
            scored = evaluate(rows, rules)
            scored["mistakes"] = len(scored["mistakes"])
            results[name] = scored
        prompts = [row["prompt"] for row in corpora["route_corpus"]]
        results["latency"] = latency(project, prompts, max(args.runs, 10))
    held_out = results[ALL_HELD_OUT]
    ok = (held_out["precision"] >= BUDGET["precision"] and held_out["recall"] >= BUDGET["recall"]
          and results["latency"]["ratio"] <= BUDGET["ratio"]
          and results["latency"]["plugin_ratio"] <= BUDGET["ratio"]
          and results["latency"]["pre_tool_use_ratio_to_bare_S"] <= BUDGET["ratio"])
    results["within_budget"] = ok
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, r in results.items():
            if name in ("latency", "within_budget"):
                continue
            kind = "trained " if name in TRAINING else "HELD OUT"
            print(f"{name:28} {kind} {r['prompts']} prompts ({r['positives']} performance): precision "
                  f"{r['precision']:.3f} recall {r['recall']:.3f} top-1 agent {r['top1_accuracy']:.3f} (fp "
                  f"{r['fp']}, fn {r['fn']})")
        lat = results["latency"]
        print(f"hook latency   median {lat['hook_median_ms']} ms vs bare `python -c pass` "
              f"{lat['bare_median_ms']} ms -> ratio {lat['ratio']:.3f} ({lat['runs']} interleaved "
              f"rounds); 10 MB payload {lat['huge_10mb_median_ms']} ms")
        print(f"               vs `python -S -c pass` {lat['bare_S_median_ms']} ms (the "
              f"hook's launch form) -> {lat['ratio_to_bare_S']:.3f}; hook command: {lat['command']}")
        print(f"plugin route   median {lat['plugin_hook_median_ms']} ms -> {lat['plugin_ratio']:.3f} x "
              f"`python -c pass`, {lat['plugin_to_project']:.3f} x the project route")
        print(f"PreToolUse     non-commit Bash call, where the hook starts at all (no `if` filter): "
              f"{lat['pre_tool_use_median_ms']} ms -> {lat['pre_tool_use_ratio_to_bare_S']:.3f} x "
              "`python -S -c pass`")
        print("budget (all held-out: precision >= 0.95, recall >= 0.90; hook ratios <= 1.3): "
              f"{'ok' if ok else 'BREACHED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
