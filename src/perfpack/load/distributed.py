"""Beyond one generator: the same engine on Locust workers, coordinated by Locust's master/worker mode.

Locust (PyPI `locust`) does the distribution: workers register with the master, heartbeats, start and
stop, and the messages between them. Each Locust worker runs one user, and that user runs perfpack's
own open-loop engine in a child process (Locust's users are closed loop, and its gevent process must
keep answering heartbeats), at rate / workers. The engines' counts come back as Locust messages and
are merged here, so the summary, thresholds and exit codes are the same as a one-machine run.

Processes: `perfpack load --workers N` starts a master (`python -m perfpack.load.distributed master`,
which imports locust and so gevent's monkey-patching, kept out of perfpack's own process) and N local
workers on 127.0.0.1; `perfpack load-worker --master HOST:PORT` joins from another machine.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import asdict, fields
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.exitcodes import ExitCode
from perfpack.load.engine import Counts
from perfpack.load.plan import Plan, RequestSpec, Target

WAIT_FOR_WORKERS_S = 120.0  # generous: importing locust takes seconds on a busy machine
_T0 = __import__("time").monotonic()


def _trace(what: str) -> None:
    """PERFPACK_LOAD_TRACE=1: when each phase of a distributed run happened (stderr)."""
    if os.environ.get("PERFPACK_LOAD_TRACE"):
        import time

        sys.stderr.write(f"[{time.monotonic() - _T0:7.2f}s pid {os.getpid()}] {what}\n")


# ------------------------------------------------------------------ plans and counts as JSON
def plan_to_json(plan: Plan) -> dict[str, Any]:
    return {
        "target": [plan.target.scheme, plan.target.host, plan.target.port],
        "requests": [
            [r.name, r.method, r.path, r.weight, base64.b64encode(r.wire).decode()] for r in plan.requests
        ],
        "rate": plan.rate,
        "concurrency": plan.concurrency,
        "duration_s": plan.duration_s,
        "warmup_s": plan.warmup_s,
        "timeout_s": plan.timeout_s,
        "connections": plan.connections,
    }


def plan_from_json(d: dict[str, Any]) -> Plan:
    return Plan(
        target=Target(*d["target"]),
        requests=[RequestSpec(n, m, p, w, base64.b64decode(wire)) for n, m, p, w, wire in d["requests"]],
        rate=d["rate"],
        concurrency=d["concurrency"],
        duration_s=d["duration_s"],
        warmup_s=d["warmup_s"],
        timeout_s=d["timeout_s"],
        connections=d["connections"],
    )


def counts_to_json(c: Counts) -> dict[str, Any]:
    return asdict(c)


def counts_from_json(d: dict[str, Any]) -> Counts:
    known = {f.name for f in fields(Counts)}
    c = Counts(**{k: v for k, v in d.items() if k in known})
    c.latency_us = {int(k): v for k, v in c.latency_us.items()}
    c.lag_us = {int(k): v for k, v in c.lag_us.items()}
    for per in c.by_name.values():
        per["latency_us"] = {int(k): v for k, v in per["latency_us"].items()}
    return c


def merge(parts: list[Counts], *, target_rate: float | None) -> Counts:
    """Counts of several generators as one run: sums, merged histograms, the worst lag."""
    first = parts[0]
    out = Counts(first.mode, target_rate, first.duration_s, workers=len(parts), timer=first.timer)
    out.measured_s = min(p.measured_s for p in parts)
    for p in parts:
        for src, dst in ((p.latency_us, out.latency_us), (p.lag_us, out.lag_us)):
            for k, v in src.items():
                dst[k] = dst.get(k, 0) + v
        for kind, v in p.errors.items():
            out.errors[kind] = out.errors.get(kind, 0) + v
        for name, per in p.by_name.items():
            mine = out.by_name.setdefault(name, {"n": 0, "errors": 0, "latency_us": {}})
            mine["n"] += per["n"]
            mine["errors"] += per["errors"]
            for k, v in per["latency_us"].items():
                mine["latency_us"][k] = mine["latency_us"].get(k, 0) + v
        for key in (
            "requests",
            "sent",
            "scheduled",
            "not_sent",
            "unfinished",
            "waited_for_connection",
            "connections_opened",
            "max_in_flight",
        ):
            setattr(out, key, getattr(out, key) + getattr(p, key))
        out.cpu_s = max(out.cpu_s, p.cpu_s)  # per generator: each has its own core
        rate, error = p.rate_and_error()
        total, total_error = out.merged_rate or [0.0, 0.0]
        out.merged_rate = [total + rate, (total_error**2 + error**2) ** 0.5]
        out.wall_s = max(out.wall_s, p.wall_s)
        out.interrupted = out.interrupted or p.interrupted
    return out


# ------------------------------------------------------------------ perfpack's side (no locust import here)
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_on_locust(
    plan: Plan,
    *,
    workers: int,
    quiet: bool = False,
    expect_workers: int = 0,
    master_bind: str = "127.0.0.1:5557",
) -> Counts:
    """Run `plan` split over `workers` local Locust workers (+ `expect_workers` remote ones)."""
    import importlib.util

    # find_spec, not import: importing locust monkey-patches the whole process with gevent
    if importlib.util.find_spec("locust") is None:
        raise PerfpackError("--workers needs Locust", hint="pip install 'perfpack[distributed]' (or locust)")
    from perfpack.load.engine import preflight

    preflight(plan)
    host, _, port_text = master_bind.rpartition(":")
    if not host or not port_text.isdigit():
        raise PerfpackError(f"--master-bind {master_bind!r}: need HOST:PORT")
    port = int(port_text) if expect_workers else _free_port()
    if not expect_workers:
        host = "127.0.0.1"
    job = {
        "plan": plan_to_json(plan),
        "local_workers": workers,
        "expect_workers": expect_workers,
        "bind": [host, port],
        "quiet": quiet,
    }
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfpack.load.distributed", "master"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    previous = signal.getsignal(signal.SIGINT)

    def forward(signum: int, frame: Any) -> None:
        try:
            proc.send_signal(signal.SIGINT)
        except OSError:
            pass

    try:
        signal.signal(signal.SIGINT, forward)
    except ValueError:
        pass
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
        out = proc.stdout.read()
        proc.wait()
    finally:
        try:
            signal.signal(signal.SIGINT, previous)
        except ValueError:
            pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    try:
        reply = json.loads(out.decode() or "{}")
    except ValueError:
        reply = {}
    if "error" in reply or "counts" not in reply:
        raise PerfpackError(f"the Locust run failed: {reply.get('error', 'no result from the master')}")
    parts = [counts_from_json(c) for c in reply["counts"]]
    return merge(parts, target_rate=plan.rate)


# ------------------------------------------------------------------ the engine child (no locust)
def engine_child() -> int:
    """Read a plan on stdin, run it, write Counts as JSON on stdout. SIGINT stops it early (partial)."""
    from perfpack.load.engine import Engine

    plan = plan_from_json(json.loads(sys.stdin.read()))
    engine = Engine(plan)
    signal.signal(signal.SIGINT, lambda *_: engine.stop())
    signal.signal(signal.SIGTERM, lambda *_: engine.stop())
    counts = engine.run()
    sys.stdout.write(json.dumps(counts_to_json(counts)))
    sys.stdout.flush()
    return ExitCode.OK


# ------------------------------------------------------------ Locust's side (master and worker processes)
def _locust_user_class() -> Any:
    import gevent
    from gevent import subprocess as gsub
    from locust import User, constant, task

    class PerfpackLoadUser(User):
        """One per worker: runs perfpack's engine (in a child process) at this worker's share of the rate."""

        wait_time = constant(0)
        plan: dict[str, Any] | None = None  # set by the master's "perfpack_plan" message
        stop_requested = False

        @task
        def run_engine(self) -> None:
            runner = self.environment.runner
            while PerfpackLoadUser.plan is None:
                gevent.sleep(0.05)
            _trace("worker: engine starting")
            child = gsub.Popen(
                [sys.executable, "-m", "perfpack.load.distributed", "engine"],
                stdin=gsub.PIPE,
                stdout=gsub.PIPE,
            )
            watcher = gevent.spawn(_stop_when_asked, child)
            try:
                out, _ = child.communicate(json.dumps(PerfpackLoadUser.plan).encode())
            finally:
                watcher.kill()
                if child.poll() is None:
                    child.send_signal(signal.SIGINT)
                    out, _ = child.communicate()
            _trace("worker: engine done")
            try:
                counts = json.loads(out.decode())
            except ValueError:
                runner.send_message("perfpack_result", {"error": "the engine process failed"})
            else:
                runner.send_message("perfpack_result", {"counts": counts})
            while True:  # done: wait for the master to end the run
                gevent.sleep(3600)

    def _stop_when_asked(child: Any) -> None:
        while not PerfpackLoadUser.stop_requested:
            gevent.sleep(0.05)
        child.send_signal(signal.SIGINT)

    return PerfpackLoadUser


def master_main() -> int:
    """The Locust master: wait for workers, hand out the plan, start one user per worker, gather counts."""
    job = json.loads(sys.stdin.read())
    import logging

    import gevent
    from locust.env import Environment

    logging.basicConfig(level=logging.ERROR)
    _trace("master: locust imported")
    user_class = _locust_user_class()
    env = Environment(user_classes=[user_class])
    host, port = job["bind"]
    try:
        runner = env.create_master_runner(master_bind_host=host, master_bind_port=port)
    except Exception as exc:
        print(json.dumps({"error": f"cannot listen on {host}:{port}: {exc}"}))
        return ExitCode.OK
    results: list[dict[str, Any]] = []
    runner.register_message("perfpack_result", lambda msg, **kw: results.append(msg.data))
    interrupted = [False]

    def on_sigint(signum: int, frame: Any) -> None:
        interrupted[0] = True
        runner.send_message("perfpack_stop", {})

    gevent.signal_handler(signal.SIGINT, on_sigint, signal.SIGINT, None)
    local = [
        subprocess.Popen(
            [sys.executable, "-m", "perfpack.load.distributed", "worker", f"127.0.0.1:{port}"],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(job["local_workers"])
    ]
    want = job["local_workers"] + job["expect_workers"]
    try:
        waited = 0.0
        while runner.worker_count < want and waited < WAIT_FOR_WORKERS_S and not interrupted[0]:
            gevent.sleep(0.1)
            waited += 0.1
        if runner.worker_count < want:
            print(
                json.dumps(
                    {
                        "error": f"{runner.worker_count} of {want} Locust workers connected "
                        f"in {WAIT_FOR_WORKERS_S:g} s"
                    }
                )
            )
            return ExitCode.OK
        n = runner.worker_count
        _trace(f"master: {n} workers connected")
        share = plan_from_json(job["plan"])
        if share.rate:
            share.rate = share.rate / n
        if share.concurrency:
            share.concurrency = max(1, share.concurrency // n)
        share.connections = max(1, share.connections // n)
        runner.send_message("perfpack_plan", plan_to_json(share))
        gevent.sleep(0.2)
        runner.start(user_count=n, spawn_rate=n)
        _trace("master: users started")
        limit = share.warmup_s + share.duration_s + share.timeout_s + 30
        waited = 0.0
        while len(results) < n and waited < limit:
            gevent.sleep(0.1)
            waited += 0.1
        _trace(f"master: {len(results)} results")
        errors = [r["error"] for r in results if "error" in r]
        if errors or len(results) < n:
            print(json.dumps({"error": errors[0] if errors else f"{len(results)} of {n} workers reported"}))
            return ExitCode.OK
        print(json.dumps({"counts": [r["counts"] for r in results]}))
        return ExitCode.OK
    finally:
        with contextlib.suppress(Exception):  # best effort while shutting down
            runner.quit()
        _trace("master: quit sent")
        for p in local:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def worker_main(master: str) -> int:
    """A Locust worker: connect to the master, take the plan, run it when told."""
    import logging

    import gevent
    from locust.env import Environment

    logging.basicConfig(level=logging.ERROR)
    host, _, port = master.rpartition(":")
    user_class = _locust_user_class()
    env = Environment(user_classes=[user_class])
    runner = env.create_worker_runner(host, int(port))
    _trace("worker: connected")

    def on_plan(msg: Any, **kw: Any) -> None:
        user_class.plan = msg.data

    def on_stop(msg: Any, **kw: Any) -> None:
        user_class.stop_requested = True

    runner.register_message("perfpack_plan", on_plan)
    runner.register_message("perfpack_stop", on_stop)
    gevent.signal_handler(signal.SIGINT, lambda *a: None)  # the master decides when to stop
    runner.greenlet.join()
    _trace("worker: done")
    return ExitCode.OK


def main(argv: list[str]) -> int:
    if argv[:1] == ["engine"]:
        return engine_child()
    if argv[:1] == ["master"]:
        return master_main()
    if argv[:1] == ["worker"] and len(argv) == 2:
        return worker_main(argv[1])
    sys.stderr.write("usage: python -m perfpack.load.distributed engine|master|worker HOST:PORT\n")
    return ExitCode.USAGE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
