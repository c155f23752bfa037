"""Benchmark: `perfpack validate` over 1,000 generated agent files (budget >= 1,000 files/s).

Prints files/s in-process and through the CLI (a fresh process, start-up included), and the CLI's
time as a ratio to a bare `python -c pass` measured in the same run. Usage: python benchmarks/validate.py [N]
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from perfpack.validate.engine import Options, validate_paths

BUDGET = 1000.0  # files per second
REPEATS = 5

AGENT = """---
name: agent-{i}
description: "Use PROACTIVELY when a request mentions latency, p99, slow endpoints or memory growth in service {i}."
tools: Read, Grep, Glob, Bash, Agent(agent-{j}, Explore)
model: sonnet
color: cyan
skills:
  - profiling
delegates-to: [agent-{j}]
triggers:
  keywords: {{latency: 3, slow: 2, p99: 3}}
  phrases: {{"takes forever": 3}}
  threshold: 3
---

# Agent {i}

You measure first. Delegate to agent-{j} for database work.

| Delegate to | When |
|---|---|
| agent-{j} | query plans |

""" + "Profile, then change one thing, then measure again.\n" * 40


def make_pack(root: Path, count: int) -> None:
    (root / "agents").mkdir()
    (root / "skills" / "profiling").mkdir(parents=True)
    (root / "skills" / "profiling" / "SKILL.md").write_text("---\nname: profiling\ndescription: x\n---\n")
    for i in range(count):
        (root / "agents" / f"agent-{i}.md").write_text(AGENT.format(i=i, j=(i + 1) % count))


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def cli_run(root: Path, jobs: str) -> tuple[float, float]:
    """Wall time and CPU time (user+sys, children included) of one `perfpack validate` process."""
    env = {**os.environ, "PERFPACK_VALIDATE_JOBS": jobs}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(lambda: subprocess.run([sys.executable, "-m", "perfpack", "validate", str(root)],
                                        check=True, capture_output=True, env=env))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=1000, help="agent files to generate (default 1000)")
    count = parser.parse_args().count
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_pack(root, count)
        first = validate_paths([root], Options())
        assert first.checked == count and not first.findings, first.findings[:3]
        in_process = [timed(lambda: validate_paths([root], Options())) for _ in range(REPEATS)]
        parallel = [cli_run(root, "0") for _ in range(REPEATS)]
        serial = [cli_run(root, "1") for _ in range(REPEATS)]
        anchor = [timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True)) for _ in range(REPEATS)]
    med = statistics.median
    t_in, t_anchor = med(in_process), med(anchor)
    t_par, t_ser = med(w for w, _ in parallel), med(w for w, _ in serial)
    cpu_ser = med(c for _, c in serial)
    print(f"files: {count} agents, median of {REPEATS} runs; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"in-process          : {t_in * 1000:8.1f} ms  {count / t_in:8.0f} files/s")
    print(f"CLI (default jobs)  : {t_par * 1000:8.1f} ms  {count / t_par:8.0f} files/s  (fresh process, start-up included)")
    print(f"CLI (one process)   : {t_ser * 1000:8.1f} ms  {count / t_ser:8.0f} files/s")
    print(f"CLI one process, CPU: {cpu_ser * 1000:8.1f} ms  {count / cpu_ser:8.0f} files per CPU-second "
          "(robust to other load)")
    print(f"anchor python -c pass: {t_anchor * 1000:6.1f} ms;  CLI / anchor = {t_par / t_anchor:.1f}x")
    ok = count / t_par >= BUDGET
    print(f"budget {BUDGET:.0f} files/s via the CLI: {'met' if ok else 'MISSED (see load average)'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
