"""Time `perfpack snapshot` against a bare `python -c pass` in the same run (budget: <= 1.5 s typical).

Usage: python benchmarks/snapshot.py [--runs N] [--project DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{argv} exited {done.returncode}: snapshot must always exit 0")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--project", default=str(Path(__file__).resolve().parent.parent))
    args = parser.parse_args()
    anchor_cmd = [sys.executable, "-c", "pass"]
    snap_cmd = [sys.executable, "-m", "perfpack", "snapshot", "--project", args.project]
    timed(snap_cmd, 1)  # warm the page cache
    # Interleave so machine noise hits both alike.
    anchor, snap = [], []
    for _ in range(args.runs):
        anchor += timed(anchor_cmd, 1)
        snap += timed(snap_cmd, 1)
    a, s = statistics.median(anchor), statistics.median(snap)
    print(f"anchor  python -c pass        median {a * 1000:7.1f} ms  (n={args.runs})")
    print(f"perfpack snapshot ({args.project})  median {s * 1000:7.1f} ms  max {max(snap) * 1000:.1f} ms")
    print(f"ratio   snapshot / bare start  {s / a:.1f}x")
    verdict = "OK" if s <= 1.5 and max(snap) <= 5.0 else "OVER BUDGET"
    print(f"budget  <= 1500 ms typical, <= 5000 ms max: {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    raise SystemExit(main())
