"""Benchmark for `perfpack profile` (issue 18's goals), every figure measured in this one run.

1. Detection: generated programs (tests/profiling/programs.py; fresh seeds each run) in six shapes — plain
   loop, recursion, a C-extension call, threads, a child process, asyncio — each with one planted hot
   function doing >= 55 % of the CPU work: is it the top hot spot? Goal: every one.
2. Memory: generated programs whose planted function makes the largest allocation live at the peak (a
   decoy allocates more but frees it before): does it top `--memory`? Goal: every one.
3. Overhead: `perfpack profile -- python PROG` end to end (perfpack's start, py-spy, the summary, the
   flame graph) against `python PROG` alone, interleaved, median of 5. Goal: <= 1.15x.
4. The default summary's size. Goal: <= 2,048 bytes, every run.
5. Bad input: a command that fails, exits at once, is not Python, a PID that is gone or not ours: one
   line on stderr, exit 2, no traceback, no process left behind. Goal: every case.

    .venv/bin/python benchmarks/profile.py [--seeds N] [--runs 5] [--scale 1.0] [--only-overhead]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.profiling import programs  # noqa: E402

PERFPACK = [sys.executable, "-m", "perfpack"]


def _run(argv: list[str], cwd: Path, timeout: float = 600) -> tuple[subprocess.CompletedProcess, float]:
    proc, wall, _ = _timed(argv, cwd, timeout)
    return proc, wall


def _timed(
    argv: list[str], cwd: Path, timeout: float = 600
) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run in a session of its own (so that Linux's autogroup scheduling treats a plain run and a profiled
    one alike); (result, wall seconds, CPU seconds of it and everything it waited for)."""
    start = time.perf_counter()
    child = subprocess.Popen(
        argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, 9)
        out, err = child.communicate()
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - _timed.cpu_seen  # type: ignore[attr-defined]
    _timed.cpu_seen += cpu  # type: ignore[attr-defined]
    return subprocess.CompletedProcess(argv, child.returncode, out, err), wall, cpu


_timed.cpu_seen = 0.0  # type: ignore[attr-defined]


