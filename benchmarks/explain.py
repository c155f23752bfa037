"""Benchmark perfpack explain: a generated 200k-row database, 40 statement shapes of which 20 lack an index,
a program that runs them (with planted N+1 loops), on SQLite and on PostgreSQL.

usage: python benchmarks/explain.py [--seed N ...] [--rows N] [--engine sqlite|postgresql|both]
(default: two fresh random seeds, printed, so each run checks data the code has not been tuned on)

For each seed (the schema's names, which columns are indexed, the literals and the loops' sizes all change
with it) it runs `perfpack explain --try-indexes --capture -- python prog.py` and reports:
  - precision and recall of "needs an index" over the 40 shapes (budget >= 0.95 each);
  - every kept suggestion searches instead of scanning and is >= 2x faster (median of kept speedups too);
  - no suggestion for the small tables or the indexed columns;
  - each planted N+1 loop found with its exact count, and no decoy loop reported;
  - the run's wall time (budget <= 10 s) next to the anchor measured in the same run: SQLite's own index
    advisor (`sqlite3` shell `.expert`, one statement at a time) and, on PostgreSQL, a bare EXPLAIN of each;
  - malformed SQL, a missing database, a wrong password and a crashing program: exit 2, one line, database
    unchanged (file checksum / catalog state).
Exit 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PERFPACK = [sys.executable, "-m", "perfpack"]
WORDS = [
    "amber",
    "birch",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "grove",
    "heron",
    "indigo",
    "juniper",
    "kelp",
    "larch",
    "maple",
    "nectar",
    "onyx",
    "pebble",
    "quartz",
    "raven",
    "sable",
    "tundra",
    "umber",
    "vale",
]


@dataclass
class Shape:
    template: str  # SQL with {} fields filled per run
    needs: bool  # ground truth: a full read of a large table that an index turns into a fast search
    values: Any  # callable(rnd) -> dict of the template's fields
    why: str = ""


@dataclass
class World:
    seed: int
    rows: int
    names: dict[str, str]
    indexed: set[str]
    shapes: list[Shape] = field(default_factory=list)
    loops: dict[str, int] = field(default_factory=dict)  # N+1 shape -> planted count


def make_world(seed: int, rows: int) -> World:
    rnd = random.Random(seed)
    words = rnd.sample(WORDS, 12)
    n = {
        "fact": f"{words[0]}_events",
        "dim": f"{words[1]}_accounts",
        "dim2": f"{words[2]}_items",
        "small": f"{words[3]}_kinds",
        "small2": f"{words[4]}_flags",
    }
    col = {
        "fk": f"{words[5]}_id",
        "fk2": f"{words[6]}_id",
        "code": f"{words[7]}_code",
        "cat": "category",
        "amount": "amount",
        "day": "happened",
        "qty": f"{words[8]}_qty",
        "note": "note",
        "flag": "flag",
        "email": "email",
        "name": "name",
        "region": "region",
        "score": "score",
        "label": "label",
    }
    n.update({f"c_{k}": v for k, v in col.items()})
    # which of the "could be indexed" columns are: decides half of the ground truth
    indexed = {"fk2", "region"} | set(rnd.sample(["day", "label"], 1))
    w = World(seed=seed, rows=rows, names=n, indexed=indexed)
    F, D, D2, S, S2 = n["fact"], n["dim"], n["dim2"], n["small"], n["small2"]
    c = col
    dims = max(rows // 10, 1000)

    def code(r: random.Random) -> str:
        return f"K{r.randrange(rows):07d}"

    needs = [
        Shape(f"SELECT * FROM {F} WHERE {c['code']} = '{{v}}'", True, lambda r: {"v": code(r)}),
        Shape(
            f"SELECT {c['amount']} FROM {F} WHERE {c['qty']} = {{v}}",
            True,
            lambda r: {"v": r.randrange(rows * 4)},
        ),
        Shape(
            f"SELECT * FROM {F} WHERE {c['fk']} = {{a}} AND {c['cat']} = {{b}}",
            True,
            lambda r: {"a": r.randrange(dims), "b": r.randrange(8)},
        ),
        Shape(
            f"SELECT * FROM {F} WHERE {c['fk']} = {{a}} AND {c['amount']} > {{b}}",
            True,
            lambda r: {"a": r.randrange(dims), "b": r.randrange(900)},
        ),
        Shape(
            f"SELECT * FROM {F} WHERE {c['fk']} = {{a}} ORDER BY {c['amount']} DESC LIMIT 5",
            True,
            lambda r: {"a": r.randrange(dims)},
        ),
        Shape(
            f"SELECT count(*) FROM {F} WHERE {c['amount']} BETWEEN {{a}} AND {{a}} + 0.5",
            True,
            lambda r: {"a": r.randrange(999)},
        ),
        Shape(
            f"SELECT * FROM {F} WHERE {c['code']} IN ('{{a}}', '{{b}}', '{{c}}')",
            True,
            lambda r: {"a": code(r), "b": code(r), "c": code(r)},
        ),
        Shape(
            f"SELECT {c['code']} FROM {F} WHERE {c['note']} LIKE '{{p}}%'",
            True,
            lambda r: {"p": f"n{r.randrange(rows):07d}"[:7]},
        ),
        Shape(
            f"SELECT e.* FROM {F} e JOIN {D} a ON a.id = e.{c['fk']} WHERE a.{c['email']} = '{{v}}'",
            True,
            lambda r: {"v": f"u{r.randrange(dims)}@mail.test"},
        ),
        Shape(
            f"UPDATE {F} SET {c['flag']} = 1 - {c['flag']} WHERE {c['code']} = '{{v}}'",
            True,
            lambda r: {"v": code(r)},
        ),
        Shape(
            f"DELETE FROM {F} WHERE {c['qty']} = {{v}}",
            True,
            lambda r: {"v": r.randrange(rows * 4, rows * 5)},
        ),
        Shape(
            f"SELECT * FROM {F} WHERE {c['qty']} > {{v}} ORDER BY {c['qty']} LIMIT 10",
            True,
            lambda r: {"v": rows * 4 - 50 - r.randrange(500)},
        ),
        Shape(
            f"SELECT * FROM {F} WHERE {c['fk']} = {{a}} AND {c['cat']} = {{b}} AND {c['flag']} = {{f}}",
            True,
            lambda r: {"a": r.randrange(dims), "b": r.randrange(8), "f": r.randrange(2)},
        ),
        Shape(
            f"SELECT {c['cat']}, count(*) FROM {F} WHERE {c['fk']} = {{a}} GROUP BY {c['cat']}",
            True,
            lambda r: {"a": r.randrange(dims)},
        ),
        Shape(
            f"SELECT * FROM {D} WHERE {c['score']} BETWEEN {{a}} AND {{a}} + 0.01",
            True,
            lambda r: {"a": round(r.random() * 99, 2)},
        ),
        Shape(
            f"SELECT * FROM {D} WHERE {c['name']} = '{{v}}'",
            True,
            lambda r: {"v": f"acct {r.randrange(dims)}"},
        ),
        Shape(
            f"SELECT * FROM {F} WHERE {c['day']} = '{{d}}' AND {c['fk']} = {{a}}"
            if "day" not in indexed
            else f"SELECT * FROM {F} WHERE {c['note']} = 'n{{a:07d}} x'",
            True,
            lambda r: {"d": _day(r), "a": r.randrange(dims)},
        ),
        Shape(
            f"SELECT max({c['amount']}) FROM {F} WHERE {c['fk']} IN ({{a}}, {{b}})",
            True,
            lambda r: {"a": r.randrange(dims), "b": r.randrange(dims)},
        ),
        Shape(
            f"SELECT * FROM {D2} WHERE {c['label']} = '{{v}}'"
            if "label" not in indexed
            else f"SELECT * FROM {D2} WHERE {c['score']} = {{s}}",
            True,
            lambda r: {"v": f"item {r.randrange(dims // 2)}", "s": r.randrange(10**6)},
        ),
        Shape(
            f"SELECT a.{c['name']}, e.{c['amount']} FROM {D} a JOIN {F} e ON e.{c['fk']} = a.id "
            f"WHERE a.{c['name']} = 'acct {{v}}'",
            True,
            lambda r: {"v": r.randrange(dims)},
        ),
    ]
    fine = [
        Shape(
            f"SELECT * FROM {F} WHERE id = {{v}}", False, lambda r: {"v": r.randrange(1, rows)}, "primary key"
        ),
        Shape(
            f"SELECT * FROM {F} WHERE {c['fk2']} = {{v}}", False, lambda r: {"v": r.randrange(500)}, "indexed"
        ),
        Shape(
            f"SELECT * FROM {F} WHERE {c['fk2']} BETWEEN {{a}} AND {{a}} + 1",
            False,
            lambda r: {"a": r.randrange(500)},
            "indexed",
        ),
        Shape(
            f"SELECT * FROM {D} WHERE {c['region']} = {{v}}",
            False,
            lambda r: {"v": r.randrange(40)},
            "indexed",
        ),
        Shape(
            f"SELECT * FROM {S} WHERE {c['name']} = '{{v}}'",
            False,
            lambda r: {"v": f"kind {r.randrange(60)}"},
            "small",
        ),
        Shape(
            f"SELECT * FROM {S2} WHERE {c['score']} > {{v}}",
            False,
            lambda r: {"v": r.randrange(100)},
            "small",
        ),
        Shape(
            f"SELECT * FROM {F} WHERE lower({c['code']}) = '{{v}}'",
            False,
            lambda r: {"v": code(r).lower()},
            "expression",
        ),
        Shape(
            f"SELECT count(*) FROM {F} WHERE abs({c['amount']} - 500) < {{v}}",
            False,
            lambda r: {"v": r.randrange(1, 5)},
            "expression",
        ),
        Shape(
            f"SELECT * FROM {F} WHERE substr({c['note']}, 2, 4) = '{{v}}'",
            False,
            lambda r: {"v": f"{r.randrange(10000):04d}"},
            "expression",
        ),
        Shape(
            f"SELECT count(*) FROM {F} WHERE {c['code']} LIKE '%{{v}}'",
            False,
            lambda r: {"v": f"{r.randrange(1000):03d}"},
            "leading wildcard",
        ),
        Shape(
            f"SELECT count(*) FROM {F} WHERE {c['flag']} = {{v}}",
            False,
            lambda r: {"v": r.randrange(2)},
            "half the rows",
        ),
        Shape(f"SELECT count(*), avg({c['amount']}) FROM {F}", False, lambda r: {}, "every row"),
        Shape(f"SELECT {c['cat']}, count(*) FROM {F} GROUP BY {c['cat']}", False, lambda r: {}, "every row"),
        Shape(
            f"SELECT count(*) FROM {F} WHERE {c['cat']} <> {{v}}",
            False,
            lambda r: {"v": r.randrange(8)},
            "negation",
        ),
        Shape(
            f"SELECT count(*) FROM {F} WHERE {c['amount']} > {{v}}",
            False,
            lambda r: {"v": r.randrange(50)},
            "most rows",
        ),
        Shape(
            f"SELECT * FROM {S} k JOIN {F} e ON e.{c['fk2']} = k.id WHERE k.{c['name']} = '{{v}}'",
            False,
            lambda r: {"v": f"kind {r.randrange(60)}"},
            "small + indexed",
        ),
        Shape(
            f"SELECT * FROM {D} WHERE id IN ({{a}}, {{b}})",
            False,
            lambda r: {"a": r.randrange(1, dims), "b": r.randrange(1, dims)},
            "primary key",
        ),
        Shape(
            f"SELECT count(*) FROM {D} WHERE {c['email']} LIKE '%{{v}}@mail.test'",
            False,
            lambda r: {"v": r.randrange(100)},
            "leading wildcard",
        ),
        Shape(
            f"SELECT * FROM {S2} f JOIN {S} k ON k.id = f.id WHERE f.{c['name']} = 'flag {{v}}'",
            False,
            lambda r: {"v": r.randrange(10)},
            "small",
        ),
        Shape(
            f"SELECT * FROM {F} WHERE {c['day']} = '{{d}}'"
            if "day" in indexed
            else f"SELECT * FROM {D2} WHERE {c['label']} = 'item {{v}}'",
            False,
            lambda r: {"d": _day(r), "v": r.randrange(dims // 2)},
            "indexed",
        ),
    ]
    w.shapes = needs + fine
    w.loops = {
        f"SELECT {c['name']} FROM {D} WHERE id = ?": 0,
        f"SELECT {c['label']} FROM {D2} WHERE id = ?": 0,
        f"SELECT {c['name']} FROM {S} WHERE id = ?": 0,
    }
    return w


def _day(r: random.Random) -> str:
    return f"202{r.randrange(3)}-{1 + r.randrange(12):02d}-{1 + r.randrange(28):02d}"


def columns(w: World) -> dict[str, list[tuple[str, str]]]:
    n = w.names
    return {
        n["fact"]: [
            ("id", "INTEGER PRIMARY KEY"),
            (n["c_fk"], "INTEGER"),
            (n["c_fk2"], "INTEGER"),
            (n["c_code"], "TEXT"),
            (n["c_cat"], "INTEGER"),
            (n["c_amount"], "DOUBLE PRECISION"),
            (n["c_day"], "TEXT"),
            (n["c_qty"], "INTEGER"),
            (n["c_note"], "TEXT"),
            (n["c_flag"], "INTEGER"),
        ],
        n["dim"]: [
            ("id", "INTEGER PRIMARY KEY"),
            (n["c_name"], "TEXT"),
            (n["c_email"], "TEXT"),
            (n["c_region"], "INTEGER"),
            (n["c_score"], "DOUBLE PRECISION"),
        ],
        n["dim2"]: [("id", "INTEGER PRIMARY KEY"), (n["c_label"], "TEXT"), (n["c_score"], "INTEGER")],
        n["small"]: [("id", "INTEGER PRIMARY KEY"), (n["c_name"], "TEXT")],
        n["small2"]: [("id", "INTEGER PRIMARY KEY"), (n["c_name"], "TEXT"), (n["c_score"], "INTEGER")],
    }


def data(w: World) -> dict[str, list[tuple[Any, ...]]]:
    rnd = random.Random(w.seed * 7919 + 1)
    rows, dims = w.rows, max(w.rows // 10, 1000)
    codes = list(range(rows))
    rnd.shuffle(codes)
    fact = [
        (
            i + 1,
            rnd.randrange(dims),
            rnd.randrange(500),
            f"K{codes[i]:07d}",
            rnd.randrange(8),
            round(rnd.random() * 1000, 3),
            _day(rnd),
            rnd.randrange(rows * 4),
            f"n{rnd.randrange(rows):07d} x",
            rnd.randrange(2),
        )
        for i in range(rows)
    ]
    dim = [
        (i + 1, f"acct {i}", f"u{i}@mail.test", rnd.randrange(40), round(rnd.random() * 100, 4))
        for i in range(dims)
    ]
    dim2 = [(i + 1, f"item {i}", rnd.randrange(10**6)) for i in range(dims // 2)]
    small = [(i + 1, f"kind {i}") for i in range(60)]
    small2 = [(i + 1, f"flag {i % 10}", rnd.randrange(100)) for i in range(200)]
    n = w.names
    return {n["fact"]: fact, n["dim"]: dim, n["dim2"]: dim2, n["small"]: small, n["small2"]: small2}


def index_ddl(w: World) -> list[str]:
    n = w.names
    table_of = {"fk2": n["fact"], "day": n["fact"], "region": n["dim"], "label": n["dim2"]}
    return [f"CREATE INDEX ix_{n['c_' + k]} ON {table_of[k]} ({n['c_' + k]})" for k in sorted(w.indexed)]


def build_sqlite(w: World, path: Path) -> None:
    conn = sqlite3.connect(path)
    for table, cols in columns(w).items():
        conn.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, t in cols)})")
    for table, rows in data(w).items():
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
    for ddl in index_ddl(w):
        conn.execute(ddl)
    conn.commit()
    conn.close()


def build_postgres(w: World, conn: Any) -> None:
    for table, cols in columns(w).items():
        conn.execute(f"CREATE TABLE {table} ({', '.join(f'{c} {t}' for c, t in cols)})")
    for table, rows in data(w).items():
        with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    for ddl in index_ddl(w):
        conn.execute(ddl)
    conn.execute("VACUUM ANALYZE")


PROGRAM = r"""
import json, random, sys
plan = json.load(open(sys.argv[2]))
engine = plan["engine"]
if engine == "sqlite":
    import sqlite3
    db = sqlite3.connect(sys.argv[1]); q = "?"
    def run(sql, args=()):
        return db.execute(sql, args).fetchall()
