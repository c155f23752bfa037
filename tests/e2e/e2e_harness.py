"""Harness for the end-to-end tests: the pinned real Claude Code CLI, the stand-in API, and a headless runner.

The CLI is installed from the npm registry once into a cache folder (a file lock keeps parallel runs apart);
every run gets a fresh HOME, a temporary git project and a timeout.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fake_api import FakeAnthropicAPI

# The request format is the CLI's private contract: every e2e assertion runs on the oldest CLI perfpack
# supports and on a pinned newest one. `python scripts/update_cli_pin.py` moves NEWEST_CLI to the registry's.
OLDEST_CLI = "2.1.197"
NEWEST_CLI = "2.1.337"
CLI_VERSIONS = (OLDEST_CLI, NEWEST_CLI)
CLAUDE_CODE_PACKAGE = "@anthropic-ai/claude-code"
REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 120  # seconds per `claude` run; a healthy run against the stand-in takes ~3 s
INSTALL_TIMEOUT = 900
AGENT_LIST_HEADER = "Available agent types for the Agent tool:"
HOOK_CONTEXT_PREFIX = "UserPromptSubmit hook additional context:"
HOOK_PLAIN_PREFIX = "UserPromptSubmit hook success:"


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def selected_versions() -> tuple[str, ...]:
    """The versions the e2e tests run on: CLI_VERSIONS, or $PERFPACK_E2E_CLI (comma-separated, e.g.
    `2.1.197,2.1.337`) to try a newer release before the pin moves. Assertions about behaviour a newer
    CLI changed compare with OLDEST_CLI (`version_key(v) > version_key(OLDEST_CLI)`), not with the pin."""
    chosen = os.environ.get("PERFPACK_E2E_CLI", "").replace(" ", "")
    if not chosen:
        return CLI_VERSIONS
    versions = tuple(v for v in chosen.split(",") if v)
    bad = [v for v in versions if not re.fullmatch(r"\d+\.\d+\.\d+", v)]
    if bad:
        raise pytest.UsageError(f"PERFPACK_E2E_CLI: not a Claude Code version: {bad[0]!r}")
    return versions


def newer_than_oldest(version: str) -> bool:
    """Whether VERSION is past the oldest supported CLI (2.1.198+ behaviour: background subagents, ...)."""
    return version_key(version) > version_key(OLDEST_CLI)


def cache_dir(version: str) -> Path:
    """Where one CLI version lives: $PERFPACK_E2E_CACHE/claude-code-VERSION, default ~/.cache/perfpack/..."""
    base = os.environ.get("PERFPACK_E2E_CACHE") or str(Path.home() / ".cache" / "perfpack")
    return Path(base).expanduser() / f"claude-code-{version}"


def _installed_claude(prefix: Path) -> Path | None:
    binary = prefix / "node_modules" / ".bin" / "claude"
    if not (prefix / ".perfpack-complete").is_file() or not binary.exists():
        return None
    return binary


def ensure_claude_code(version: str) -> Path:
    """Install CLI VERSION into the cache once (locked), reuse it afterwards; return its `claude` path."""
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise ValueError(f"not a Claude Code version: {version!r}")
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("end-to-end tests need Node.js and npm on PATH to install the real Claude Code CLI")
    package = f"{CLAUDE_CODE_PACKAGE}@{version}"
    prefix = cache_dir(version)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(prefix.parent / f".{prefix.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second pytest waits here instead of installing over the first
        binary = _installed_claude(prefix)
        if binary is None:
            # Install next to the target and rename: a killed install never leaves a half folder behind.
            staging = prefix.parent / f".{prefix.name}.partial-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(prefix, ignore_errors=True)
            proc = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(staging), package],
                check=False,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
            )
            if proc.returncode != 0:
                shutil.rmtree(staging, ignore_errors=True)
                pytest.fail(f"npm install {package} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
            (staging / ".perfpack-complete").write_text(version + "\n")
            staging.rename(prefix)  # node_modules/.bin links are relative, so they survive the rename
            binary = _installed_claude(prefix)
            assert binary is not None, f"npm installed {package} but {prefix} has no claude binary"
    said = subprocess.run([str(binary), "--version"], check=False, capture_output=True, text=True, timeout=60)
    assert said.stdout.split(" ", 1)[0].strip() == version, (
        f"{binary} --version said {said.stdout!r} {said.stderr[-500:]!r}; expected {version}"
    )
    return binary


def make_git_project(path: Path) -> Path:
    """A small real git repository with one commit, like a user's project."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "app.py").write_text("def handler(request):\n    return {'ok': True}\n")
    (path / "README.md").write_text("# shop\n")
    git_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "e2e",
        "GIT_AUTHOR_EMAIL": "e2e@example.invalid",
        "GIT_COMMITTER_NAME": "e2e",
        "GIT_COMMITTER_EMAIL": "e2e@example.invalid",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "initial"]):
        subprocess.run(["git", *args], cwd=path, env=git_env, check=True, capture_output=True, timeout=60)
    return path


