"""A real HTTP server on 127.0.0.1, in its own process, for perfpack load's tests (tests/load/server.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SERVER = Path(__file__).with_name("server.py")
STDLIB_SERVER = Path(__file__).with_name("stdlib_server.py")  # a second, different implementation


class Server:
    def __init__(self, *args: str, script: Path = SERVER) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(script), "--max-seconds", "300", *args], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def http_server() -> Iterator[Callable[..., Server]]:
    """Start servers with `http_server(*args)`; all are stopped at the end of the test."""
    started: list[Server] = []

    def start(*args: str, script: Path = SERVER) -> Server:
        s = Server(*args, script=script)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def load_json(proc: subprocess.CompletedProcess) -> dict:
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout)
