"""What the machine-independent hook commands cost: the installed UserPromptSubmit command (a shell `[ -x ]`
test, then exec through .claude/perfpack/local/ links) against the absolute-path form installs wrote
before, both run the way Claude Code runs a hook (`sh -c COMMAND`, payload on stdin), interleaved in
random order, with `sh -c 'python -S -c pass'` as the anchor. Prints medians, the ratios and the load.

    .venv/bin/python benchmarks/install.py [--runs N]
"""

from __future__ import annotations

import argparse
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "app"
        project.mkdir()
        subprocess.run([sys.executable, "-m", "perfpack", "install", "--project", str(project)], check=True,
                       capture_output=True)
        settings = json.loads((project / ".claude" / "settings.json").read_text())
        installed = settings["hooks"]["UserPromptSubmit"][-1]["hooks"][0]["command"]
        python = os.path.realpath(sys.executable)
        hook = os.path.realpath(project / ".claude" / "perfpack" / "local" / "hook.py")
        absolute = f"{python} -S {hook} user-prompt-submit --rules {project}/.claude/perfpack/routes.json"
        commands = {"installed": installed, "absolute (before)": absolute,
                    "python -S -c pass": f"{python} -S -c pass"}
        env = {**os.environ, "CLAUDE_PROJECT_DIR": str(project)}
        for key in ("PERFPACK_HOOKS", "PERFPACK_ROUTE"):
            env.pop(key, None)
        payload = json.dumps({"prompt": "the checkout page is slow", "session_id": "b", "cwd": str(project)})
        times: dict[str, list[float]] = {name: [] for name in commands}
        rng = random.Random(7)
        for i in range(args.runs + 5):
            order = list(commands)
            rng.shuffle(order)
            for name in order:
                start = time.perf_counter()
                subprocess.run(["sh", "-c", commands[name]], input=payload.encode(), env=env, check=False,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if i >= 5:  # the first rounds warm the page cache
                    times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    for name, value in median.items():
        print(f"{name:20} median {value:7.2f} ms")
    print(f"installed / absolute (before): {median['installed'] / median['absolute (before)']:.3f}; "
          f"installed / python -S -c pass: {median['installed'] / median['python -S -c pass']:.3f} "
          f"({args.runs} interleaved rounds, load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