@dataclass
class ClaudeRun:
    """One headless `claude -p` run: its exit code, stream-json events, stderr and what reached the API."""

    returncode: int
    events: list[dict[str, Any]]
    stderr: str
    stdout: str
    requests: list[dict[str, Any]] = field(default_factory=list)  # POST /v1/messages bodies

    @property
    def init(self) -> dict[str, Any]:
        for event in self.events:
            if event.get("type") == "system" and event.get("subtype") == "init":
                return event
        raise AssertionError(
            f"no init event in the stream-json output:\n{self.stdout[-2000:]}\n{self.stderr[-2000:]}"
        )

    @property
    def result(self) -> dict[str, Any] | None:
        return next((e for e in self.events if e.get("type") == "result"), None)

    @property
    def first_request(self) -> dict[str, Any]:
        assert self.requests, (
            "the CLI sent nothing to the model (a slash command whose `!` line fails is "
            f"aborted silently); stdout:\n{self.stdout[-2000:]}\nstderr:\n{self.stderr[-2000:]}"
        )
        return self.requests[0]

    def texts(self, role: str | None = None) -> list[str]:
        """Every text block of the first model request's messages (optionally of one role)."""
        out: list[str] = []
        for message in self.first_request.get("messages", []):
            if role is not None and message.get("role") != role:
                continue
            content = message.get("content")
            blocks = [content] if isinstance(content, str) else (content or [])
            for block in blocks:
                if isinstance(block, str):
                    out.append(block)
                elif isinstance(block, dict) and isinstance(block.get("text"), str):
                    out.append(block["text"])
        return out

    def all_text(self) -> str:
        return "\n".join(self.texts())

    def agent_lines(self) -> dict[str, str]:
        """name -> rest of its line, from the "Available agent types for the Agent tool:" system text."""
        agents: dict[str, str] = {}
        for text in self.texts():
            if AGENT_LIST_HEADER not in text:
                continue
            section = text.split(AGENT_LIST_HEADER, 1)[1].split("\n\n", 1)[0]
            for line in section.splitlines():
                if line.startswith("- ") and ": " in line:
                    name, rest = line[2:].split(": ", 1)
                    agents[name] = rest
        return agents

    def hook_lines(self) -> list[str]:
        """Lines that UserPromptSubmit hooks added to the model's context."""
        return [
            line
            for text in self.texts()
            for line in text.splitlines()
            if line.startswith((HOOK_CONTEXT_PREFIX, HOOK_PLAIN_PREFIX))
        ]


VENV_BIN = str(Path(sys.executable).parent)


def path_without_perfpack() -> str:
    """The PATH minus every folder holding a `perfpack`: the quick start's "venv not on PATH"."""
    folders = [
        d
        for d in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
        if d and d != VENV_BIN and not os.access(os.path.join(d, "perfpack"), os.X_OK)
    ]
    return os.pathsep.join(folders)


def claude_env(
    api: FakeAnthropicAPI, home: Path, *, venv_on_path: bool = True, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """A clean environment: fresh HOME, the stand-in API, no telemetry, the venv's `perfpack` on PATH (unless
    venv_on_path is False: then no folder holding a `perfpack` is on PATH), plus EXTRA."""
    path = (
        os.pathsep.join([VENV_BIN, os.environ.get("PATH", "/usr/bin:/bin")])
        if venv_on_path
        else path_without_perfpack()
    )
    env = {
        "HOME": str(home),
        "PATH": path,
        "ANTHROPIC_BASE_URL": api.base_url,
        "ANTHROPIC_API_KEY": "test",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "IS_SANDBOX": "1",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    for key in ("TMPDIR", "NO_COLOR"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra or {})
    return env


def run_claude(
    claude: Path,
    api: FakeAnthropicAPI,
    project: Path,
    home: Path,
    prompt: str,
    *extra: str,
    timeout: float = RUN_TIMEOUT,
    venv_on_path: bool = True,
    env: dict[str, str] | None = None,
) -> ClaudeRun:
    """Run `claude -p PROMPT --output-format stream-json --verbose` in PROJECT and collect what it sent.

    EXTRA are more CLI arguments (`--debug-file F`, `--plugin-dir D`); ENV is added to the clean environment.
    """
    home.mkdir(parents=True, exist_ok=True)
    seen_before = len(api.messages())
    proc = subprocess.run(
        [str(claude), "-p", prompt, "--output-format", "stream-json", "--verbose", *extra],
        cwd=project,
        env=claude_env(api, home, venv_on_path=venv_on_path, extra=env),
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    events = []
    for line in proc.stdout.splitlines():
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            events.append(parsed)
    run = ClaudeRun(proc.returncode, events, proc.stderr, proc.stdout, api.messages()[seen_before:])
    _dump(run, prompt)
    return run


def _dump(run: ClaudeRun, prompt: str) -> None:
    """With PERFPACK_E2E_DUMP=DIR, keep each run's requests and events there, to read after a failure."""
    folder = os.environ.get("PERFPACK_E2E_DUMP")
    if not folder:
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    name = f"run-{len(list(path.glob('run-*.json'))) + 1:03d}.json"
    (path / name).write_text(
        json.dumps(
            {
                "prompt": prompt,
                "returncode": run.returncode,
                "stderr": run.stderr,
                "events": run.events,
                "requests": run.requests,
            },
            indent=1,
        )
    )


def run_claude_cli(
    claude: Path,
    api: FakeAnthropicAPI,
    home: Path,
    *args: str,
    cwd: Path | None = None,
    timeout: float = RUN_TIMEOUT,
) -> subprocess.CompletedProcess:
    """Run a non-interactive `claude` subcommand (plugin validate/marketplace/install) with the test env."""
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(claude), *args],
        cwd=cwd,
        env=claude_env(api, home),
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def copy_repo(dest: Path) -> Path:
    """A copy of the repository as a user would clone it (no venv, no git metadata, no caches)."""
    ignore = shutil.ignore_patterns(
        ".git",
        ".venv",
        "venv",
        "__pycache__",
        ".pytest_cache",
        "node_modules",
        "*.egg-info",
        ".hypothesis",
        ".claude",
    )
    shutil.copytree(REPO_ROOT, dest, ignore=ignore, symlinks=True)
    return dest
