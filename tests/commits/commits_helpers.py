"""Helpers for the commit-check tests: real git repositories with controlled author, date and config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from perfpack.install.core import HOOK_PYTHON_FLAGS

HOOK = Path(__file__).resolve().parents[2] / "src" / "perfpack" / "hook.py"
HOOK_ARGV = [sys.executable, *HOOK_PYTHON_FLAGS, str(HOOK)]  # as `perfpack install` writes it


def git_env(home: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"), "GIT_AUTHOR_NAME": "Ada Tester",
            "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada Tester",
            "GIT_COMMITTER_EMAIL": "ada@example.com", "GIT_AUTHOR_DATE": "2026-01-02T03:04:05+00:00",
            "GIT_COMMITTER_DATE": "2026-01-02T03:04:05+00:00", "LC_ALL": "C.UTF-8"}


class Repo:
    """A throwaway repository with helpers to write files and make commits."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path = path
        self.env = env

    def git(self, *args: str, input: bytes | None = None, check: bool = True) -> str:
        proc = subprocess.run(["git", *args], cwd=self.path, env=self.env, input=input, capture_output=True,
                              timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"git {args} failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode("utf-8", "replace")

    def write(self, name: str, content: str | bytes) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
        return target

    def commit(self, message: str | bytes, files: dict[str, str | bytes] | None = None, *extra: str) -> str:
        for name, content in (files or {}).items():
            self.write(name, content)
        self.git("add", "-A")
        raw = message if isinstance(message, bytes) else message.encode()
        self.git("commit", "-q", "--allow-empty", "-F", "-", *extra, input=raw)
        return self.git("rev-parse", "HEAD").strip()


def ok_message(subject: str = "Tune the cache size") -> str:
    return f"{subject}\n\nWhy it matters.\n\nSigned-off-by: Ada Tester <ada@example.com>\n"


def lines(n: int, tag: str = "x") -> str:
    return "".join(f"{tag} {i}\n" for i in range(n))


def perfpack(repo: Repo, *args: str, input: bytes | None = None, cwd: Path | None = None
             ) -> subprocess.CompletedProcess:
    """Run the real `perfpack` CLI in the repository, with the repository's git environment."""
    import sys

    proc = subprocess.run([sys.executable, "-m", "perfpack", *args], cwd=cwd or repo.path, env=repo.env,
                          input=input, capture_output=True, timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def rules_of(proc: subprocess.CompletedProcess) -> list[tuple[str, str]]:
    """(path, rule) pairs from `--format json` output."""
    import json

    return [(f["path"], f["rule"]) for f in json.loads(proc.stdout)["findings"]]
