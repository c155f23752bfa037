"""`perfpack route` through the real entry point: explain, --json, --compile, --check, bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

from perfpack.route.compile import compile_agents, render_routes

REPO = Path(__file__).resolve().parents[2]


def test_explains_the_agent_score_and_words(perfpack):
    result = perfpack("route", "why is the checkout api so slow under load?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("performance-engineer  (probability ")
    decided = result.stdout.split("decided by: ")[1].splitlines()[0]
    assert "load" in decided and "is" not in decided.split(", ")  # words that carry meaning, not fillers


def test_json_output_and_no_agent_exit_1(perfpack):
    result = perfpack("route", "--json", "write the performance review for Sam")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["agent"] is None and data["vetoed_by"] == ["performance review"]
    result = perfpack("route", "--format", "json", "p99 latency doubled")
    assert result.returncode == 0 and json.loads(result.stdout)["agent"] == "performance-engineer"


def test_prompt_from_stdin_and_rules_file(perfpack, tmp_path):
    routes = tmp_path / "routes.json"
    routes.write_text(render_routes(compile_agents(REPO / "agents")), encoding="utf-8")
    result = perfpack("route", "--rules", str(routes), "-", input="our LCP is 5 seconds on mobile")
    assert result.returncode == 0 and result.stdout.startswith("performance-engineering-lead")


def test_compile_then_check(perfpack, tmp_path):
    out = tmp_path / "p" / "routes.json"
    result = perfpack("route", "--compile", "--agents", str(REPO / "agents"), "--out", str(out))
    assert result.returncode == 0 and "3 agent(s)" in result.stdout
    assert perfpack("route", "--check", "--agents", str(REPO / "agents"), "--out", str(out)).returncode == 0
    out.write_text(out.read_text().replace('"slow":3', '"slow":1'))
    stale = perfpack("route", "--check", "--json", "--agents", str(REPO / "agents"), "--out", str(out))
    assert stale.returncode == 1 and json.loads(stale.stdout) == {"path": str(out), "up_to_date": False}
    out.write_bytes(b"\xff\xfe not UTF-8")
    assert perfpack("route", "--check", "--agents", str(REPO / "agents"), "--out", str(out)).returncode == 1


def test_check_against_a_fifo_is_one_line_exit_2_not_a_hang(perfpack, tmp_path):
    fifo = tmp_path / "routes.json"
    os.mkfifo(fifo)
    result = perfpack("route", "--check", "--agents", str(REPO / "agents"), "--out", str(fifo))
    assert result.returncode == 2 and "FIFO" in result.stderr and len(result.stderr.splitlines()) == 1


def test_default_compile_target_is_the_project(perfpack, tmp_path):
    (tmp_path / ".git").mkdir()
    result = perfpack("route", "--compile", cwd=tmp_path, env={"CLAUDE_PROJECT_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".claude" / "perfpack" / "routes.json").is_file()
    # and the explain command now reads that file
    assert "routes.json" in perfpack("route", "--json", "slow", cwd=tmp_path,
                                     env={"CLAUDE_PROJECT_DIR": str(tmp_path)}).stdout


def test_bad_input_is_one_line_exit_2(perfpack, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_bytes(b"{nope")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\x00\x01")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    misshapen = tmp_path / "misshapen.json"
    misshapen.write_text('{"version": 1, "agents": [{"name": "a", "keywords": ["slow"]}]}')
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "a.md").write_text("---\nname: a\ndescription: x\n---\n")
    (agents / "perfpack.toml").write_text("[agents.a.triggers]\nkeywords = { slow = -1 }\n")
    cases = [
        (["route", "--rules", str(broken), "slow"], None, "not a valid routes file"),
        (["route", "--rules", str(binary), "slow"], None, "not a valid routes file"),
        (["route", "--rules", str(deep), "slow"], None, "not a valid routes file"),
        (["route", "--rules", str(misshapen), "slow"], None, "not a valid routes file"),
        (["route", "--rules", str(tmp_path / "missing.json"), "slow"], None, "cannot read rules"),
        (["route", "-"], b"\xff\xfe", "not UTF-8"),
        (["route", "-"], b"", "empty prompt"),
        (["route", "-"], b"x" * (1024 * 1024 + 10), "larger than 1 MB"),
        (["route", "--agents", str(agents), "slow"], None, "weight of 'slow'"),
        (["route", "--compile", "--agents", str(agents), "--out", str(tmp_path / "o.json")], None,
         "weight of 'slow'"),
    ]
    for args, stdin, message in cases:
        result = perfpack(*args, input=stdin)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o.json").exists()


def test_help_explains_exit_codes(perfpack):
    result = perfpack("route", "--help")
    assert result.returncode == 0 and "Exit codes" in result.stdout and "--compile" in result.stdout
