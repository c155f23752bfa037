"""`--capture -- CMD`: run a program and record every statement it sends, counted per shape.

Python programs are recorded from the inside (boot/sitecustomize.py on their PYTHONPATH wraps sqlite3 and
psycopg): each statement's shape, time, rows and the program's line that sent it, in order, per thread.
A program perfpack cannot see from the inside (not Python, or run with -I/-E) is recorded by a PostgreSQL
server through pg_stat_statements when the database has it: counts and times per shape, no order.

Repeated single-row SELECTs of one shape from one line, inside one loop (no statement of the shape that
started the loop in between), are N+1 candidates.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.explain.model import NPlusOne, Statement
from perfpack.explain.shape import first_word
from perfpack.terminal import one_line

BOOT_DIR = Path(__file__).resolve().parent / "boot"
SHAPE_FILE = Path(__file__).resolve().parent / "shape.py"
MAX_GAP = 50  # other statements allowed between two runs of one loop's statement
MAX_IDLE_NS = 2_000_000_000  # a pause this long ends a loop
SINGLE_ROW_SHARE = 0.9  # share of executions that must return at most one row


@dataclass
class Event:
    shape: str
    start: int
    dur: int
    rows: int | None
    stream: tuple[int, int]
    db: dict[str, Any]
    site: str | None
    example: str = ""
    count: int = 1  # more than one for the per-shape totals a process kept past its event limit


@dataclass
class Captured:
    statements: list[Statement]
    n_plus_one: list[NPlusOne]
    info: dict[str, Any] = field(default_factory=dict)


def run_program(
    argv: list[str], *, env_extra: dict[str, str], timeout: float, log_path: Path | None, show_output: bool
) -> tuple[int, str]:
    """Run the program (no shell), bounded by `timeout`; returns (exit status, last line of its stderr).
    Its output goes to `log_path` (the terminal with `show_output`; our stdout stays the report)."""
    exe = shutil.which(argv[0]) if os.sep not in argv[0] else argv[0]
    if not exe or not os.path.isfile(exe) or not os.access(exe, os.X_OK):
        raise PerfpackError(f"program not found or not executable: {one_line(argv[0], limit=200)}")
    env = {**os.environ, **env_extra}
    handle = None
    try:
        if show_output:
            out: Any = sys.stderr.fileno()
            err: Any = sys.stderr.fileno()
        else:
            if log_path is not None:
                log_path.parent.mkdir(parents=True, exist_ok=True)
                handle = open(log_path, "w+b")  # noqa: SIM115 - closed in the finally below
            else:
                handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
            out = err = handle
        try:
            proc = subprocess.Popen(
                [exe, *argv[1:]],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise PerfpackError(f"cannot run {one_line(argv[0], limit=200)}: {exc.strerror}") from None
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise PerfpackError(
                f"the program did not finish within {timeout:g} s and was stopped",
                hint="raise --timeout, or capture a shorter scenario",
            ) from None
        except KeyboardInterrupt:
            _kill_group(proc)
            raise
        last = ""
        if handle is not None:
            handle.flush()
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 4096))
            tail = handle.read().decode("utf-8", "replace").strip().splitlines()
            last = tail[-1] if tail else ""
        return code, last
    finally:
        if handle is not None:
            handle.close()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def describe_exit(code: int, last: str) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        what = f"was killed by {name}"
    else:
        what = f"exited with status {code}"
    return f"the program {what}" + (f": {one_line(last, limit=200)}" if last else "")


def python_capture(
    argv: list[str],
    *,
    timeout: float,
    log_path: Path | None,
    show_output: bool,
    pg_options: str | None = None,
) -> tuple[list[Event], int, str]:
    folder = tempfile.mkdtemp(prefix="perfpack-capture-")
    try:
        paths = [str(BOOT_DIR)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        env = {
            "PYTHONPATH": os.pathsep.join(paths),
            "PERFPACK_EXPLAIN_CAPTURE": folder,
            "PERFPACK_EXPLAIN_SHAPE": str(SHAPE_FILE),
        }
        if pg_options:
            env["PGOPTIONS"] = (os.environ.get("PGOPTIONS", "") + " " + pg_options).strip()
        code, last = run_program(
            argv, env_extra=env, timeout=timeout, log_path=log_path, show_output=show_output
        )
        return read_events(folder), code, last
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_events(folder: str) -> list[Event]:
    """The events every process of the program wrote (one file per process)."""
    events: list[Event] = []
    for name in sorted(os.listdir(folder)):
        if name.startswith("events-") and name.endswith(".log"):
            pid = int(name[7:-4]) if name[7:-4].isdigit() else 0
            events += _read_file(os.path.join(folder, name), pid)
    return events


def _read_file(path: str, pid: int) -> list[Event]:
    shapes: dict[str, tuple[str, str]] = {}
    sites: dict[str, str] = {}
    dbs: dict[str, dict[str, Any]] = {}
    out: list[Event] = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            try:
                tag = parts[0]
                if tag == "S":
                    shapes[parts[1]] = (json.loads(parts[2]), json.loads(parts[3]))
                elif tag == "L":
                    sites[parts[1]] = json.loads(parts[2])
                elif tag == "D":
                    dbs[parts[1]] = json.loads(parts[2])
                elif tag == "E" and parts[1] in shapes:
                    sid, start, dur, rows, thread, db, site = parts[1:8]
                    text, example = shapes[sid]
                    out.append(
                        Event(
                            shape=text,
                            example=example,
                            start=int(start),
                            dur=int(dur),
                            rows=None if rows == "-1" else int(rows),
                            stream=(pid, int(thread)),
                            db=dbs.get(db, {}),
                            site=sites.get(site),
                        )
                    )
                elif tag == "O" and parts[1] in shapes:
                    text, example = shapes[parts[1]]
                    only = next(iter(dbs.values()), {}) if len(dbs) == 1 else {}
                    out.append(
                        Event(
                            shape=text,
                            example=example,
                            start=-1,
                            dur=int(parts[3]),
                            rows=None,
                            stream=(pid, 0),
                            db=only,
                            site=None,
                            count=int(parts[2]),
                        )
                    )
            except (ValueError, IndexError, json.JSONDecodeError):
                continue  # a line cut short by a killed process
    return out


def for_target(events: list[Event], engine: str, target: str) -> tuple[list[Event], int]:
    """The events sent to the target database; and how many went elsewhere."""
    if engine == "sqlite":
        real = os.path.realpath(target)
        keep = [e for e in events if e.db.get("engine") == "sqlite" and e.db.get("path") == real]
    else:
        from urllib.parse import unquote, urlsplit

        dbname = unquote(urlsplit(target).path.lstrip("/")) or None
        keep = [
            e
            for e in events
            if e.db.get("engine") == "postgresql" and (dbname is None or e.db.get("dbname") in (None, dbname))
        ]
    return keep, len(events) - len(keep)


def aggregate(events: list[Event]) -> list[Statement]:
    """One Statement per shape: count, total time, rows, the sites that sent it; busiest first."""
    by_shape: dict[str, Statement] = {}
    sites: dict[str, dict[str, int]] = {}
    for ev in events:
        st = by_shape.get(ev.shape)
        if st is None:
            st = by_shape[ev.shape] = Statement(sql=ev.shape, example=ev.example, count=0, total_ms=0.0)
            sites[ev.shape] = {}
        st.count += ev.count
        st.total_ms = (st.total_ms or 0.0) + ev.dur / 1e6
        if ev.rows is not None:
            st.rows = (st.rows or 0) + ev.rows
        if ev.site:
            sites[ev.shape][ev.site] = sites[ev.shape].get(ev.site, 0) + 1
    for shape, st in by_shape.items():
        st.sites = [s for s, _ in sorted(sites[shape].items(), key=lambda kv: -kv[1])[:3]]
    return sorted(by_shape.values(), key=lambda s: -(s.total_ms or 0))


def n_plus_one(events: list[Event], minimum: int) -> list[NPlusOne]:
    """Loops of single-row SELECTs: per thread, runs of one (shape, line) with at most MAX_GAP other
    statements between two runs, ended by the statement that preceded the loop coming round again
    (the next request, the next outer iteration) or by a pause."""
    streams: dict[tuple[int, int], list[Event]] = {}
    for ev in events:
        if ev.start >= 0:
            streams.setdefault(ev.stream, []).append(ev)
    found: dict[tuple[str, str | None], list[int]] = {}
    selects = {e.shape for e in events if first_word(e.shape) in ("SELECT", "WITH")}

    def finish(key: tuple[str, str | None], burst: dict[str, Any]) -> None:
        if burst["n"] >= minimum and burst["single"] >= SINGLE_ROW_SHARE * burst["n"]:
            found.setdefault(key, []).append(burst["n"])

    for stream in streams.values():
        stream.sort(key=lambda e: e.start)
        active: dict[tuple[str, str | None], dict[str, Any]] = {}
        previous: tuple[str, str | None] | None = None
        for i, ev in enumerate(stream):
            key = (ev.shape, ev.site)
            # this statement coming round again ends the loops it started
            for other, running in list(active.items()):
                if other != key and (
                    running["parent"] == key
                    or i - running["last"] - 1 > MAX_GAP
                    or ev.start - running["end"] > MAX_IDLE_NS
                ):
                    finish(other, running)
                    del active[other]
            if ev.shape in selects:
                burst = active.get(key)
                single = ev.rows is None or ev.rows <= 1  # None: a server log, which has no row counts
                if burst is not None and ev.start - burst["end"] <= MAX_IDLE_NS:
                    burst["n"] += 1
                    burst["single"] += single
                    burst["last"] = i
                    burst["end"] = ev.start + ev.dur
                else:
                    if burst is not None:
                        finish(key, burst)
                    active[key] = {
                        "n": 1,
                        "single": int(single),
                        "last": i,
                        "end": ev.start + ev.dur,
                        "parent": previous if previous != key else None,
                    }
            if previous != key:
                previous = key
        for key, burst in active.items():
            finish(key, burst)
    out = [
        NPlusOne(sql=shape, count=sum(runs), loops=len(runs), site=site, sizes=runs)
        for (shape, site), runs in found.items()
    ]
    return sorted(out, key=lambda n: -n.count)


# -- PostgreSQL from the server's side ------------------------------------------------------------
def pgss_delta(
    before: dict[Any, tuple[str, int, float, int]], after: dict[Any, tuple[str, int, float, int]]
) -> list[Statement]:
    """Counts, times and rows per shape between two pg_stat_statements snapshots (the whole database's:
    other sessions' statements in that window count too). Its texts have $1 for literals."""
    from perfpack.explain.shape import shape

    merged: dict[str, Statement] = {}
    for key, (query, calls, total, rows) in after.items():
        c0, t0, r0 = before.get(key, ("", 0, 0.0, 0))[1:]
        if calls - c0 <= 0 or "pg_stat_statements" in query or first_word(query) not in _PGSS_KINDS:
            continue
        text = shape(query)
        st = merged.get(text)
        if st is None:
            st = merged[text] = Statement(sql=text, example=query, count=0, total_ms=0.0, rows=0)
        st.count += calls - c0
        st.total_ms = (st.total_ms or 0.0) + total - t0
        st.rows = (st.rows or 0) + rows - r0
    return sorted(merged.values(), key=lambda s: -(s.total_ms or 0))


_PGSS_KINDS = frozenset({"SELECT", "WITH", "UPDATE", "DELETE", "INSERT"})


def has_pg_stat_statements(target: Any) -> bool:
    """Installed in the database, loaded by the server (shared_preload_libraries) and readable."""
    if not target._query("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"):
        return False
    return bool(target._query("SELECT 1 FROM (SELECT count(*) FROM pg_stat_statements) AS s"))


def _pgss(target: Any) -> dict[Any, tuple[str, int, float, int]]:
    rows = target.conn.execute(
        "SELECT queryid, query, calls, total_exec_time, rows FROM pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND userid = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
    ).fetchall()
    return {r[0]: (r[1], int(r[2]), float(r[3]), int(r[4])) for r in rows}


def pgss_n_plus_one(statements: list[Statement], minimum: int) -> list[NPlusOne]:
    """Without the order of statements: SELECT shapes run many times that return at most a row each."""
    out = []
    for st in statements:
        if (
            first_word(st.sql) in ("SELECT", "WITH")
            and st.count >= minimum
            and st.rows is not None
            and st.rows <= st.count
        ):
            out.append(NPlusOne(sql=st.sql, count=st.count, loops=0, site=None))
    return sorted(out, key=lambda n: -n.count)


# -- PostgreSQL's own log ---------------------------------------------------------------------------
_LOG_DURATION = re.compile(
    r"^(?P<prefix>.*?)LOG:\s+duration: (?P<ms>[0-9.]+) ms\s+(?P<kind>statement|execute [^:]*): (?P<sql>.*)$")
_LOG_DETAIL = re.compile(r"^.*?DETAIL:\s+parameters: (?P<params>.*)$")
_LOG_PID = re.compile(r"\[(\d+)\]")
_LOG_TIME = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)")
_LOG_PARAM = re.compile(r"\$(\d+) = ((?:'(?:[^']|'')*')|NULL)")
MAX_LOG_BYTES = 256 * 1024 * 1024


