"""The evidence check: accuracy on the labelled final reports, and the stop hook's cost against a bare
interpreter.

Usage: .venv/bin/python benchmarks/evidence.py [--runs N] [--json] [--instructions] [--held-out-mistakes]

Accuracy: tests/data/evidence/tune and tune2 to tune37 (the cases the extractor is tuned on; tune3 to
tune37 were written blind as held-out parts 3-5 and 7-38 by people who never read the checker, from real
ledgers of bench, compare, load, profile and explain runs, and demoted to tuning after their first sight
was recorded: see their READMEs and docs/evidence.md), and the held-out parts heldout (written first),
heldout2 and heldout6 (each looked at after its first sight, so no longer blind). The honest figure is
each blind part's first sight (docs/evidence.md); a new blind part is needed for the next one. Each report is
checked against its own ledger; a report is blocked when one of its figures is not backed by the ledger.
Goals: block >= 95 % of the reports with an invented figure and <= 2 % of the genuine ones, judged on the
held-out parts pooled.

Cost: the SubagentStop handler exactly as `perfpack install` writes it (.claude/perfpack/local/python -S
local/hook.py subagent-stop, payload on stdin) in a project whose ledger holds 200 records, interleaved in
random order with `python -S -c pass` on the same interpreter; the ratio of medians is the figure. Cases:
a final message with no figures and a typical report (both as the payload's `last_assistant_message`,
which both supported CLIs send), the typical report read from a 1 MB transcript (no
`last_assistant_message`), and the Stop hook of an /optimize turn (finds the command in the transcript).
Budget: each ratio <= 1.3. Exit 1 if a goal or budget is missed.

With --instructions, the same cases also run once each under valgrind's callgrind, and the ratio of
instructions executed is printed: a figure a loaded machine does not move (wall-clock ratios inflate
with the load average).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from hookbench import installed_target, time_run

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from perfpack.evidence.quality import evaluate, load_corpus  # noqa: E402
from perfpack.install.core import hook_argv  # noqa: E402

DATA = ROOT / "tests" / "data" / "evidence"
CORPORA = {"tune": DATA / "tune", "tune 2": DATA / "tune2", "tune 3": DATA / "tune3",
           "tune 4": DATA / "tune4", "tune 5": DATA / "tune5", "tune 6": DATA / "tune6",
           "tune 7": DATA / "tune7", "tune 8": DATA / "tune8", "tune 9": DATA / "tune9",
           "tune 10": DATA / "tune10", "tune 11": DATA / "tune11", "tune 12": DATA / "tune12",
           "tune 13": DATA / "tune13", "tune 14": DATA / "tune14", "tune 15": DATA / "tune15",
           "tune 16": DATA / "tune16", "tune 17": DATA / "tune17", "tune 18": DATA / "tune18",
           "tune 19": DATA / "tune19", "tune 20": DATA / "tune20", "tune 21": DATA / "tune21",
           "tune 22": DATA / "tune22", "tune 23": DATA / "tune23", "tune 24": DATA / "tune24",
           "tune 25": DATA / "tune25", "tune 26": DATA / "tune26", "tune 27": DATA / "tune27",
           "tune 28": DATA / "tune28", "tune 29": DATA / "tune29", "tune 30": DATA / "tune30",
           "tune 31": DATA / "tune31", "tune 32": DATA / "tune32", "tune 33": DATA / "tune33",
           "tune 34": DATA / "tune34", "tune 35": DATA / "tune35", "tune 36": DATA / "tune36",
           "tune 37": DATA / "tune37",
           "held-out": DATA / "heldout", "held-out 2": DATA / "heldout2", "held-out 6": DATA / "heldout6"}
HELD_OUT = ("held-out", "held-out 2", "held-out 6")
POOLED = "held-out, all parts"
GOALS = {"invented_block_rate": 0.95, "genuine_block_rate": 0.02, "ratio": 1.3}
NO_FIGURES = ("I read the handler and the ORM calls. Nothing here is worth changing without a measurement; "
              "run perfpack bench before and after the next change and I will compare.")


def accuracy() -> dict:
    results = {}
    every_case, every_ledger = [], {}
    for name, folder in CORPORA.items():
        if not folder.is_dir():
            continue
        cases, ledgers = load_corpus(folder)
        results[name] = evaluate(cases, ledgers)
        if name in HELD_OUT:  # ledger names are unique per part: prefix them to pool the parts
            every_case += [case.__class__(case.name, case.label, case.invented, f"{name}/{case.ledger}",
                                          case.message) for case in cases]
            every_ledger.update({f"{name}/{key}": value for key, value in ledgers.items()})
    results[POOLED] = evaluate(every_case, every_ledger)
    return results


def _ledger_lines(records: int) -> str:
    """A project that has been measured a lot: `records` bench/load records, the typical report's last."""
    lines = []
    for i in range(records - 1):
        figures = [{"metric": k, "value": round(0.1 + (i % 37) * 0.013 + j * 0.002, 4), "unit": "s",
                    "of": "wall"} for j, k in enumerate(("median", "mean", "min", "max", "p95", "p99"))]
        lines.append(json.dumps({"id": f"bench-20261201T0000{i:02d}Z-{i:08x}", "kind": "bench",
                                 "name": f"job-{i % 11}", "command": ["python", "job.py"], "figures": figures,
                                 "time": "2026-12-01T00:00:00Z", "commit": "0" * 40}))
    heldout = (CORPORA["held-out"] / "ledgers" / "search.jsonl").read_text().splitlines()
    return "\n".join(lines + heldout) + "\n"