else:
    import psycopg
    db = psycopg.connect(sys.argv[1], autocommit=True); q = "%s"
    def run(sql, args=None):
        cur = db.execute(sql, args)
        return cur.fetchall() if cur.description else []
for sql in plan["statements"]:
    run(sql)
rnd = random.Random(plan["seed"])
# planted N+1 loops: each a parent query, then one single-row lookup per parent row, twice for the first
for shape, (parent, count, repeats) in plan["loops"].items():
    lookup = shape.replace("?", q)
    for _ in range(repeats):
        ids = [r[0] for r in run(parent)]
        assert len(ids) == count, (parent, len(ids), count)
        for i in ids:
            run(lookup, (i,))
# decoys: a short loop (below the threshold) and a loop of many-row lookups
for i in range(3):
    run(plan["decoy_short"].replace("?", q), (i + 1,))
for i in range(12):
    run(plan["decoy_wide"].replace("?", q), (i,))
"""


def program_plan(w: World, engine: str) -> dict[str, Any]:
    rnd = random.Random(w.seed * 31 + 7)
    statements = []
    for shape in w.shapes:
        for _ in range(1 + rnd.randrange(3)):
            statements.append(shape.template.format(**shape.values(rnd)))
    n = w.names
    dims = max(w.rows // 10, 1000)
    sizes = rnd.sample(range(12, 90), 3)
    loops: dict[str, tuple[str, int, int]] = {}
    parents = [
        f"SELECT {n['c_fk']} + 1 FROM {n['fact']} WHERE {n['c_fk2']} = {{v}} ORDER BY id LIMIT {{k}}",
        f"SELECT id FROM {n['dim2']} ORDER BY id DESC LIMIT {{k}}",
        f"SELECT id FROM {n['small']} WHERE id <= {{k}}",
    ]
    for (lookup, _), parent, size in zip(w.loops.items(), parents, sizes, strict=True):
        repeats = 2 if not loops else 1
        loops[lookup] = (parent.format(v=rnd.randrange(500), k=size), size, repeats)
        w.loops[lookup] = size * repeats
    # the fact parent may return fewer rows than asked: size it by the real count
    del dims
    return {
        "engine": engine,
        "seed": w.seed,
        "statements": statements,
        "loops": loops,
        "decoy_short": f"SELECT {n['c_name']} FROM {n['dim']} WHERE {n['c_region']} = ? LIMIT 1",
        "decoy_wide": f"SELECT * FROM {n['fact']} WHERE {n['c_fk2']} = ?",
    }


def fix_loop_sizes(w: World, plan: dict[str, Any], run_sql: Any) -> None:
    for shape, (parent, _size, repeats) in list(plan["loops"].items()):
        real = len(run_sql(parent))
        plan["loops"][shape] = (parent, real, repeats)
        w.loops[shape] = real * repeats


def shape_of(sql: str) -> str:
    from perfpack.explain.shape import shape

    return shape(sql)


CPU: dict[str, float] = {}


def perfpack(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run `perfpack explain ARGS`; its wall time (and, in CPU["last"], the CPU seconds it and the
    programs it ran used: the figure a loaded machine does not inflate)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run([*PERFPACK, "explain", *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["last"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc, wall


def score(w: World, data_: dict[str, Any]) -> dict[str, Any]:
    by_shape = {s["sql"]: s for s in data_["statements"]}
    tp = fp = fn = 0
    misses, false, speedups, bad_kept = [], [], [], []
    for shape in w.shapes:
        st = None
        for key in {shape_of(shape.template.format(**shape.values(random.Random(1))))}:
            st = by_shape.get(key)
        if st is None:
            misses.append(("not captured", shape.template))
            fn += shape.needs
            continue
        got = st["suggestion"] is not None
        if got and shape.needs:
            tp += 1
        elif got:
            fp += 1
            false.append((shape.why, st["sql"], st["suggestion"]["ddl"]))
        elif shape.needs:
            fn += 1
            misses.append((st["sql"], st["notes"][:1]))
        if got:
            sug = st["suggestion"]
            speedups.append(sug["speedup"])
            scans_after = [ln for ln in sug["plan_after"] if re.match(r"\s*(SCAN \w+$|.*Seq Scan)", ln)]
            if (
                sug["speedup"] is None
                or sug["speedup"] < 2
                or any(t in " ".join(scans_after) for t in sug["tables"])
            ):
                bad_kept.append((st["sql"], sug["speedup"], scans_after))
    found = {(x["sql"]): x["count"] for x in data_["n_plus_one"]}
    loops_ok = all(found.get(s) == n for s, n in w.loops.items())
    extra_loops = [s for s in found if s not in w.loops]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {
        "precision": precision,
        "recall": recall,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "false": false,
        "misses": misses,
        "speedups": sorted(s for s in speedups if s),
        "bad_kept": bad_kept,
        "loops_ok": loops_ok,
        "loops_found": found,
        "loops_planted": dict(w.loops),
        "extra_loops": extra_loops,
    }


def expert_anchor(db: Path, statements: list[str], w: World) -> dict[str, Any]:
    """SQLite's own advisor over the same statements, one at a time: its time and its answers."""
    if shutil.which("sqlite3") is None:
        return {}
    t = time.perf_counter()
    tp = fp = fn = 0
    for shape in w.shapes:
        sql = shape.template.format(**shape.values(random.Random(2)))
        out = subprocess.run(
            ["sqlite3", str(db)], input=f".expert\n{sql};\n", capture_output=True, text=True, timeout=60
        ).stdout
        got = "CREATE INDEX" in out
        tp += got and shape.needs
        fp += got and not shape.needs
        fn += (not got) and shape.needs
    return {
        "seconds": time.perf_counter() - t,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
    }


