"""Hostile input for `perfpack route` and its UserPromptSubmit hook (issue 13: items 5, 12, 15).

Item 5: the hook's session state is never written through a symlink, into a FIFO, or into a shared
folder such as /tmp; item 12: a FIFO as --rules never hangs; item 15: a trigger regex that backtracks
catastrophically is refused at compile time, and a routes.json that ships one anyway costs bounded time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_perfpack
from tests.hostile import make_hostile

REPO = Path(__file__).resolve().parents[2]
HOOK = REPO / "src" / "perfpack" / "hook.py"
ROUTES = REPO / "hooks" / "routes.json"
PROMPT = "the checkout endpoint is slow, p99 latency is 3 seconds"


def _hook(prompt: str, project: Path, env: dict[str, str], *, rules: Path | None = None,
          session: str = "s1", timeout: float = 30) -> tuple[subprocess.CompletedProcess, float]:
    payload = json.dumps({"session_id": session, "transcript_path": "/dev/null", "cwd": str(project),
                          "hook_event_name": "UserPromptSubmit", "prompt": prompt}).encode()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PERFPACK_", "CLAUDE_", "XDG_"))}
    extra = ["--rules", str(rules)] if rules else []
    argv = [sys.executable, "-S", str(HOOK), "user-prompt-submit", *extra]
    start = time.monotonic()
    proc = subprocess.run(argv, input=payload, capture_output=True, timeout=timeout,
                          env={**base, "CLAUDE_PROJECT_DIR": str(project), **env})
    return proc, time.monotonic() - start


def test_without_a_project_folder_no_shared_tmp_file_is_followed(tmp_path: Path) -> None:
    """Plugin mode, no .claude/perfpack: the state went to $TMPDIR/perfpack-UID-route-sessions.txt,
    where another local user could plant a symlink or a FIFO. Now: the user's own cache folder."""
    project = tmp_path / "project"
    project.mkdir()
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    planted = make_hostile(shared / f"perfpack-{os.getuid()}-route-sessions.txt", "symlink", b"precious\n")
    make_hostile(shared / f"perfpack-{os.getuid()}-route-sessions.txt.fifo", "fifo")
    env = {"TMPDIR": str(shared), "XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    first, _ = _hook(PROMPT, project, env, rules=ROUTES)
    assert first.returncode == 0 and b"performance-engineer" in first.stdout, first.stderr
    assert planted.read_bytes() == b"precious\n"
    state = tmp_path / "cache" / "perfpack" / "route-sessions.txt"
    assert state.is_file() and (state.parent.stat().st_mode & 0o777) == 0o700
    second, _ = _hook(PROMPT, project, env, rules=ROUTES)
    assert second.returncode == 0 and second.stdout == b"", "once per agent per session still holds"


@pytest.mark.parametrize("plant", ["symlink", "dangling symlink", "fifo", "folder"])
def test_a_planted_state_file_is_never_written_through_and_never_blocks(tmp_path: Path, plant: str) -> None:
    project = tmp_path / "project"
    folder = project / ".claude" / "perfpack"
    folder.mkdir(parents=True)
    (folder / "routes.json").write_bytes(ROUTES.read_bytes())
    state = make_hostile(folder / "route-sessions.txt", plant, b"precious\n")  # symlink: a committed one
    proc, seconds = _hook(PROMPT, project, {"HOME": str(tmp_path)}, timeout=60)
    assert proc.returncode == 0 and proc.stderr == b""
    assert b"performance-engineer" in proc.stdout  # fails open: the suggestion, just not remembered
    assert seconds < 20
    if plant == "symlink":
        assert state.is_symlink() and state.read_bytes() == b"precious\n"
    if plant == "dangling symlink":
        assert state.is_symlink() and not state.exists()  # nothing created where it leads


def test_a_symlinked_claude_perfpack_folder_gets_no_state_or_cache(tmp_path: Path) -> None:
    """A repository that commits .claude/perfpack as a link to a folder elsewhere: nothing written there."""
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere" / "perfpack"
    elsewhere.mkdir(parents=True)
    (elsewhere / "routes.json").write_bytes(ROUTES.read_bytes())
    (project / ".claude" / "perfpack").symlink_to(elsewhere)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    proc, _ = _hook(PROMPT, project, env)
    assert proc.returncode == 0 and b"performance-engineer" in proc.stdout
    assert sorted(p.name for p in elsewhere.iterdir()) == ["routes.json"]


@pytest.mark.parametrize("kind", ["fifo", "device", "folder"])
def test_route_rules_that_are_not_a_regular_file_are_one_line_exit_2(tmp_path: Path, kind: str) -> None:
    rules = Path("/dev/zero") if kind == "device" else make_hostile(tmp_path / "routes.json", kind)
    out = run_perfpack("route", "--rules", str(rules), "the checkout is slow", timeout=30)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("perfpack: error:") and "Traceback" not in out.stderr
    assert "not a regular file" in out.stderr or kind == "folder"


def test_the_hook_never_blocks_on_a_fifo_as_rules(tmp_path: Path) -> None:
    fifo = make_hostile(tmp_path / "routes.json", "fifo")
    proc, seconds = _hook(PROMPT, tmp_path, {"HOME": str(tmp_path)}, rules=fifo)
    assert proc.returncode == 0 and proc.stdout == b"" and seconds < 20


BOMBS = ["(a+)+$", "(a|aa)*b", r"(\w+\s?)*$", "(x+x+)+y", r"(.)\1*\1"]


def _agent_with_patterns(tmp_path: Path, patterns: dict[str, int]) -> Path:
    """An agents folder with one agent whose triggers (in perfpack.toml) are `patterns`."""
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "x.md").write_text("---\nname: xagent\ndescription: Use for x.\n---\nBody.\n")
    lines = ["[agents.xagent.triggers]", "threshold = 3", "[agents.xagent.triggers.patterns]"]
    lines += [f"{json.dumps(pattern)} = {weight}" for pattern, weight in patterns.items()]
    (agents / "perfpack.toml").write_text("\n".join(lines) + "\n")
    return agents