def _strays(marker: str) -> list[str]:
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmd = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open(f"/proc/{pid}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[-1].split()[0]
        except OSError:
            continue
        if marker in cmd and state != b"Z":
            out.append(cmd)
    return out


def detection(work: Path, seeds: list[int], scale: float) -> tuple[int, int, list[str], int]:
    hits, total, misses, biggest = 0, 0, [], 0
    for seed in seeds:
        for shape in programs.CPU_SHAPES:
            prog = programs.generate(shape, work, seed, scale=scale)
            proc, _ = _run([*PERFPACK, "profile", "--format", "json", "--", *prog.argv], work)
            text, _ = _run([*PERFPACK, "profile", "--", *prog.argv], work)
            biggest = max(biggest, len(text.stdout.encode()))
            total += 1
            try:
                top = json.loads(proc.stdout)["hotspots"][0]["function"]
            except (ValueError, KeyError, IndexError):
                top = f"(exit {proc.returncode}: {proc.stderr.strip()[:120]})"
            if top == prog.planted:
                hits += 1
            else:
                misses.append(f"{shape} seed {seed}: top {top}, planted {prog.planted}")
            print(f"  {shape:9} seed {seed:6}: {'ok' if top == prog.planted else 'MISS'}", file=sys.stderr)
    return hits, total, misses, biggest


def memory(work: Path, seeds: list[int], scale: float, engine: str) -> tuple[int, int, list[str], int]:
    hits, misses, biggest = 0, [], 0
    for seed in seeds:
        prog = programs.generate_memory(work, seed, scale=scale)
        proc, _ = _run(
            [*PERFPACK, "profile", "--memory", "--engine", engine, "--format", "json", "--", *prog.argv], work
        )
        text, _ = _run([*PERFPACK, "profile", "--memory", "--engine", engine, "--", *prog.argv], work)
        biggest = max(biggest, len(text.stdout.encode()))
        try:
            top = json.loads(proc.stdout)["sites"][0]["function"]
        except (ValueError, KeyError, IndexError):
            top = f"(exit {proc.returncode}: {proc.stderr.strip()[:120]})"
        hits += top == prog.planted
        if top != prog.planted:
            misses.append(f"memory/{engine} seed {seed}: top {top}, planted {prog.planted}")
    return hits, len(seeds), misses, biggest


def overhead(work: Path, runs: int, scale: float) -> dict[str, float]:
    prog = programs.generate("loop", work, 424242, scale=scale)
    plain, profiled, inside, plain_cpu, profiled_cpu = [], [], [], [], []
    _run(prog.argv, work)  # warm the page cache
    for i in range(runs):
        for which in [0, 1] if i % 2 == 0 else [1, 0]:
            if which == 0:
                _, wall, cpu = _timed(prog.argv, work)
                plain.append(wall)
                plain_cpu.append(cpu)
            else:
                argv = [*PERFPACK, "profile", "--format", "json", "--name", "overhead", "--", *prog.argv]
                proc, wall, cpu = _timed(argv, work)
                assert proc.returncode == 0, proc.stderr
                profiled.append(wall)
                profiled_cpu.append(cpu)
                inside.append(json.loads(proc.stdout)["wall_s"])
    med = statistics.median
    return {
        "plain": med(plain),
        "profiled": med(profiled),
        "ratio": med(profiled) / med(plain),
        "inside": med(inside) / med(plain),
        "cpu": med(profiled_cpu) / med(plain_cpu),
    }


def bad_input(work: Path) -> tuple[int, int, list[str]]:
    fails = work / "fails.py"
    fails.write_text("s = 0\nfor i in range(2_000_000):\n    s += i\nraise SystemExit(3)\n")
    text = work / "notes.txt"
    text.write_text("not a program\n")
    text.chmod(0o755)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    cases: list[tuple[str, list[str]]] = [
        ("fails", ["--", sys.executable, str(fails)]),
        ("exits at once", ["--", sys.executable, "-c", "pass"]),
        ("only sleeps", ["--", sys.executable, "-c", "import time; time.sleep(1)"]),
        ("not a program", ["--", str(text)]),
        ("not found", ["--", "no-such-command-xyz"]),
        ("not Python, --memory", ["--memory", "--", "ls"]),
        ("PID gone", ["--pid", str(gone.pid)]),
        ("PID of perfpack's caller", ["--pid", str(os.getpid())]),
    ]
    other = None
    if os.geteuid() == 0:
        other = subprocess.Popen(
            ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", "/bin/sleep", "60"]
        )
        time.sleep(0.2)
        cases.append(("PID not ours", ["--pid", str(other.pid), "--duration", "1s"]))
    ok, problems = 0, []
    try:
        for label, args in cases:
            proc, _ = _run([*PERFPACK, "profile", *args], work)
            time.sleep(0.1)
            strays = _strays(str(work))
            good = (
                proc.returncode == 2
                and proc.stderr.count("\n") == 1
                and "Traceback" not in proc.stderr
                and not strays
            )
            ok += good
            if not good:
                problems.append(
                    f"{label}: exit {proc.returncode}, stderr {proc.stderr.strip()[:200]!r}, strays {strays}"
                )
    finally:
        if other:
            other.kill()
            other.wait()
    return ok, len(cases), problems


def print_overhead(o: dict[str, float], runs: int) -> None:
    print(
        f"overhead: perfpack profile {o['profiled']:.2f} s vs unprofiled {o['plain']:.2f} s "
        f"(median of {runs}, interleaved): {o['ratio']:.3f}x end to end; the program's own wall "
        f"under py-spy {o['inside']:.3f}x; CPU of perfpack + py-spy + program {o['cpu']:.3f}x  "
        "goal: <= 1.15x"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="programs per shape")
    parser.add_argument("--runs", type=int, default=5, help="overhead: interleaved runs (median)")
    parser.add_argument("--scale", type=float, default=1.0, help="work per program (1.0: ~1-2 s)")
    parser.add_argument(
        "--only-overhead",
        action="store_true",
        help="measure only the overhead ratio (e.g. again under `chrt -f 20` on a shared machine)",
    )
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    seeds = random.sample(range(1_000_000), args.seeds)
    with tempfile.TemporaryDirectory(prefix="perfpack-profile-bench-") as tmp:
        work = Path(tmp)
        (work / ".git").mkdir()  # a project root of its own: profiles and the ledger stay in here
        if args.only_overhead:
            print_overhead(overhead(work, args.runs, args.scale * 2), args.runs)
            load = os.getloadavg()
            print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
            return 0
        hits, total, misses, biggest = detection(work, seeds, args.scale)
        print(
            f"detection: planted function ranked first in {hits}/{total} programs "
            f"({len(programs.CPU_SHAPES)} shapes x {args.seeds} seeds)  goal: all"
        )
        for miss in misses:
            print(f"  miss: {miss}")
        mem_seeds = seeds[: max(1, args.seeds)]
        for engine, scale in (("memray", args.scale), ("tracemalloc", args.scale * 0.25)):
            m_hits, m_total, m_misses, m_big = memory(work, mem_seeds, scale, engine)
            biggest = max(biggest, m_big)
            print(f"memory ({engine}): planted allocation site first in {m_hits}/{m_total}  goal: all")
            for miss in m_misses:
                print(f"  miss: {miss}")
        print_overhead(overhead(work, args.runs, args.scale * 2), args.runs)
        print(f"summary: largest default text summary {biggest:,} bytes  goal: <= 2,048")
        ok, cases, problems = bad_input(work)
        print(
            f"bad input: {ok}/{cases} cases one line, exit 2, no traceback, nothing left running  goal: all"
        )
        for problem in problems:
            print(f"  problem: {problem}")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