def bad_inputs_sqlite(db: Path, work: Path) -> list[str]:
    problems = []
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    crash = work / "crash.py"
    crash.write_text(
        "import sqlite3, sys\nsqlite3.connect(sys.argv[1]).execute('SELECT 1')\nraise SystemExit(3)\n"
    )
    cases = {
        "malformed SQL": ["--db", str(db), "--sql", "SELEC * FROM x"],
        "missing database": ["--db", str(work / "missing.db"), "--sql", "SELECT 1"],
        "crashing program": ["--db", str(db), "--capture", "--", sys.executable, str(crash), str(db)],
    }
    for what, args in cases.items():
        proc, _ = perfpack(*args, cwd=work)
        lines = proc.stderr.strip().splitlines()
        if proc.returncode != 2 or len(lines) != 1 or proc.stdout:
            problems.append(f"{what}: exit {proc.returncode}, {len(lines)} stderr line(s)")
    if (work / "missing.db").exists():
        problems.append("missing database was created")
    if hashlib.sha256(db.read_bytes()).hexdigest() != before:
        problems.append("the database file changed")
    return problems


def run_sqlite(w: World, work: Path) -> dict[str, Any]:
    db = work / "bench.db"
    t = time.perf_counter()
    build_sqlite(w, db)
    built = time.perf_counter() - t
    plan = program_plan(w, "sqlite")
    conn = sqlite3.connect(db)
    fix_loop_sizes(w, plan, lambda sql: conn.execute(sql).fetchall())
    conn.close()
    (work / "plan.json").write_text(json.dumps(plan))
    (work / "prog.py").write_text(PROGRAM)
    pristine = work / "pristine.db"
    shutil.copyfile(db, pristine)
    problems = bad_inputs_sqlite(pristine, work)
    proc, seconds = perfpack(
        "--db",
        str(db),
        "--try-indexes",
        "--format",
        "json",
        "--capture",
        "--",
        sys.executable,
        str(work / "prog.py"),
        str(db),
        str(work / "plan.json"),
        cwd=work,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"perfpack explain failed: {proc.stderr.strip()}")
    cpu = CPU["last"]
    result = score(w, json.loads(proc.stdout))
    result.update(
        seconds=seconds,
        cpu=cpu,
        build_s=built,
        problems=problems,
        anchor=expert_anchor(pristine, plan["statements"], w),
    )
    return result


