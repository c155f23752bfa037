"""`perfpack load --workers 2`: Locust's master/worker mode with two local workers on 127.0.0.1."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from perfpack.exitcodes import ExitCode

from .conftest import load_json

# find_spec, not importorskip: importing locust would monkey-patch this whole test process with gevent
# (and a later fork-based pool in another test would deadlock)
pytestmark = pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="needs locust")


@pytest.mark.slow
def test_two_local_locust_workers_same_summary_thresholds_and_exit_codes(
    http_server, perfpack, tmp_path: Path
) -> None:
    srv = http_server("--error-rate", "0.1")
    common = (
        srv.url(),
        "--rate",
        "100",
        "--duration",
        "2s",
        "--warmup",
        "0.5s",
        "--workers",
        "2",
        "--project",
        str(tmp_path),
        "-q",
        "--format",
        "json",
    )
    ok = perfpack("load", *common, "--threshold", "error_rate<20%", timeout=180)
    s = load_json(ok)
    assert ok.returncode == ExitCode.OK, ok.stderr
    assert s["generator"]["workers"] == 2
    assert s["requests"] == pytest.approx(200, abs=4)  # 2 workers x 50 req/s x 2 s
    assert s["achieved_rate"] == pytest.approx(100, rel=0.05)
    assert s["errors_by_kind"] == {"status 500": s["errors"]} and 15 <= s["errors"] <= 25

    bad = perfpack("load", *common, "--threshold", "error_rate<1%", timeout=180)
    s = load_json(bad)
    assert bad.returncode == ExitCode.FINDINGS and s["verdict"] == "fail" and s["latency_ms"]["p50"] > 0