def pg_log_position(target: Any) -> tuple[str, int] | None:
    """(log file, its size now) when the server logs every statement with its duration
    (log_min_duration_statement = 0), writes a log file, and this session may read it."""
    rows = target._query("SELECT current_setting('log_min_duration_statement'), pg_current_logfile()")
    if not rows or rows[0][0] != "0" or not rows[0][1]:
        return None
    size = target._query("SELECT size FROM pg_stat_file(%s)", (rows[0][1],))
    if not size:
        return None  # not allowed to read server files
    return rows[0][1], int(size[0][0])


def pg_log_read(target: Any, position: tuple[str, int]) -> str:
    path, offset = position
    chunks = []
    total = 0
    while total < MAX_LOG_BYTES:
        rows = target._query("SELECT pg_read_binary_file(%s, %s, %s)", (path, offset + total, 1 << 22))
        if not rows or not rows[0][0]:
            break
        data = bytes(rows[0][0])
        chunks.append(data)
        total += len(data)
        if len(data) < 1 << 22:
            break
    return b"".join(chunks).decode("utf-8", "replace")


def parse_pg_log(text: str, dbname: str | None) -> list[Event]:
    """Statements from the server's log lines `LOG:  duration: 1.2 ms  statement: ...` (simple protocol)
    and `... execute <name>: ...` with their `DETAIL:  parameters: $1 = '5'` (extended protocol).
    The session is the log line's [pid] when log_line_prefix has %p. Rows are not in the log."""
    from perfpack.explain.shape import shape

    events: list[Event] = []
    current: dict[str, Any] | None = None

    def finish() -> None:
        if current is None:
            return
        sql = "\n".join(current["sql"]).strip()
        example = sql
        for n, value in sorted(current["params"].items(), key=lambda kv: -int(kv[0])):
            example = example.replace(f"${n}", value)
        events.append(Event(shape=shape(sql), example=example, start=current["start"],
                            dur=int(float(current["ms"]) * 1e6), rows=None, stream=(current["pid"], 0),
                            db={"engine": "postgresql", "dbname": dbname}, site=None))

    for index, line in enumerate(text.splitlines()):
        match = _LOG_DURATION.match(line)
        if match:
            finish()
            prefix = match.group("prefix")
            pid = _LOG_PID.search(prefix)
            stamp = _LOG_TIME.search(prefix)
            start = index * 1000
            if stamp:
                import datetime

                try:
                    start = int(datetime.datetime.fromisoformat(stamp.group(1)).timestamp() * 1e9)
                except ValueError:
                    pass
            current = {"ms": match.group("ms"), "sql": [match.group("sql")], "params": {},
                       "pid": int(pid.group(1)) if pid else 0, "start": start}
            continue
        if current is None:
            continue
        if line.startswith("\t"):
            current["sql"].append(line[1:])
            continue
        detail = _LOG_DETAIL.match(line)
        if detail:
            current["params"] = {n: v for n, v in _LOG_PARAM.findall(detail.group("params"))}
            continue
        finish()
        current = None
    finish()
    return [e for e in events if first_word(e.shape) in _PGSS_KINDS]