def run_postgres(w: World, work: Path) -> dict[str, Any]:
    from perfpack.explain import pgtemp

    reason = pgtemp.missing_reason()
    if reason:
        return {"skipped": reason}
    import psycopg

    with pgtemp.ScratchCluster(tcp=True, password="bench-pw") as pg:
        with pg.connect() as conn:
            conn.execute("CREATE DATABASE bench")
        with pg.connect("bench") as conn:
            t = time.perf_counter()
            build_postgres(w, conn)
            built = time.perf_counter() - t
            plan = program_plan(w, "postgresql")
            fix_loop_sizes(w, plan, lambda sql: conn.execute(sql).fetchall())
        (work / "plan.json").write_text(json.dumps(plan))
        (work / "prog.py").write_text(PROGRAM)
        url = pg.url("bench")
        problems = bad_inputs_postgres(pg, work)
        proc, seconds = perfpack(
            "--db",
            url,
            "--try-indexes",
            "--format",
            "json",
            "--capture",
            "--",
            sys.executable,
            str(work / "prog.py"),
            url,
            str(work / "plan.json"),
            cwd=work,
        )
        if proc.returncode not in (0, 1):
            raise SystemExit(f"perfpack explain failed: {proc.stderr.strip()}")
        cpu = CPU["last"]
        result = score(w, json.loads(proc.stdout))
        with psycopg.connect(url, autocommit=True) as conn:
            t = time.perf_counter()
            for shape in w.shapes:
                conn.execute("EXPLAIN " + shape.template.format(**shape.values(random.Random(2)))).fetchall()
            anchor = {"seconds": time.perf_counter() - t, "what": "a bare EXPLAIN of each of the 40 shapes"}
        result.update(seconds=seconds, cpu=cpu, build_s=built, problems=problems, anchor=anchor)
        return result