def _transcript(path: Path, final: str, prompt: str, size: int = 1 << 20) -> None:
    """A ~1 MB transcript: the prompt, many tool calls with output, then the final message."""
    entries = [{"type": "user", "message": {"role": "user", "content": prompt}}]
    filler = "x" * 2000
    while sum(len(json.dumps(e)) for e in entries) < size:
        entries.append({"type": "assistant", "message": {"role": "assistant", "content": [
            {"type": "tool_use", "id": "t", "name": "Bash", "input": {"command": "perfpack bench"}}]}})
        entries.append({"type": "user", "message": {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t", "content": filler}]}})
    entries.append({"type": "assistant", "message": {"role": "assistant", "content": [
        {"type": "text", "text": final}]}})
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n")


def _instructions(cases: dict, env: dict[str, str]) -> dict:
    """name -> instructions executed (callgrind), and each case's ratio to the bare interpreter."""
    import re
    import shutil

    if not shutil.which("valgrind"):
        return {"error": "valgrind not found"}
    counts = {}
    for name, (argv, stdin) in cases.items():
        done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                              input=stdin, capture_output=True, env=env, check=False, timeout=300)
        found = re.search(rb"Collected : (\d+)", done.stderr)
        if not found:
            return {"error": f"no instruction count for {name}"}
        counts[name] = int(found[1])
    bare = counts["bare -S"]
    return {name: {"instructions": count, "ratio": round(count / bare, 3)} for name, count in counts.items()
            if name != "bare -S"} | {"bare -S": {"instructions": bare}}


def cost(project: Path, runs: int, count_instructions: bool = False) -> dict:
    python = sys.executable
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(project)}
    env.pop("PERFPACK_HOOKS", None)
    target = installed_target(project)
    (project / ".claude" / "perfpack" / "ledger.jsonl").write_text(_ledger_lines(200))
    typical = (CORPORA["held-out"] / "cases" / "h20-mixed-genuine.md").read_text().split("\n", 1)[1]
    agent_transcript, main_transcript = project / "agent.jsonl", project / "main.jsonl"
    _transcript(agent_transcript, typical, "Measure the search endpoint")
    _transcript(main_transcript, typical, "<command-name>/optimize</command-name>\n<command-args>search"
                                          "</command-args>")
    subagent, stop = hook_argv(target, "SubagentStop"), hook_argv(target, "Stop")

    def payload(message: str | None, event: str = "SubagentStop") -> bytes:
        body = {"session_id": "bench", "transcript_path": str(main_transcript), "cwd": str(project),
                "permission_mode": "default", "hook_event_name": event, "stop_hook_active": False}
        if event == "SubagentStop":
            body.update(agent_id="a1", agent_type="performance-engineer",
                        agent_transcript_path=str(agent_transcript))
        if message is not None:
            body["last_assistant_message"] = message
        return json.dumps(body).encode()

    cases = {
        "bare -S": ([python, "-S", "-c", "pass"], b""),
        "no figures": (subagent, payload(NO_FIGURES)),
        "typical report": (subagent, payload(typical)),
        "typical, from the transcript": (subagent, payload(None)),
        "/optimize Stop, from the transcript": (stop, payload(typical, "Stop")),
    }
    for argv, stdin in cases.values():  # the hook lets each of these through: nothing to block
        done = subprocess.run(argv, input=stdin, capture_output=True, env=env, check=False)
        assert done.returncode == 0 and not done.stdout, (argv, done.stdout[:300], done.stderr[-300:])
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(5):
        for argv, stdin in cases.values():
            time_run(argv, stdin, env)
    rng = random.Random(11)
    for _ in range(runs):
        order = list(cases)
        rng.shuffle(order)
        for name in order:
            times[name].append(time_run(*cases[name], env))
    median = {name: statistics.median(values) for name, values in times.items()}
    bare = median["bare -S"]
    instructions = _instructions(cases, env) if count_instructions else {}
    return {"instructions": instructions, "runs": runs, "command": shlex.join(subagent),
            "bare_S_median_ms": round(bare * 1000, 2),
            "cases": {name: {"median_ms": round(value * 1000, 2), "ratio": round(value / bare, 3)}
                      for name, value in median.items() if name != "bare -S"},
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="interleaved rounds (default 100)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--held-out-mistakes", action="store_true",
                        help="also list the misjudged held-out reports (never tune on them)")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions with valgrind (callgrind): load-independent ratios")
    args = parser.parse_args()
    results: dict = {"accuracy": accuracy()}
    with tempfile.TemporaryDirectory() as tmp:
        results["cost"] = cost(Path(tmp), max(args.runs, 10), args.instructions)
    held = results["accuracy"][POOLED]
    budget_cases = ("no figures", "typical report")
    ok = (held["invented_block_rate"] >= GOALS["invented_block_rate"]
          and held["genuine_block_rate"] <= GOALS["genuine_block_rate"]
          and all(results["cost"]["cases"][name]["ratio"] <= GOALS["ratio"] for name in budget_cases))
    results["within_budget"] = ok
    if not args.held_out_mistakes:  # nobody should tune the checker on held-out reports
        for name in (*HELD_OUT, POOLED):
            if name in results["accuracy"]:
                results["accuracy"][name]["mistakes"] = []
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0 if ok else 1
    for name, r in results["accuracy"].items():
        print(f"{name:20} {r['reports']} reports: invented blocked {r['invented_blocked']}/{r['invented']} "
              f"({100 * r['invented_block_rate']:.1f} %), genuine blocked "
              f"{r['genuine_blocked']}/{r['genuine']} ({100 * r['genuine_block_rate']:.1f} %)")
        for mistake in r["mistakes"]:
            print(f"          mistake: {mistake['case']} ({mistake['label']}; invented "
                  f"{mistake['invented']!r}; unverified {mistake['unverified']})")
    c = results["cost"]
    print(f"hook cost vs `python -S -c pass` ({c['bare_S_median_ms']} ms median, {c['runs']} interleaved "
          f"rounds, load average {c['load_average']}):")
    for name, r in c["cases"].items():
        print(f"  {name:36} {r['median_ms']:8.2f} ms  ratio {r['ratio']:.3f}")
    for name, r in c["instructions"].items():
        if name == "error":
            print(f"  instructions: {r}")
        elif name != "bare -S":
            print(f"  {name:36} {r['instructions']:>12,} instructions  ratio {r['ratio']:.3f} (callgrind)")
    print(f"goals (held-out parts pooled: invented blocked >= 95 %, genuine <= 2 %; hook ratio <= 1.3 "
          f"on {' and '.join(budget_cases)}): {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
