"""Benchmark of `perfpack load` against its goals (issue 20), every server on 127.0.0.1, every run bounded.

1. Stall truth: a server (tests/load/server.py, its own process) stalls 200 ms once a second and logs each
   real stall; perfpack's engine (its own process) drives it at 500 req/s for 30 s. The true latency of
   every scheduled request is computed from the server's stall log and the generator's schedule
   (base + time left in the stall it fell into); goal: reported p99 within +-10 % of the true p99,
   achieved rate within 2 % of the target, the generator at most one core. wrk (closed loop) on the
   same server shows what coordinated omission hides.
2. Throughput: a trivial endpoint (nginx on 127.0.0.1 when installed, else the Python test server):
   2,000 req/s with timing checked, then rates doubled until the generator says it cannot keep them;
   its limit as a ratio to `wrk -t1` (one core too) measured in the same run.
3. Behaviour: an unreachable URL, a bad threshold, a scenario file with errors, Ctrl-C mid-run.

    .venv/bin/python benchmarks/load.py [--quick]      (about 3 minutes; --quick: about 1)

Needs `wrk` (Debian package wrk) for the ratios and, for a fast trivial endpoint, nginx (nginx-light).
Exit 1 when a goal is not met.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perfpack.exitcodes import ExitCode
from perfpack.load.distributed import counts_from_json, plan_to_json
from perfpack.load.plan import Plan, single_request_plan
from perfpack.load.result import summarize

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "load" / "server.py"
PERFPACK = [sys.executable, "-m", "perfpack"]


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Proc:
    """A server in its own process, stopped on exit."""

    def __init__(self, argv: list[str], port: int | None = None) -> None:
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if port is None:
            assert self.p.stdout is not None
            port = int(self.p.stdout.readline())
        self.port = port
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)

    def stop(self) -> None:
        self.p.terminate()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def engine_run(
    url: str, rate: float, duration: float, warmup: float, timeout: float = 10.0
) -> tuple[dict, dict]:
    """perfpack's engine in its own process (the one `perfpack load` and the Locust workers run):
    (summary, raw counts with the schedule), plus the child's own CPU use."""
    target, reqs = single_request_plan(url)
    plan = Plan(target, reqs, rate=rate, duration_s=duration, warmup_s=warmup, timeout_s=timeout)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "perfpack.load.distributed", "engine"],
        check=True,
        input=json.dumps(plan_to_json(plan)).encode(),
        capture_output=True,
        timeout=warmup + duration + timeout + 60,
    ).stdout
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    raw = json.loads(out)
    counts = counts_from_json(raw)
    summary = summarize(counts, [])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    raw["process_cores"] = cpu / wall  # the whole process, start-up and drain included
    return summary, raw


def true_latencies_ms(raw: dict, stalls: list[dict], base_ms: float) -> list[float]:
    """The truth: each request due in the window waits for the stall it falls into (from the server's log)."""
    t0, interval = raw["schedule_start_ns"], raw["interval_ns"]
    w0, w1 = raw["window_start_ns"], raw["window_end_ns"]
    windows = sorted((s["start_ns"], s["end_ns"]) for s in stalls)
    out, i, k = [], 0, 0
    while True:
        due = t0 + int(k * interval)
        k += 1
        if due >= w1:
            break
        if due < w0:
            continue
        while i < len(windows) and windows[i][1] <= due:
            i += 1
        wait = (windows[i][1] - due) / 1e6 if i < len(windows) and windows[i][0] <= due else 0.0
        out.append(wait + base_ms)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


