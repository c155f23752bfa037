"""Benchmark perfpack memory: concurrent writers, one CLI write vs a bare interpreter start, load at 100k
records.

usage: python benchmarks/memory.py [--runs N] [--writers N] [--records N] [--store N]
Prints each figure next to the anchor measured in the same run; exit 1 if the CLI-write budget (<= 2x) is
breached or a record was lost.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
SCRIPT = Path(PY).with_name("perfpack")
HEAVY = ("click", "yaml", "jsonschema", "git", "psutil")  # and re/json, which the write path avoids too
WRITER = """
import sys
from perfpack.memory import AgentMemoryManager
db, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with AgentMemoryManager(db) as m:
    for i in range(count):
        if i % 2:
            m.add_task_to_history(name, {"task_description": f"{name} task {i}", "outcome": "success"})
        else:
            m.add_optimization_insight(name, {"area": "caching", "insight": f"{name} insight {i}",
                                              "impact": "medium", "confidence": 0.5})
"""


RAW_WRITER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
conn.execute("PRAGMA busy_timeout = 30000")
conn.execute("PRAGMA synchronous = NORMAL")
for i in range(int(sys.argv[3])):
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO t (agent, body) VALUES (?, ?)", (sys.argv[2], f"record {i}"))
    conn.execute("COMMIT")
"""


def raw_sqlite_writers(tmp: Path, writers: int, records: int) -> float:
    """Anchor: the same process count writing bare rows (WAL, BEGIN IMMEDIATE per row, no FTS, no checks)."""
    db = tmp / "raw.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, agent TEXT, body TEXT)")
    conn.close()
    start = time.perf_counter()
    procs = [subprocess.Popen([PY, "-c", RAW_WRITER, str(db), f"a{i}", str(records)]) for i in range(writers)]
    for proc in procs:
        proc.wait()
    return writers * records / (time.perf_counter() - start)


def concurrent_writers(tmp: Path, writers: int, records: int) -> dict:
    project = tmp / "writers"
    db = project / ".claude" / "memory" / "memory.db"
    (project / ".claude").mkdir(parents=True)
    start = time.perf_counter()
    procs = [
        subprocess.Popen([PY, "-c", WRITER, str(db), f"agent-{i}", str(records)]) for i in range(writers)
    ]
    codes = [p.wait() for p in procs]
    elapsed = time.perf_counter() - start
    conn = sqlite3.connect(db)
    stored = conn.execute("SELECT (SELECT count(*) FROM tasks) + (SELECT count(*) FROM insights)").fetchone()[
        0
    ]
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    conn.close()
    return {
        "writers": writers,
        "records": writers * records,
        "stored": stored,
        "lost": writers * records - stored,
        "exit_codes": codes,
        "integrity": integrity,
        "seconds": round(elapsed, 3),
        "records_per_s": round(writers * records / elapsed),
    }


def _timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, check=False, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000


def cli_write_ratio(tmp: Path, runs: int) -> dict:
    project = tmp / "cli"
    (project / ".claude").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFPACK_")}
    env["CLAUDE_PROJECT_DIR"] = str(project)
    bare = [PY, "-c", "pass"]
    write = [
        str(SCRIPT),
        "memory",
        "insight",
        "performance-engineer",
        '{"area": "db", "insight": "index orders.user_id", "impact": "high", "confidence": 0.9}',
    ]
    for _ in range(3):  # warm-up: page cache, db creation
        _timed(bare, project, env)
        _timed(write, project, env)
    # what every `perfpack` start pays before any command runs: the console script's `import re`
    # and perfpack.cli; shown so the memory path's own share is visible
    floor = [PY, "-c", "import re, perfpack.cli"]
    samples: dict[str, list[tuple[float, float]]] = {"bare": [], "write": [], "floor": []}
    for _ in range(runs):  # interleaved, so load changes on the shared machine hit all alike
        samples["bare"].append(_timed(bare, project, env))
        samples["write"].append(_timed(write, project, env))
        samples["floor"].append(_timed(floor, project, env))
    med = {
        k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for k, v in samples.items()
    }
    # what the memory path imports (must not include the heavy libraries)
    trace = subprocess.run(  # no check=: the exit code is the thing checked
        [PY, "-X", "importtime", str(SCRIPT), *write[1:]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    ).stderr
    modules = {line.split("|")[-1].strip() for line in trace.splitlines() if line.startswith("import time:")}
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m in ("re", "json"))
    return {
        "runs": runs,
        "bare_ms": round(med["bare"][0], 2),
        "write_ms": round(med["write"][0], 2),
        "ratio_wall": round(med["write"][0] / med["bare"][0], 2),
        "bare_cpu_ms": round(med["bare"][1], 2),
        "write_cpu_ms": round(med["write"][1], 2),
        "ratio_cpu": round(med["write"][1] / med["bare"][1], 2),
        "floor_ms": round(med["floor"][0], 2),
        "ratio_floor": round(med["floor"][0] / med["bare"][0], 2),
        "heavy_imports": heavy,
        "modules_imported": len(modules),
    }