def bad_inputs_postgres(pg: Any, work: Path) -> list[str]:
    def state() -> list[Any]:
        with pg.connect("bench") as conn:
            return conn.execute(
                "SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "UNION ALL SELECT extname, '' FROM pg_extension ORDER BY 1"
            ).fetchall()

    before = state()
    crash = work / "crash.py"
    crash.write_text("raise SystemExit(3)\n")
    cases = {
        "malformed SQL": ["--db", pg.url("bench"), "--sql", "SELEC * FROM x"],
        "missing database": ["--db", pg.url("no_such_db"), "--sql", "SELECT 1"],
        "wrong password": ["--db", pg.url("bench", password="wrong", tcp=True), "--sql", "SELECT 1"],
        "crashing program": ["--db", pg.url("bench"), "--capture", "--", sys.executable, str(crash)],
    }
    problems = []
    for what, args in cases.items():
        proc, _ = perfpack(*args, cwd=work)
        lines = proc.stderr.strip().splitlines()
        if (
            proc.returncode != 2
            or len(lines) != 1
            or proc.stdout
            or "wrong" in proc.stderr.replace("wrong password", "")
        ):
            problems.append(f"{what}: exit {proc.returncode}, {len(lines)} stderr line(s)")
    if state() != before:
        problems.append("the catalog changed")
    return problems