def wrk(url: str, seconds: int, connections: int, latency: bool = False) -> dict:
    exe = shutil.which("wrk")
    if not exe:
        return {}
    args = [exe, "-t1", f"-c{connections}", f"-d{seconds}s", url] + (["--latency"] if latency else [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res: dict = {"rps": float(rps.group(1)) if rps else 0.0}
    for q in ("50", "90", "99"):
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\b", out, re.M)
        if m:
            res[f"p{q}_ms"] = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    return res


def stall_goal(duration: float) -> bool:
    print(f"\n== 1. 200 ms stall once a second, 500 req/s for {duration:g} s (load average {loadavg()})")
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "stalls.jsonl"
        srv = Proc(
            [
                sys.executable,
                str(SERVER),
                "--stall-every",
                "1",
                "--stall",
                "0.2",
                "--stall-log",
                str(log),
                "--max-seconds",
                str(duration + 120),
            ]
        )
        try:
            s, raw = engine_run(f"http://127.0.0.1:{srv.port}/", 500, duration, 5)
            closed = wrk(f"http://127.0.0.1:{srv.port}/", int(min(duration, 10)), 10, latency=True)
        finally:
            srv.stop()
        stalls = [json.loads(line) for line in log.read_text().splitlines()]
    truth = true_latencies_ms(raw, stalls, base_ms=s["latency_ms"]["p50"])
    lat = s["latency_ms"]
    true_p99, true_p90 = percentile(truth, 99), percentile(truth, 90)
    err = lat["p99"] / true_p99 - 1
    rate_err = s["achieved_rate"] / 500 - 1
    cores = raw["cpu_s"] / raw["wall_s"] if raw["wall_s"] else 0.0
    print(
        f"stalls logged by the server: {len(stalls)}, mean "
        f"{sum(x['end_ns'] - x['start_ns'] for x in stalls) / max(1, len(stalls)) / 1e6:.1f} ms"
    )
    print(f"p99 reported {lat['p99']:.1f} ms, true {true_p99:.1f} ms: {100 * err:+.1f} %   (goal +-10 %)")
    print(f"p90 reported {lat['p90']:.1f} ms, true {true_p90:.1f} ms; p50 {lat['p50']:.2f} ms")
    print(f"achieved {s['achieved_rate']:.1f} req/s of 500: {100 * rate_err:+.2f} %   (goal within 2 %)")
    print(
        f"generator: {100 * cores:.0f} % of one core in the window, "
        f"{100 * raw['process_cores']:.0f} % over its "
        f"whole process; lag p99 {s['generator']['lag_ms']['p99']:.2f} ms; verdict {s['verdict']}"
    )
    if closed:
        print(f"wrk (closed loop, 10 connections, {closed['rps']:,.0f} req/s) on the same server: p50 "
              f"{closed.get('p50_ms', 0):.2f} ms, p90 {closed.get('p90_ms', 0):.2f} ms, p99 "
              f"{closed.get('p99_ms', 0):.1f} ms (true p90 at 500 req/s: {true_p90:.1f} ms; a stall "
              "delays only the 10 requests in flight)")
    ok = abs(err) <= 0.10 and abs(rate_err) <= 0.02 and raw["process_cores"] <= 1.0
    print("goal:", "MET" if ok else "NOT MET")
    return ok


def trivial_endpoint(tmp: str) -> tuple[Proc, str]:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(f"""daemon off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 1000000; client_body_temp_path {tmp}; proxy_temp_path {tmp};
  fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\\n"; }} }} }}
""")
        return Proc([nginx, "-c", str(conf), "-p", tmp], port=port), "nginx (1 worker)"
    return Proc([sys.executable, str(SERVER), "--max-seconds", "600"]), "the Python test server"


def throughput_goal(duration: float) -> bool:
    print(f"\n== 2. trivial endpoint (load average {loadavg()})")
    with tempfile.TemporaryDirectory() as tmp:
        srv, what = trivial_endpoint(tmp)
        url = f"http://127.0.0.1:{srv.port}/"
        try:
            print(f"endpoint: {what}")
            s, raw = engine_run(url, 2000, duration, 2)
            cores = raw["cpu_s"] / raw["wall_s"] if raw["wall_s"] else 0.0
            g = s["generator"]
            print(
                f"2,000 req/s: achieved {s['achieved_rate']:.1f}, p50 {s['latency_ms']['p50']:.3f} ms, p99 "
                f"{s['latency_ms']['p99']:.3f} ms, lag p99 {g['lag_ms']['p99']:.3f} ms, "
                f"{100 * cores:.0f} % of a core, "
                f"verdict {s['verdict']} (kept rate {g['kept_rate']}, timing ok {g['timing_ok']})"
            )
            ok2000 = (
                g["kept_rate"]
                and g["timing_ok"]
                and abs(s["achieved_rate"] / 2000 - 1) <= 0.02
                and cores <= 1.0
            )
            limit, rate, last = 2000.0 if g["kept_rate"] and g["timing_ok"] else 0.0, 4000.0, ""
            while rate <= 64_000:
                s, raw = engine_run(url, rate, max(3.0, duration / 3), 1, timeout=5)
                cores = raw["cpu_s"] / raw["wall_s"] if raw["wall_s"] else 0.0
                kept = s["generator"]["kept_rate"] and s["generator"]["timing_ok"]
                print(
                    f"{rate:>8,.0f} req/s: achieved {s['achieved_rate']:>9,.1f}, "
                    f"{100 * cores:.0f} % of a core, "
                    f"lag p99 {s['generator']['lag_ms']['p99']:.2f} ms -> {s['verdict']}"
                    + (f" ({s['generator'].get('why', '')})" if not kept else "")
                )
                if not kept:
                    last = (
                        f"at {rate:,.0f} req/s it said it could not keep the rate or its timing "
                        f"(achieved {s['achieved_rate']:,.0f})"
                    )
                    break
                limit = rate
                rate *= 2
            w = wrk(url, int(max(5, duration / 2)), 50)
            w10 = wrk(url, int(max(5, duration / 2)), 10)
        finally:
            srv.stop()
    print(f"generator limit: kept {limit:,.0f} req/s; {last}")
    if w:
        print(f"wrk -t1 -c50 on the same endpoint: {w['rps']:,.0f} req/s; -c10: {w10['rps']:,.0f} req/s")
        print(
            "ratio, perfpack's highest kept open-loop rate / wrk -c50 closed-loop maximum: "
            f"{limit / w['rps']:.2f}"
        )
    else:
        print("wrk not installed (apt-get install wrk): no ratio")
    print("goal (>= 2,000 req/s on one core with timing kept):", "MET" if ok2000 else "NOT MET")
    return ok2000


def behaviour_goal() -> bool:
    print(f"\n== 3. behaviour (load average {loadavg()})")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        srv = Proc([sys.executable, str(SERVER), "--max-seconds", "120"])
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            dead = sock.getsockname()[1]
        bad_scenario = Path(tmp) / "bad.toml"
        bad_scenario.write_text('url = "http://127.0.0.1/"\n[[request]]\npath = "/"\nweight = 0\n')
        cases = [
            ("unreachable URL", [f"http://127.0.0.1:{dead}/"], ExitCode.USAGE),
            ("bad threshold", [f"http://127.0.0.1:{srv.port}/", "--threshold", "p95<<1"], ExitCode.USAGE),
            ("scenario with errors", ["--scenario", str(bad_scenario)], ExitCode.USAGE),
        ]
        for label, args, want in cases:
            r = subprocess.run(
                [*PERFPACK, "load", *args, "--project", tmp], capture_output=True, text=True, timeout=60
            )
            good = r.returncode == want and "Traceback" not in r.stderr and len(r.stderr.splitlines()) <= 2
            ok &= good
            print(
                f"{label}: exit {r.returncode}, {r.stderr.splitlines()[0] if r.stderr else ''}  "
                f"{'ok' if good else 'UNEXPECTED'}"
            )
        p = subprocess.Popen(
            [
                *PERFPACK,
                "load",
                f"http://127.0.0.1:{srv.port}/",
                "--rate",
                "200",
                "--duration",
                "60s",
                "--warmup",
                "0",
                "--project",
                tmp,
                "-q",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        srv.stop()
        good = (
            p.returncode == ExitCode.INTERRUPTED
            and "latency    p50" in out
            and "INTERRUPTED" in out
            and "Traceback" not in err
        )
        ok &= good
        print(
            f"Ctrl-C after 3 s: exit {p.returncode}, prints its figures: {'latency    p50' in out}  "
            f"{'ok' if good else 'UNEXPECTED'}"
        )
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="shorter runs (10 s instead of 30 s)")
    args = ap.parse_args()
    duration = 10.0 if args.quick else 30.0
    print(f"perfpack load benchmark; {os.cpu_count()} cores; load average {loadavg()}")
    results = {
        "stall": stall_goal(duration),
        "throughput": throughput_goal(duration),
        "behaviour": behaviour_goal(),
    }
    print(f"\nload average at the end: {loadavg()}")
    print("summary:", ", ".join(f"{k} {'MET' if v else 'NOT MET'}" for k, v in results.items()))
    return ExitCode.OK if all(results.values()) else ExitCode.FINDINGS


if __name__ == "__main__":
    sys.exit(main())