@pytest.mark.parametrize("pattern", BOMBS)
def test_compile_refuses_a_catastrophic_pattern(tmp_path: Path, pattern: str) -> None:
    agents = _agent_with_patterns(tmp_path, {pattern: 3})
    out = run_perfpack("route", "--agents", str(agents), "a" * 40 + "!", timeout=30)
    assert out.returncode == 2, out.stderr
    assert "refused" in out.stderr and len(out.stderr.strip().splitlines()) <= 2


def test_safe_patterns_still_compile_and_match(tmp_path: Path) -> None:
    agents = _agent_with_patterns(tmp_path, {r"\bp(50|95|99)\b": 3, r"\d+ ?ms\b": 1})
    out = run_perfpack("route", "--agents", str(agents), "p99 is 300 ms", timeout=30)
    assert out.returncode == 0, out.stderr
    assert "xagent" in out.stdout


def test_a_shipped_routes_json_with_a_catastrophic_pattern_costs_bounded_time(tmp_path: Path) -> None:
    """routes.json is a file a repository can commit: the hook and `route --rules` must not hang on it."""
    project = tmp_path / "project"
    folder = project / ".claude" / "perfpack"
    folder.mkdir(parents=True)
    rules = json.loads(ROUTES.read_text())
    rules["agents"][0]["patterns"] = {"(a+)+$": 3, r"(\w+\s?)*$": 3, r"\d+\d+\d+\d+x": 1}
    (folder / "routes.json").write_text(json.dumps(rules))
    prompt = "slow p99 latency " + "a" * 60 + "!"
    proc, seconds = _hook(prompt, project, {"HOME": str(tmp_path)}, timeout=60)
    assert proc.returncode == 0 and proc.stderr == b""
    assert seconds < 10, f"the hook took {seconds:.1f} s"
    start = time.monotonic()
    out = run_perfpack("route", "--rules", str(folder / "routes.json"), prompt, timeout=60)
    assert out.returncode in (0, 1) and "Traceback" not in out.stderr
    assert time.monotonic() - start < 15


def _pack_copy(tmp_path: Path) -> Path:
    import shutil

    agents = tmp_path / "agents"
    shutil.copytree(REPO / "agents", agents)
    return agents


@pytest.mark.parametrize("tail", ["x = " + "[" * 100_000 + "]" * 100_000,
                                  "x = " + "{a=" * 5000 + "1" + "}" * 5000])
def test_a_deeply_nested_perfpack_toml_is_one_line_exit_2(tmp_path: Path, tail: str) -> None:
    agents = _pack_copy(tmp_path)
    with open(agents / "perfpack.toml", "a") as handle:
        handle.write("\n" + tail + "\n")
    out = run_perfpack("route", "--agents", str(agents), "p99 is slow", timeout=60)
    assert out.returncode == 2 and "internal error" not in out.stderr, out.stderr
    assert "nested too deeply" in out.stderr


def test_an_infinite_threshold_never_reaches_routes_json(tmp_path: Path) -> None:
    """routes.json with Infinity in it is not JSON; the hook's reader and Claude Code's would disagree."""
    agents = _pack_copy(tmp_path)
    toml = agents / "perfpack.toml"
    toml.write_text(toml.read_text().replace("threshold = 3", "threshold = inf", 1))
    out_file = tmp_path / "routes.json"
    out = run_perfpack("route", "--compile", "--agents", str(agents), "--out", str(out_file), timeout=60)
    assert out.returncode == 2 and "threshold" in out.stderr, out.stderr
    assert not out_file.exists()
