"""The memory torture run of issue 14: many writer processes, one SIGKILLed, every acknowledged write checked.

usage: python tests/memory/torture.py [--runs N] [--writers 6] [--calls 300] [--no-kill] [--keep DIR]
       python tests/memory/torture.py --writer DB NAME CALLS LOG MODE      (one writer process)

6 writer processes x 300 `add_optimization_insight` calls into one project's memory: even writers keep one
AgentMemoryManager, odd ones make a new one per call; each id (and uid) is logged only after the call
returned. A 7th writer (one manager, endless) is SIGKILLed mid-run, after 50 acknowledged writes.
Afterwards: every logged id must be in the database with its uid, `PRAGMA integrity_check` must say ok,
and no call may have raised.
Exit 0 when every run is clean, 1 otherwise. Prints one line per run and a summary (stdout).

PERFPACK_TORTURE_PYTHONPATH / extra environment is passed through, so the same harness drives other
builds (e.g. an experiment with one factor switched).
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def writer(db: str, name: str, calls: int, log: str, mode: str) -> int:
    from perfpack.memory import AgentMemoryManager

    _experiment(os.environ.get("PERFPACK_TORTURE_SWITCH", ""))
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    errors = 0
    keep = AgentMemoryManager(db) if mode == "keep" else None
    i = 0
    while calls < 0 or i < calls:
        insight = {"area": "torture", "insight": f"{name} insight {i}", "impact": "medium", "confidence": 0.5}
        try:
            if keep is not None:
                result = keep.add_optimization_insight(name, insight)
            elif "close" in os.environ.get("PERFPACK_TORTURE_SWITCH", ""):
                with AgentMemoryManager(db) as manager:
                    result = manager.add_optimization_insight(name, insight)
            else:
                result = AgentMemoryManager(db).add_optimization_insight(name, insight)
        except Exception as exc:
            errors += 1
            os.write(fd, f"ERROR {type(exc).__name__}: {' '.join(str(exc).split())}\n".encode())
        else:
            os.write(fd, f"OK {result['id']} {result['uid']}\n".encode())
        i += 1
    os.close(fd)
    return 0


def _experiment(switches: str) -> None:
    """Switch one factor of the code under test (root-cause experiments; docs/memory.md)."""
    if "nocheck" in switches:  # no Python open()/close() of the database file before sqlite3.connect
        from perfpack.memory import database

        database._check_file = lambda path: None
    if "gc" in switches:  # collect reference cycles at once: a dropped manager's connection really closes
        import gc

        gc.set_threshold(1)


def one_run(workdir: Path, writers: int, calls: int, kill: bool, env: dict) -> dict:
    root = workdir / "proj"
    (root / ".claude").mkdir(parents=True)
    db = root / ".claude" / "memory" / "memory.db"
    env = {**env, "CLAUDE_PROJECT_DIR": str(root)}
    me = os.path.abspath(__file__)

    def spawn(name: str, n: int, mode: str) -> subprocess.Popen:
        log = workdir / f"{name}.log"
        return subprocess.Popen(
            [sys.executable, me, "--writer", str(db), name, str(n), str(log), mode],
            env=env,
            stderr=subprocess.PIPE,
        )

    procs = [spawn(f"writer-{i}", calls, "keep" if i % 2 == 0 else "new") for i in range(writers)]
    victim = spawn("victim", -1, "keep") if kill else None
    if victim is not None:  # killed mid-run: once it has had writes acknowledged, while the others write
        log, deadline = workdir / "victim.log", time.monotonic() + 60
        while time.monotonic() < deadline and victim.poll() is None:
            if log.exists() and log.read_bytes().count(b"\n") >= 50:
                break
            time.sleep(0.02)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
    crashed = []
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        if proc.returncode != 0:
            crashed.append(err.decode(errors="replace")[-300:])
    acked: list[tuple[str, int, str]] = []
    errors: list[str] = []
    for log in sorted(workdir.glob("*.log")):
        for line in log.read_text().splitlines():
            if line.startswith("OK "):
                _, rid, uid = line.split()
                acked.append((log.stem, int(rid), uid))
            elif line.startswith("ERROR "):
                errors.append(line[6:])
    conn = sqlite3.connect(db)
    try:
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        stored = dict(conn.execute("SELECT id, uid FROM insights").fetchall())
        by_uid = set(stored.values())
    except sqlite3.DatabaseError as exc:
        integrity, stored, by_uid = [f"unreadable: {exc}"], {}, set()
    finally:
        conn.close()
    lost = [(w, rid, uid) for w, rid, uid in acked if uid not in by_uid]
    reused = [(w, rid) for w, rid, uid in lost if rid in stored]
    return {
        "acked": len(acked),
        "errors": errors,
        "lost": lost,
        "reused": reused,
        "integrity": integrity,
        "crashed": crashed,
        "stored": len(stored),
    }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--writer":
        db, name, calls, log, mode = sys.argv[2:7]
        return writer(db, name, int(calls), log, mode)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--keep", help="keep each run's folder under this one")
    args = parser.parse_args()
    import sqlite3 as lib

    print(f"python {sys.version.split()[0]}, sqlite3 module links SQLite {lib.sqlite_version}; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    bad_runs = 0
    totals = {"errors": 0, "lost": 0, "corrupt": 0}
    for run in range(args.runs):
        base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="perfpack-torture-"))
        workdir = base / f"run{run}"
        workdir.mkdir(parents=True)
        started = time.monotonic()
        r = one_run(workdir, args.writers, args.calls, not args.no_kill, dict(os.environ))
        ok = r["integrity"] == ["ok"]
        totals["errors"] += len(r["errors"])
        totals["lost"] += len(r["lost"])
        totals["corrupt"] += not ok
        clean = ok and not r["errors"] and not r["lost"] and not r["crashed"]
        bad_runs += not clean
        kinds: dict[str, int] = {}
        for e in r["errors"]:
            kinds[e[:80]] = kinds.get(e[:80], 0) + 1
        print(
            f"run {run}: {time.monotonic() - started:.0f}s acked={r['acked']} stored={r['stored']} "
            f"errors={len(r['errors'])} lost={len(r['lost'])} (ids reused: {len(r['reused'])}) "
            f"integrity={'ok' if ok else '; '.join(r['integrity'][:3])} crashed={len(r['crashed'])}",
            flush=True,
        )
        for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:3]:
            print(f"    {n} x {kind}", flush=True)
        for w, rid, uid in r["lost"][:3]:
            print(f"    lost: {w} id {rid} uid {uid[:8]}", flush=True)
        for c in r["crashed"][:2]:
            print(f"    crashed: {c!r}", flush=True)
    print(f"summary: {args.runs - bad_runs}/{args.runs} runs clean; errors={totals['errors']} "
          f"lost={totals['lost']} corrupt runs={totals['corrupt']}")
    return 1 if bad_runs else 0


if __name__ == "__main__":
    sys.exit(main())