def report(engine: str, seed: int, r: dict[str, Any]) -> bool:
    if "skipped" in r:
        print(f"{engine} seed {seed}: skipped ({r['skipped']})")
        return True
    med = sorted(r["speedups"])[len(r["speedups"]) // 2] if r["speedups"] else 0
    ok = (
        r["precision"] >= 0.95
        and r["recall"] >= 0.95
        and not r["bad_kept"]
        and r["loops_ok"]
        and not r["extra_loops"]
        and r["seconds"] <= 10
        and not r["problems"]
    )
    a = r.get("anchor") or {}
    anchor = ""
    if "precision" in a:
        anchor = (
            f"; anchor sqlite3 .expert: precision {a['precision']:.2f} recall {a['recall']:.2f} in "
            f"{a['seconds']:.2f} s"
        )
    elif a:
        anchor = f"; anchor {a['what']}: {a['seconds']:.2f} s ({r['seconds'] / max(a['seconds'], 1e-9):.0f}x)"
    print(
        f"{engine} seed {seed}: precision {r['precision']:.2f} recall {r['recall']:.2f} "
        f"(tp {r['tp']} fp {r['fp']} fn {r['fn']}); kept {len(r['speedups'])}, min speedup "
        f"{min(r['speedups'], default=0):.1f}x, median {med:.0f}x; N+1 {'ok' if r['loops_ok'] else 'WRONG'} "
        f"{sorted(r['loops_found'].values())} vs planted {sorted(r['loops_planted'].values())}; "
        f"run {r['seconds']:.2f} s wall, {r['cpu']:.2f} s CPU (budget 10 s){anchor}; "
        f"bad inputs {'ok' if not r['problems'] else r['problems']} -> {'PASS' if ok else 'FAIL'}"
    )
    for item in r["false"]:
        print(f"   false positive: {item}")
    for item in r["misses"]:
        print(f"   missed: {item}")
    for item in r["bad_kept"]:
        print(f"   kept but not proven: {item}")
    if r["extra_loops"]:
        print(f"   decoy loops reported: {r['extra_loops']}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seed", type=int, nargs="+", default=None, help="default: two fresh random seeds (unseen data)"
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    print(
        f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
        f"on {os.cpu_count()} cores"
    )
    seeds = args.seed or random.sample(range(1_000_000), 2)
    print(f"seeds {' '.join(map(str, seeds))} (repeat a run with --seed ...)")
    ok = True
    for seed in seeds:
        for engine in ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]:
            w = make_world(seed, args.rows)
            with tempfile.TemporaryDirectory(prefix="perfpack-bench-explain-") as folder:
                runner = run_sqlite if engine == "sqlite" else run_postgres
                ok &= report(engine, seed, runner(w, Path(folder)))
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
