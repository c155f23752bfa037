"""Benchmark of `perfpack bench`/`compare` themselves: overhead vs hyperfine, false alarms, detection power.

Prints (a) per-run overhead on `true` as a ratio to `hyperfine -N` measured in the same run (budget <= 1.25x),
(b) the false-alarm rate over 40 A/A comparisons (budget <= 5 %), (c) the detection rate of a 10 % slowdown
at the default number of pairs (budget >= 95 %). Takes about 1.5-2 minutes on the 2-core build machine.
Exit 1 when a budget is not met (as benchmarks/memory.py and benchmarks/load.py do).

    .venv/bin/python benchmarks/bench.py [--trials 40] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perfpack.bench import engine
from perfpack.bench.runner import enable_subreaper, resolve_command, run_once

PERFPACK = [sys.executable, "-m", "perfpack"]


def _elapsed(argv: list[str], cwd: str | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    return time.perf_counter() - start


def overhead(small: int, large: int, reps: int) -> dict:
    """Per-run cost of each tool's loop on `true`: (T(large) - T(small)) / (large - small), which cancels
    start-up; also the mean each tool reports for `true`. Interleaved, median of `reps`."""
    hyperfine = shutil.which("hyperfine")
    ours, theirs, our_means, their_means = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        export = str(Path(tmp) / "h.json")
        for _ in range(reps):
            # in a scratch folder: each run appends to the ledger of the project it runs in
            small_run = [*PERFPACK, "bench", "--runs", str(small), "--warmup", "3", "--", "true"]
            t_small = _elapsed(small_run, cwd=tmp)
            start = time.perf_counter()
            out = subprocess.run(
                [*PERFPACK, "bench", "--runs", str(large), "--warmup", "3", "--format", "json", "--", "true"],
                capture_output=True,
                text=True,
                check=True,
                cwd=tmp,
            )
            t_large = time.perf_counter() - start
            ours.append((t_large - t_small) / (large - small))
            our_means.append(json.loads(out.stdout)["summary"]["wall_s"]["mean"])
            if hyperfine:
                base = [hyperfine, "-N", "--warmup", "3", "--style", "none"]
                h_small = _elapsed([*base, "--runs", str(small), "true"])
                h_large = _elapsed([*base, "--runs", str(large), "--export-json", export, "true"])
                theirs.append((h_large - h_small) / (large - small))
                their_means.append(json.loads(Path(export).read_text())["results"][0]["mean"])
    result = {"ours_per_run": statistics.median(ours), "ours_mean": statistics.median(our_means)}
    if hyperfine:
        result.update(
            hyperfine_per_run=statistics.median(theirs), hyperfine_mean=statistics.median(their_means)
        )
    return result


def _plan(argv: list[str]) -> engine.Plan:
    return engine.Plan(argv=resolve_command(argv, shell=False), display=argv, warmup=1)


def verdicts(cmd_a: list[str], cmd_b: list[str], trials: int, pairs: int) -> list[str]:
    out = []
    for _ in range(trials):
        runs_a, runs_b = engine.interleave(_plan(cmd_a), _plan(cmd_b), pairs)
        v = engine.judge_runs([r.wall_s for r in runs_a], [r.wall_s for r in runs_b], paired=True)
        out.append(v.verdict)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="fewer runs, for a smoke test")
    args = parser.parse_args()
    enable_subreaper()
    pairs = engine.DEFAULT_PAIRS

    print(
        f"load average 1/5/15 min at the start: {' / '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"({os.cpu_count()} CPUs)"
    )
    small, large, reps = (50, 250, 1) if args.quick else (200, 1200, 3)
    o = overhead(small, large, reps)
    print(f"(a) overhead per run on `true` ({large - small} runs difference, median of {reps}):")
    print(
        f"    perfpack bench: {o['ours_per_run'] * 1e3:.3f} ms/run loop cost, reported mean "
        f"{o['ours_mean'] * 1e3:.3f} ms"
    )
    met = []
    if "hyperfine_per_run" in o:
        ratio = o["ours_per_run"] / o["hyperfine_per_run"]
        met.append(ratio <= 1.25)
        print(
            f"    hyperfine -N  : {o['hyperfine_per_run'] * 1e3:.3f} ms/run loop cost, reported mean "
            f"{o['hyperfine_mean'] * 1e3:.3f} ms"
        )
        print(
            f"    ratio (loop cost) {ratio:.2f}x, "
            f"ratio (reported mean) {o['ours_mean'] / o['hyperfine_mean']:.2f}x"
            f"   budget <= 1.25x: {'PASS' if ratio <= 1.25 else 'FAIL'}"
        )
    else:
        print("    hyperfine not found: ratio skipped (install hyperfine to measure it)")

    # (b) A/A: the same command on both sides; a direction (faster/slower) is a false alarm. An
    # "inconclusive" claims nothing, so it is no false alarm, but it is counted and shown.
    base_s = 0.020
    aa = verdicts(["sleep", f"{base_s}"], ["sleep", f"{base_s}"], args.trials, pairs)
    false_rate = sum(v in ("faster", "slower") for v in aa) / len(aa)
    aa_inconclusive = sum(v == "inconclusive" for v in aa) / len(aa)
    met.append(false_rate <= 0.05)
    print(
        f"(b) false alarms over {len(aa)} A/A comparisons of `sleep {base_s}` ({pairs} pairs each): "
        f"{false_rate:.1%} (inconclusive {aa_inconclusive:.1%})   "
        f"budget <= 5%: {'PASS' if false_rate <= 0.05 else 'FAIL'}"
    )

    # (c) B takes 10 % longer than A in total, process start included: sleep durations set from the
    # measured fixed cost of starting `sleep`.
    fixed = statistics.median(
        run_once(resolve_command(["sleep", "0"], shell=False)).wall_s for _ in range(30)
    )
    slow_s = 1.10 * (base_s + fixed) - fixed
    ab = verdicts(["sleep", f"{base_s}"], ["sleep", f"{slow_s:.6f}"], args.trials, pairs)
    detected = sum(v == "slower" for v in ab) / len(ab)
    ab_inconclusive = sum(v == "inconclusive" for v in ab) / len(ab)
    met.append(detected >= 0.95)
    print(
        f"(c) detection of a 10% slowdown (`sleep {base_s}` vs `sleep {slow_s:.5f}`, start-up "
        f"{fixed * 1e3:.2f} ms) over {len(ab)} comparisons at the default {pairs} pairs: {detected:.1%} "
        f"(inconclusive {ab_inconclusive:.1%}, wrong direction "
        f"{sum(v == 'faster' for v in ab) / len(ab):.1%})   "
        f"budget >= 95%: {'PASS' if detected >= 0.95 else 'FAIL'}"
    )
    print(
        f"load average 1/5/15 min at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"({os.cpu_count()} CPUs)"
    )
    return 0 if all(met) else 1


if __name__ == "__main__":
    raise SystemExit(main())
