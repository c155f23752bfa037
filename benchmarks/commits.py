"""Benchmark `perfpack commits check` on a 5,000-commit repository against git and gitlint.

Builds the repository with `git fast-import` (1-8 files per commit, 1-900 changed lines, binary files,
renames, some violations), then prints the check's time as a ratio to one bare `git log --numstat` pass over
the same range (budget <= 1.3x) and gitlint's time as a ratio to the check's (budget >= 30x).
gitlint is not a dependency: if it is not on PATH, a venv under /tmp gets it from PyPI (said in the output);
if that fails the gitlint ratio is skipped with a note.

    .venv/bin/python benchmarks/commits.py [--commits 5000] [--runs 5] [--gitlint-runs 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ["cache", "pool", "queue", "parser", "index", "buffer", "timeout", "retry", "lexer", "planner"]
VENV = Path("/tmp/perfpack-bench-gitlint")
GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C.UTF-8"}


def _content(rng: random.Random, n_lines: int, tag: str) -> bytes:
    return "".join(f"{tag} {rng.randrange(10**6)} line {i}\n" for i in range(n_lines)).encode()


def build_repository(path: Path, commits: int, seed: int = 5) -> None:
    """A linear history on `feature` branching from a one-commit `main`, written by git fast-import."""
    rng = random.Random(seed)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=GIT_ENV)
    paths = [f"src/mod{i}/file {i}.py" for i in range(60)] + [f"docs/päge{i}.md" for i in range(10)]
    out = bytearray()
    when = 1_700_000_000
    for number in range(commits + 1):
        branch = "main" if number == 0 else "feature"
        roll = rng.random()
        subject = f"Tune the {rng.choice(WORDS)} {number}"
        if roll < 0.05:
            subject = f"Tune the {rng.choice(WORDS)} and the {rng.choice(WORDS)}"  # PC201
        elif roll < 0.07:
            subject = f"fixup! Tune the {rng.choice(WORDS)}"
        trailers = ["Signed-off-by: Bench <bench@example.com>"] if rng.random() > 0.05 else []
        if rng.random() < 0.3:
            trailers.append(f"Assisted-By: perf-engineer (claude-sonnet-4 / {rng.randrange(16**7):07x})")
        message = f"{subject}\n\nWhy: measured.\n" + ("\n" + "\n".join(trailers) + "\n" if trailers else "")
        data = message.encode()
        out += f"commit refs/heads/{branch}\nmark :{number + 1}\n".encode()
        out += f"committer Bench <bench@example.com> {when + number * 60} +0000\n".encode()
        out += f"data {len(data)}\n".encode() + data
        if number == 1:
            out += b"from :1\n"
        n_files = 70 if number == 0 else (rng.randint(6, 9) if rng.random() < 0.08 else rng.randint(1, 4))
        for name in (paths if number == 0 else rng.sample(paths, n_files)):
            size = rng.choice([1, 3, 10, 40, 120]) if rng.random() > 0.03 else rng.randint(400, 900)
            blob = _content(rng, size, str(number))
            out += f'M 100644 inline "{name}"\ndata {len(blob)}\n'.encode() + blob + b"\n"
        if number and rng.random() < 0.02:
            blob = bytes(rng.randrange(256) for _ in range(2000))
            out += f"M 100644 inline bin/blob{number % 5}.dat\ndata {len(blob)}\n".encode() + blob + b"\n"
        if number and rng.random() < 0.01:
            old = rng.choice(paths)
            new = old.replace(".py", "_moved.py").replace(".md", "_moved.md")
            if new != old:
                out += f'R "{old}" "{new}"\n'.encode()
                paths[paths.index(old)] = new
        out += b"\n"
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=bytes(out), check=True, env=GIT_ENV)
    subprocess.run(["git", "checkout", "-q", "feature"], cwd=path, check=True, env=GIT_ENV)


def find_gitlint() -> tuple[str | None, str]:
    found = shutil.which("gitlint")
    if found:
        return found, f"gitlint from PATH ({found})"
    candidate = VENV / "bin" / "gitlint"
    if candidate.exists():
        return str(candidate), f"gitlint from the benchmark's own venv {VENV}"
    print(f"gitlint is not on PATH: installing it into {VENV} with pip (not a project dependency)...",
          flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True,
                       timeout=300)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "gitlint"], check=True,
                       capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"gitlint could not be installed ({type(exc).__name__}); gitlint ratio skipped"
    return str(candidate), f"gitlint installed by this benchmark into {VENV}"


def time_runs(command: list[str], cwd: Path, runs: int, ok_codes: tuple[int, ...]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=GIT_ENV)
        times.append(time.perf_counter() - start)
        if proc.returncode not in ok_codes:
            raise SystemExit(f"{command[:3]} failed with {proc.returncode}: {proc.stderr.decode()[-400:]}")
    return times


def numstat_totals(repo: Path, rng: str) -> tuple[int, int]:
    out = subprocess.run(["git", "log", "-M", "--numstat", "--format=tformat:@", rng], cwd=repo,
                         capture_output=True, check=True, env=GIT_ENV).stdout.decode("utf-8", "replace")
    files = lines = 0
    for line in out.splitlines():
        if line and line != "@":
            added, deleted, _ = line.split("\t", 2)
            files += 1
            lines += (0 if added == "-" else int(added)) + (0 if deleted == "-" else int(deleted))
    return files, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs of git and perfpack (median)")
    parser.add_argument("--gitlint-runs", type=int, default=1, help="gitlint takes ~50 s per run here")
    parser.add_argument("--no-gitlint", action="store_true")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the repository in this folder")
    args = parser.parse_args()

    perfpack = str(Path(sys.executable).with_name("perfpack"))
    workdir = Path(tempfile.mkdtemp(prefix="perfpack-bench-commits-"))
    repo = args.keep or workdir / "repo"
    if not (repo / ".git").exists():
        start = time.perf_counter()
        build_repository(repo, args.commits)
        print(f"built {args.commits} commits with git fast-import in "
              f"{time.perf_counter() - start:.1f} s: {repo}")
    rng = "main..feature"
    git_cmd = ["git", "log", "--numstat", rng]
    ours_cmd = [perfpack, "commits", "check", rng]

    # Correctness first: our per-commit counts must add up to git's own numstat.
    report = json.loads(subprocess.run(ours_cmd + ["--format", "json"], cwd=repo, capture_output=True,
                                       env=GIT_ENV).stdout)
    our_files = sum(c["files"] for c in report["commits"])
    our_lines = sum(c["lines"] for c in report["commits"])
    git_files, git_lines = numstat_totals(repo, rng)
    print(f"commits: {len(report['commits'])}, findings: {len(report['findings'])}, "
          f"skipped: {report['skipped']}")
    print(f"counts: perfpack {our_files} files / {our_lines} lines; git numstat {git_files} / {git_lines}"
          + ("  (equal)" if (our_files, our_lines) == (git_files, git_lines) else "  (DIFFERENT)"))

    time_runs(git_cmd, repo, 1, (0,))  # warm the page cache
    git_times, our_times = [], []
    for _ in range(args.runs):  # interleaved, so drift on a shared machine hits both alike
        git_times += time_runs(git_cmd, repo, 1, (0,))
        our_times += time_runs(ours_cmd, repo, 1, (0, 1))
    git_median, our_median = statistics.median(git_times), statistics.median(our_times)
    ratio = our_median / git_median
    print(f"git log --numstat {rng}:        median {git_median * 1000:.0f} ms of {args.runs}")
    print(f"perfpack commits check {rng}:   median {our_median * 1000:.0f} ms of {args.runs}")
    print(f"ratio perfpack / bare git log --numstat: {ratio:.2f}x (budget <= 1.3x) "
          + ("OK" if ratio <= 1.3 else "OVER BUDGET"))

    if args.no_gitlint:
        print("gitlint ratio skipped (--no-gitlint)")
        return 0
    gitlint, note = find_gitlint()
    print(note)
    if gitlint is None:
        return 0
    lint_times = time_runs([gitlint, "--ignore-stdin", "--commits", rng], repo, args.gitlint_runs,
                           tuple(range(256)))
    lint_median = statistics.median(lint_times)
    speedup = lint_median / our_median
    print(f"gitlint --commits {rng}:       median {lint_median:.1f} s of {args.gitlint_runs}")
    print(f"ratio gitlint / perfpack: {speedup:.0f}x faster (budget >= 30x) "
          + ("OK" if speedup >= 30 else "UNDER"))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
