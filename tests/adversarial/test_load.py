"""Hostile input to `perfpack load`: one clear line and the documented exit code, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from perfpack.exitcodes import ExitCode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from load.conftest import Server  # the real HTTP server the load tests use

from tests.hostile import make_hostile


@pytest.fixture(scope="module")
def srv():
    s = Server()
    yield s
    s.stop()


def usage_error(r, says: str) -> None:
    assert r.returncode == ExitCode.USAGE, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == ""
    first = r.stderr.splitlines()[0]
    assert first.startswith(("perfpack: error:", "Error:", "Usage:")) and says in r.stderr, r.stderr
    assert "\x1b" not in r.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--threshold", "p95<<3"], "bad threshold"),
        (["--threshold", "p95<3\x1b[2J"], "bad threshold"),
        (["--threshold", "x" * 10_000], "bad threshold"),
        (["--rate", "nan"], "--rate"),
        (["--rate", "inf"], "--rate"),
        (["--rate", "-5"], "--rate"),
        (["--rate", "0"], "--rate"),
        (["--rate", "5", "--concurrency", "2"], "exclusive"),
        (["--concurrency", "0"], "--concurrency"),
        (["--connections", "1000000000"], "--connections"),
        (["--duration", "1e999s"], "--duration"),
        (["--duration", "-1s"], "--duration"),
        (["--warmup", "soon"], "--warmup"),
        (["--header", "X: a\r\nInjected: 1"], "line break"),
        (["--header", "Host: evil"], "set by perfpack load"),
        (["--method", "GET /admin HTTP/1.1\r\n"], "method"),
        (["--save"], "--save needs --name"),
        (["--name", "../../etc/passwd"], "invalid baseline name"),
        (["--body", "@/nonexistent/body"], "no such file"),
        (["--body", "@/"], "body"),
    ],
)
def test_bad_options(perfpack, tmp_path: Path, srv, args: list[str], says: str) -> None:
    r = perfpack("load", srv.url(), "--duration", "1s", "--project", str(tmp_path), *args)
    usage_error(r, says)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/\x1b[31m",
        "http://\x01/",
        "gopher://127.0.0.1/",
        "http://[::1/",
        "http://exa mple/",
        "https://127.0.0.1/",
    ],
)
def test_bad_urls(perfpack, tmp_path: Path, url: str) -> None:
    usage_error(perfpack("load", url, "--project", str(tmp_path)), "URL" if "https" not in url else "https")


def test_unresolvable_host(perfpack, tmp_path: Path) -> None:
    usage_error(
        perfpack("load", "http://no-such-host.invalid/", "--project", str(tmp_path)), "cannot resolve"
    )


def test_body_from_a_fifo_does_not_block(perfpack, tmp_path: Path, srv) -> None:
    fifo = make_hostile(tmp_path / "fifo", "fifo")
    r = perfpack("load", srv.url(), "--body", f"@{fifo}", "--project", str(tmp_path), timeout=30)
    usage_error(r, "body")


@pytest.mark.parametrize("kind", ["fifo", "folder", "not utf-8", "huge", "huge line", "device", "binary"])
def test_hostile_scenario_files(perfpack, tmp_path: Path, kind: str) -> None:
    path = make_hostile(tmp_path / "s.toml", kind, b'url = "http://127.0.0.1/"\n[[request]]\npath = "/"\n')
    r = perfpack("load", "--scenario", str(path), "--project", str(tmp_path), timeout=30)
    usage_error(r, "scenario file")


def test_scenario_and_url_together(perfpack, tmp_path: Path, srv) -> None:
    path = tmp_path / "s.toml"
    path.write_text(f'url = "{srv.base}"\n[[request]]\npath = "/"\n')
    usage_error(
        perfpack("load", srv.url(), "--scenario", str(path), "--project", str(tmp_path)), "come from the file"
    )


def test_scenario_with_a_bad_threshold(perfpack, tmp_path: Path, srv) -> None:
    path = tmp_path / "s.toml"
    path.write_text(f'url = "{srv.base}"\nthresholds = ["p95 < soon"]\n[[request]]\npath = "/"\n')
    usage_error(perfpack("load", "--scenario", str(path), "--project", str(tmp_path)), "bad threshold")


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/badlength", "bad response: negative Content-Length"),
        ("/textlength", "bad response: unreadable Content-Length"),
        ("/badchunk", "bad response: unreadable chunk size"),
        ("/extra", "bad response: more bytes than Content-Length"),
        ("/head-only", "timeout"),
    ],
)
def test_hostile_server_answers_are_errors_by_kind(
    perfpack, tmp_path: Path, srv, path: str, kind: str
) -> None:
    r = perfpack(
        "load",
        srv.url(path),
        "--rate",
        "20",
        "--duration",
        "0.5s",
        "--warmup",
        "0",
        "--timeout",
        "0.5s",
        "--project",
        str(tmp_path),
        "-q",
        "--threshold",
        "error_rate<1%",
    )
    assert r.returncode == ExitCode.FINDINGS, r.stdout + r.stderr
    assert f"errors     10 (100.00 %): {kind}: 10" in r.stdout and "Traceback" not in r.stderr


def test_terminal_escapes_from_the_server_never_reach_the_terminal(perfpack, tmp_path: Path, srv) -> None:
    r = perfpack(
        "load",
        srv.url("/escape"),
        "--rate",
        "20",
        "--duration",
        "0.5s",
        "--warmup",
        "0",
        "--project",
        str(tmp_path),
        "-q",
    )
    assert r.returncode == ExitCode.OK and "\x1b" not in r.stdout


def test_unwritable_ledger_does_not_lose_the_figures(perfpack, tmp_path: Path, srv) -> None:
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "perfpack").write_text("a file where the folder should be")
    r = perfpack(
        "load",
        srv.url(),
        "--rate",
        "20",
        "--duration",
        "0.5s",
        "--warmup",
        "0",
        "--project",
        str(tmp_path),
        "-q",
    )
    assert r.returncode == ExitCode.OK and "latency    p50" in r.stdout
