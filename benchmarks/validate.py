"""Benchmark: `perfpack validate` over 1,000 generated agent files (budget >= 1,000 files/s).

Prints files/s in-process and through the CLI (a fresh process, start-up included), the CLI's time as a
ratio to a bare `python -c pass`, and as a ratio to `claude plugin validate` on the same plugin (the anchor
of issue 16: perfpack must be no slower), both measured in the same run.
Usage: python benchmarks/validate.py [N] [--perfpack-keys]
The Claude Code CLI is taken from ~/.cache/perfpack/claude-code-VERSION (PERFPACK_E2E_CACHE), newest first.
"""

from __future__ import annotations

import compileall
import json
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

AGENT = (
    """---
name: agent-{i}
description: "Use PROACTIVELY when a request mentions latency, p99, slow endpoints or memory growth in {i}."
tools: Read, Grep, Glob, Bash, Agent(agent-{j}, Explore)
model: sonnet
color: cyan
skills:
  - profiling
{legacy}---

# Agent {i}

You measure first. Delegate to agent-{j} for database work.

| Delegate to | When |
|---|---|
| agent-{j} | query plans |

"""
    + "Profile, then change one thing, then measure again.\n" * 40
)
# perfpack's routing keys as agents carried them before they moved to agents/perfpack.toml (--perfpack-keys):
# Claude Code ignores them (2.1.332 warns), so each such agent now gets two PP110 warnings
LEGACY_KEYS = """delegates-to: [agent-{j}]
triggers:
  keywords: {{latency: 3, slow: 2, p99: 3}}
  phrases: {{"takes forever": 3}}
  threshold: 3
"""


def make_pack(root: Path, count: int, legacy: bool = False) -> None:
    """A plugin (so `claude plugin validate` reads the same agents) with `count` agents and one skill."""
    (root / ".claude-plugin").mkdir()
    (root / ".claude-plugin" / "plugin.json").write_text(
        json.dumps(
            {
                "name": "bench",
                "version": "1.0.0",
                "description": "benchmark corpus",
                "author": {"name": "perfpack"},
            }
        )
    )
    (root / "agents").mkdir()
    (root / "skills" / "profiling").mkdir(parents=True)
    (root / "skills" / "profiling" / "SKILL.md").write_text("---\nname: profiling\ndescription: x\n---\n")
    for i in range(count):
        j = (i + 1) % count
        (root / "agents" / f"agent-{i}.md").write_text(
            AGENT.format(i=i, j=j, legacy=LEGACY_KEYS.format(j=j) if legacy else "")
        )


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def cli_run(root: Path, jobs: str) -> tuple[float, float]:
    """Wall time and CPU time (user+sys, children included) of one `perfpack validate` process."""
    env = {**os.environ, "PERFPACK_VALIDATE_JOBS": jobs}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(
        lambda: subprocess.run(
            [sys.executable, "-m", "perfpack", "validate", str(root)],
            check=True,
            capture_output=True,
            env=env,
        )
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def claude_cli() -> Path | None:
    base = Path(os.environ.get("PERFPACK_E2E_CACHE") or Path.home() / ".cache" / "perfpack").expanduser()
    found = sorted(
        base.glob("claude-code-*/node_modules/.bin/claude"),
        key=lambda p: [int(x) for x in p.parts[-4].split("-")[-1].split(".") if x.isdigit()],
    )
    return found[-1] if found else None


def claude_run(claude: Path, root: Path, home: Path) -> float:
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    return timed(
        lambda: subprocess.run(
            [str(claude), "plugin", "validate", str(root)],
            capture_output=True,
            env=env,
            timeout=600,
            check=False,
        )
    )


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "count", nargs="?", type=int, default=1000, help="agent files to generate (default 1000)"
    )
    parser.add_argument(
        "--perfpack-keys",
        action="store_true",
        help="agents also carry triggers/delegates-to in frontmatter (the corpus before they moved "
        "to agents/perfpack.toml; two PP110 warnings each)",
    )
    args = parser.parse_args()
    count = args.count
    # An installed wheel has bytecode; this checkout may not (PYTHONDONTWRITEBYTECODE), so build it once.
    compileall.compile_dir(str(Path(__file__).resolve().parent.parent / "src" / "perfpack"), quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_pack(root, count, args.perfpack_keys)
        first = validate_paths([root], Options())
        errors = [f for f in first.findings if f.severity == "error"]
        assert first.checked >= count and not errors, errors[:3]
        in_process = [timed(lambda: validate_paths([root], Options())) for _ in range(REPEATS)]
        parallel = [cli_run(root, "0") for _ in range(REPEATS)]
        serial = [cli_run(root, "1") for _ in range(REPEATS)]
        anchor = [
            timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True)) for _ in range(REPEATS)
        ]
        claude = claude_cli()
        (root / "home").mkdir()
        claude_times = [claude_run(claude, root, root / "home") for _ in range(REPEATS)] if claude else []
    med = statistics.median
    t_in, t_anchor = med(in_process), med(anchor)
    t_par, t_ser = med(w for w, _ in parallel), med(w for w, _ in serial)
    cpu_ser = med(c for _, c in serial)
    print(
        f"files: {count} agents, median of {REPEATS} runs; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    print(f"in-process          : {t_in * 1000:8.1f} ms  {count / t_in:8.0f} files/s")
    print(
        f"CLI (default jobs)  : {t_par * 1000:8.1f} ms  {count / t_par:8.0f} files/s  "
        "(fresh process, start-up included)"
    )
    print(f"CLI (one process)   : {t_ser * 1000:8.1f} ms  {count / t_ser:8.0f} files/s")
    print(
        f"CLI one process, CPU: {cpu_ser * 1000:8.1f} ms  {count / cpu_ser:8.0f} files per CPU-second "
        "(robust to other load)"
    )
    print(f"anchor python -c pass: {t_anchor * 1000:6.1f} ms;  CLI / anchor = {t_par / t_anchor:.1f}x")
    if claude and claude_times:
        t_claude = med(claude_times)
        print(
            f"anchor claude plugin validate ({claude.parts[-4]}): {t_claude * 1000:8.1f} ms  "
            f"{count / t_claude:8.0f} files/s;  perfpack / claude = {t_par / t_claude:.2f}x "
            f"({'faster' if t_par < t_claude else 'SLOWER'})"
        )
    else:
        print("anchor claude plugin validate: no Claude Code CLI under ~/.cache/perfpack (skipped)")
    ok = count / t_par >= BUDGET
    print(f"budget {BUDGET:.0f} files/s via the CLI: {'met' if ok else 'MISSED (see load average)'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