def load_at_scale(tmp: Path, store_size: int, runs: int) -> dict:
    from perfpack.memory import AgentMemoryManager, load_my_memory, load_shared_context
    from perfpack.memory.store import MemoryStore

    db = tmp / "large" / ".claude" / "memory" / "memory.db"
    agents = [f"agent-{i}" for i in range(10)]
    with MemoryStore.open(db) as store:
        half = store_size // 2
        now = time.time()
        tasks = [
            (
                f"t{i:031x}",
                agents[i % 10],
                now - i,
                f"task {i} tuned query plan {i % 97}",
                "success",
                json.dumps({"key_insights": [f"k{i}"]}),
            )
            for i in range(half)
        ]
        insights = [
            (
                f"i{i:031x}",
                agents[i % 10],
                now - i,
                "database",
                f"insight {i} about index {i % 89}",
                ("low", "medium", "high")[i % 3],
                (i % 100) / 100,
                "{}",
                f"insight {i} about index {i % 89}",
                now - i,
            )
            for i in range(store_size - half)
        ]
        start = time.perf_counter()
        store.transaction(
            lambda c: c.executemany(
                "INSERT INTO tasks (uid, agent, created, description, outcome, data) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                tasks,
            )
        )
        store.transaction(
            lambda c: c.executemany(
                "INSERT INTO insights (uid, agent, created, area, insight, impact, confidence, data, norm, "
                "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                insights,
            )
        )
        store.transaction(store.rebuild_search_index)  # bulk rows bypass the store's per-record indexing
        fill_s = time.perf_counter() - start

    def median_ms(call) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
        return round(statistics.median(times), 2)

    memory = load_my_memory("agent-3", db=db)
    manager = AgentMemoryManager(db)
    fts_ms = median_ms(lambda: manager.search("index 42"))
    os.environ["PERFPACK_MEMORY_NO_FTS"] = "1"
    like_ms = median_ms(lambda: manager.search("index 42"))
    del os.environ["PERFPACK_MEMORY_NO_FTS"]
    manager.close()
    # anchor: reading every record and keeping the best, what a JSON-file memory has to do
    conn = sqlite3.connect(db)
    whole_ms = median_ms(
        lambda: sorted(
            conn.execute("SELECT * FROM insights WHERE agent = 'agent-3'").fetchall(),
            key=lambda r: r[7],
            reverse=True,
        )[:30]
    )
    conn.close()
    return {
        "records": store_size,
        "fill_s": round(fill_s, 2),
        "load_my_memory_ms": median_ms(lambda: load_my_memory("agent-3", db=db)),
        "load_shared_context_ms": median_ms(lambda: load_shared_context(db=db)),
        "load_bytes": len(json.dumps(memory, separators=(",", ":")).encode()),
        "anchor_read_all_of_one_agent_ms": whole_ms,
        "search_fts5_ms": fts_ms,
        "search_like_ms": like_ms,
        "db_bytes": db.stat().st_size,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="interleaved CLI runs per command (default 30)")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--records", type=int, default=500, help="records per writer (default 500)")
    parser.add_argument("--store", type=int, default=100_000, help="records stored for the load test")
    args = parser.parse_args()
    # An installed package has bytecode; this tree may run with PYTHONDONTWRITEBYTECODE=1, so compile it
    # once here, or every CLI start would measure the compiler.
    import compileall

    import perfpack

    compileall.compile_dir(str(Path(perfpack.__file__).parent), quiet=1)
    with tempfile.TemporaryDirectory(prefix="perfpack-memory-bench-") as name:
        tmp = Path(name)
        writers = concurrent_writers(tmp, args.writers, args.records)
        raw = raw_sqlite_writers(tmp, args.writers, args.records)
        writers["anchor_raw_sqlite_records_per_s"] = round(raw)
        print(
            f"concurrent writers: {writers['writers']} processes x {args.records} records "
            f"(tasks and insights through the API, MEMORY.md digest on): {writers['records_per_s']} "
            f"records/s, {writers['lost']} lost, integrity {writers['integrity']}; anchor "
            f"bare SQLite rows, same processes: {round(raw)}/s -> {writers['records_per_s'] / raw:.2f}x"
        )
        cli = cli_write_ratio(tmp, args.runs)
        print(
            f"one CLI write (`perfpack memory insight`): {cli['write_ms']} ms vs bare `python -c pass` "
            f"{cli['bare_ms']} ms -> {cli['ratio_wall']}x wall (budget <= 2x); CPU {cli['write_cpu_ms']} vs "
            f"{cli['bare_cpu_ms']} ms -> {cli['ratio_cpu']}x; median of {cli['runs']} interleaved runs"
        )
        print(
            f"  of which `import _sqlite3, perfpack.cli` costs: {cli['floor_ms']} ms "
            f"-> {cli['ratio_floor']}x bare"
        )
        print(
            f"heavy imports on the memory path: {cli['heavy_imports'] or 'none'} "
            f"({cli['modules_imported']} modules in all)"
        )
        load = load_at_scale(tmp, args.store, 20)
        print(
            f"with {load['records']} records stored ({load['db_bytes'] // 1024} KiB): load_my_memory "
            f"{load['load_my_memory_ms']} ms ({load['load_bytes']} bytes of JSON), load_shared_context "
            f"{load['load_shared_context_ms']} ms; anchor: reading one agent's insights whole "
            f"{load['anchor_read_all_of_one_agent_ms']} ms; search FTS5 {load['search_fts5_ms']} ms, "
            f"LIKE {load['search_like_ms']} ms"
        )
        print(json.dumps({"writers": writers, "cli": cli, "load": load}))
    ok = (
        writers["lost"] == 0
        and writers["integrity"] == "ok"
        and cli["ratio_wall"] <= 2
        and not cli["heavy_imports"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
