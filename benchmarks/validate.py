"""Benchmark: `perfpack validate` over 1,000 generated agent files (budget >= 1,000 files/s).

Prints files/s in-process and through the CLI (a fresh process, start-up included), and the CLI's
time as a ratio to a bare `python -c pass` measured in the same run. Usage: python benchmarks/validate.py [N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from perfpack.validate.engine import Options, validate_paths  # noqa: E402

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


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_pack(root, count)
        first = validate_paths([root], Options())
        assert first.checked == count and not first.findings, first.findings[:3]
        in_process = [timed(lambda: validate_paths([root], Options())) for _ in range(REPEATS)]
        cli = [timed(lambda: subprocess.run([sys.executable, "-m", "perfpack", "validate", str(root)],
                                            check=True, capture_output=True)) for _ in range(REPEATS)]
        anchor = [timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True)) for _ in range(REPEATS)]
    t_in, t_cli, t_anchor = (statistics.median(x) for x in (in_process, cli, anchor))
    rate_in, rate_cli = count / t_in, count / t_cli
    print(f"files: {count} agents, median of {REPEATS} runs")
    print(f"in-process : {t_in * 1000:8.1f} ms  {rate_in:8.0f} files/s")
    print(f"CLI        : {t_cli * 1000:8.1f} ms  {rate_cli:8.0f} files/s  (fresh process, start-up included)")
    print(f"anchor     : {t_anchor * 1000:8.1f} ms  python -c pass")
    print(f"ratio CLI / anchor: {t_cli / t_anchor:.1f}x")
    ok = rate_cli >= BUDGET
    print(f"budget {BUDGET:.0f} files/s via the CLI: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
