"""The UserPromptSubmit hook run as Claude Code runs it: absolute interpreter and hook.py path, JSON on
stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perfpack.install.core import HOOK_PYTHON_FLAGS
from perfpack.route import hook as route_hook

REPO = Path(__file__).resolve().parents[2]
HOOK = REPO / "src" / "perfpack" / "hook.py"
ROUTES = REPO / "hooks" / "routes.json"


def run_hook(payload, *, rules: Path | None = ROUTES, env: dict | None = None, cwd: Path | None = None):
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    argv = [sys.executable, *HOOK_PYTHON_FLAGS, str(HOOK), "user-prompt-submit"]
    if rules:
        argv += ["--rules", str(rules)]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PERFPACK_", "CLAUDE_PROJECT_DIR"))}
    full_env.update(env or {})
    start = time.perf_counter()
    proc = subprocess.run(argv, input=data, capture_output=True, env=full_env, cwd=cwd, timeout=30)
    return proc, time.perf_counter() - start


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / ".claude" / "perfpack"
    folder.mkdir(parents=True)
    (folder / "routes.json").write_bytes(ROUTES.read_bytes())
    return tmp_path


def payload(prompt: str, session: str = "s1", cwd: Path | str = "/nonexistent") -> dict:
    return {"session_id": session, "transcript_path": "/x", "cwd": str(cwd),
            "hook_event_name": "UserPromptSubmit", "permission_mode": "default", "prompt": prompt}


def context_of(proc) -> str:
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["hookSpecificOutput"]["hookEventName"] == "UserPromptSubmit"
    return out["hookSpecificOutput"]["additionalContext"]


def test_routed_prompt_names_agent_and_reason_within_300_chars(project):
    proc, _ = run_hook(payload("p99 latency doubled under load", cwd=project), rules=None,
                       env={"CLAUDE_PROJECT_DIR": str(project)})
    text = context_of(proc)
    assert "performance-engineer" in text and len(text) <= 300
    matched = text.split("(matched ", 1)[1].split(")", 1)[0]
    terms = [term.strip('" ') for term in matched.split(",")]
    assert any("p99" in term for term in terms) and all(term in "p99 latency doubled under load"
                                                        for term in terms), terms
    assert proc.stderr == b""


def test_unrelated_prompt_gives_no_output(project):
    proc, _ = run_hook(payload("add a dark mode toggle to the settings page", cwd=project), rules=None,
                       env={"CLAUDE_PROJECT_DIR": str(project)})
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def test_same_agent_suggested_once_per_session(project):
    env = {"CLAUDE_PROJECT_DIR": str(project)}
    first, _ = run_hook(payload("the dashboard is slow", "A"), rules=None, env=env)
    again, _ = run_hook(payload("the search page is sluggish too", "A"), rules=None, env=env)
    other_agent, _ = run_hook(payload("we have a memory leak in the worker", "A"), rules=None, env=env)
    other_session, _ = run_hook(payload("the dashboard is slow", "B"), rules=None, env=env)
    assert "performance-optimization-specialist" in context_of(first)
    assert again.returncode == 0 and again.stdout == b""
    assert "performance-engineer" in context_of(other_agent)
    assert "performance-optimization-specialist" in context_of(other_session)
    state = (project / ".claude" / "perfpack" / "route-sessions.txt").read_text()
    assert state.splitlines() == ["A\tperformance-optimization-specialist", "A\tperformance-engineer",
                                  "B\tperformance-optimization-specialist"]


def test_rules_found_from_payload_cwd(project):
    proc, _ = run_hook(payload("why is this endpoint so slow", cwd=project), rules=None)
    assert "performance-optimization-specialist" in context_of(proc)


def test_corrupt_state_file_does_not_stop_the_hook(project):
    (project / ".claude" / "perfpack" / "route-sessions.txt").write_bytes(b"\xff\x00garbage{")
    proc, _ = run_hook(payload("the checkout api is slow", "C"), rules=None,
                       env={"CLAUDE_PROJECT_DIR": str(project)})
    assert "performance-optimization-specialist" in context_of(proc)
    assert (project / ".claude" / "perfpack" / "route-sessions.txt").read_bytes().endswith(
        b"garbage{\nC\tperformance-optimization-specialist\n")


def test_state_is_bounded(tmp_path):
    state = tmp_path / "state.txt"
    total = route_hook.COMPACT_AT + 5
    for i in range(total):
        assert route_hook._already_suggested(str(state), f"s{i}", "agent") is False
    assert route_hook._already_suggested(str(state), f"s{total - 1}", "agent") is True
    keys = [line.split("\t")[0] for line in state.read_text().splitlines()]
    assert len(keys) <= route_hook.COMPACT_AT and "s0" not in keys and keys[-1] == f"s{total - 1}"


@pytest.mark.parametrize("variable", ["PERFPACK_ROUTE", "PERFPACK_HOOKS"])
def test_switched_off_by_environment(project, variable):
    proc, _ = run_hook(payload("the dashboard is slow", "D"),
                       env={variable: "0", "CLAUDE_PROJECT_DIR": str(project)}, rules=None)
    assert (proc.returncode, proc.stdout) == (0, b"")


@pytest.mark.parametrize("stdin", [
    b"", b"   \n", b"{", b"[1, 2]", b'"just a string"', b'{"prompt": 42}', b'{"prompt": ""}',
    b'{"prompt": "the api is \xff\xfe slow"}', b"\x00\x01\x02binary",
    b'{"prompt": "slow", "cwd": ' + b"[" * 5000,
], ids=["empty", "blank", "truncated", "array", "string", "prompt-not-text", "empty-prompt", "non-utf8",
        "binary", "deep-nesting"])
def test_fails_open_on_bad_input(stdin):
    proc, _ = run_hook(stdin)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def test_huge_input_is_drained_and_ignored_fast():
    huge = b'{"session_id": "h", "prompt": "' + b"slow latency " * (10 * 1024 * 1024 // 13) + b'"}'
    assert len(huge) > 10 * 1024 * 1024
    proc, elapsed = run_hook(huge)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")
    assert elapsed < 5  # bounded: the hook reads 1 MB, drains the rest, and scores nothing


@pytest.mark.parametrize("content", [None, b"", b"{not json", b'{"version": 99, "agents": []}',
                                     b'{"version": 1, "agents": [{"no-name": 1}]}', b"\xff\xfe\x00\x01",
                                     b'{"version": 1, "agents": [{"name": "x", "keywords": [1, 2]}]}'],
                         ids=["missing", "empty", "broken", "wrong-version", "bad-agent", "binary",
                              "bad-keywords"])
def test_fails_open_on_missing_or_corrupt_rules(tmp_path, content):
    rules = tmp_path / "routes.json"
    if content is not None:
        rules.write_bytes(content)
    proc, _ = run_hook(payload("the dashboard is slow"), rules=rules)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def test_no_rules_anywhere_means_silence(tmp_path):
    proc, _ = run_hook(payload("the dashboard is slow", cwd=tmp_path), rules=None, cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, b"")


def test_context_text_is_capped():
    text = route_hook.context_text("a" * 200, ["x" * 50] * 6, "s" * 120)
    assert len(text) <= 300


def test_rules_cache_is_used_rebuilt_when_stale_and_survives_corruption(project):
    env = {"CLAUDE_PROJECT_DIR": str(project)}
    folder = project / ".claude" / "perfpack"
    first, _ = run_hook(payload("the dashboard is slow", "K1"), rules=None, env=env)
    assert "performance-optimization-specialist" in context_of(first)
    cache = folder / "routes.cache"
    assert cache.is_file()
    cache.write_bytes(b"\x00corrupt")
    again, _ = run_hook(payload("the dashboard is slow", "K2"), rules=None, env=env)
    assert "performance-optimization-specialist" in context_of(again)
    # new rules (different size and mtime) win over the cached ones
    routes = json.loads((folder / "routes.json").read_text())
    for agent in routes["agents"]:
        agent["keywords"].pop("slow", None)
    (folder / "routes.json").write_text(json.dumps(routes))
    stale, _ = run_hook(payload("the dashboard is slow", "K3"), rules=None, env=env)
    assert (stale.returncode, stale.stdout) == (0, b"")


@pytest.mark.parametrize("prompt", ["/optimize checkout latency p99 is slow",
                                    "  /perfpack:optimize the slow api", "/optimize\nthe dashboard is slow",
                                    "<task-notification>\n<summary>Agent \"analyse\" finished</summary>\n"
                                    "<result>p99 latency 38 ms, the checkout is slow</result>"])
def test_slash_commands_and_task_notifications_get_no_routing(project, prompt):
    """A slash command brings its own plan; a background agent's hand-back is the CLI's turn, not the
    user's."""
    proc, _ = run_hook(payload(prompt, cwd=project), rules=None, env={"CLAUDE_PROJECT_DIR": str(project)})
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def test_a_prompt_that_starts_with_a_path_is_still_routed(project):
    proc, _ = run_hook(payload("/var/log/app.log shows p99 latency doubled under load", cwd=project),
                       rules=None, env={"CLAUDE_PROJECT_DIR": str(project)})
    assert "performance-engineer" in context_of(proc)


def test_plugin_route_rules_are_cached_in_the_private_state_folder(tmp_path):
    """The plugin's hooks/routes.json (its folder may be read-only) is cached where the state lives, so the
    plugin route loads indexed rules as fast as the project route."""
    plugin = tmp_path / "plugin" / "hooks"
    plugin.mkdir(parents=True)
    rules = plugin / "routes.json"
    rules.write_bytes(ROUTES.read_bytes())
    plugin.chmod(0o555)
    cache_home = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache_home), "HOME": str(tmp_path)}
    try:
        first, _ = run_hook(payload("the dashboard is slow", "P1", cwd=tmp_path / "none"),
                            rules=rules, env=env)
        assert "performance-optimization-specialist" in context_of(first)
        cache = cache_home / "perfpack" / "plugin-routes.cache"
        assert cache.is_file() and not (plugin / "routes.cache").exists()
        cache.write_bytes(b"\x00corrupt")  # a damaged cache is rebuilt, never trusted
        again, _ = run_hook(payload("the dashboard is slow", "P2", cwd=tmp_path / "none"),
                            rules=rules, env=env)
        assert "performance-optimization-specialist" in context_of(again)
        assert cache.read_bytes() != b"\x00corrupt"
    finally:
        plugin.chmod(0o755)
