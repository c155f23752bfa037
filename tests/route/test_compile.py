"""Compiling `triggers:` from real agent files, and keeping hooks/routes.json and the schema in step."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jsonschema
import pytest

from perfpack.errors import PerfpackError
from perfpack.frontmatter import read_frontmatter
from perfpack.route.compile import compile_agents, render_routes, write_routes
from perfpack.route.engine import load_rules, route

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schemas" / "triggers.schema.json").read_text())

AGENT = """---
name: {name}
description: test agent
{triggers}
---
Body text that mentions slow things and is never read by the compiler.
"""


def write_agent(folder: Path, name: str, triggers: str) -> Path:
    path = folder / f"{name}.md"
    path.write_text(AGENT.format(name=name, triggers=triggers), encoding="utf-8")
    return path


def test_compile_from_agent_files(tmp_path):
    write_agent(tmp_path, "speedy", """triggers:
  summary: hot loops
  keywords: {Slow: 3, "optimiz*": 1, "memory leak": 4}
  phrases: {"Takes * Seconds": 3, speedup: 2}
  exclude: [slow-motion]
  veto: [performance review]
  threshold: 3
  priority: 2""")
    write_agent(tmp_path, "plain", "model: sonnet")  # no triggers: skipped
    out = write_routes(tmp_path, tmp_path / "out" / "routes.json")
    data = json.loads(out.read_text())
    assert [a["name"] for a in data["agents"]] == ["speedy"]
    agent = data["agents"][0]
    assert agent["keywords"] == {"slow": 3, "speedup": 2}
    assert agent["prefixes"] == {"optimiz": 1}
    assert agent["phrases"] == {"memory leak": 4, "takes * seconds": 3}
    assert data["exclude"] == ["slow motion"] and data["veto"] == ["performance review"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    rules = load_rules(str(out))
    assert route("it takes 9 seconds", rules).agent == "speedy"
    assert route("slow-motion clip", rules).agent is None


@pytest.mark.parametrize("triggers, message", [
    ("triggers: [slow]", "must be a mapping"),
    ("triggers: {keywords: {slow: 0}}", "weight of 'slow'"),
    ("triggers: {keywords: {slow: -2}}", "weight of 'slow'"),
    ("triggers: {keywords: {slow: yes}}", "weight of 'slow'"),
    ("triggers: {keywords: {slow: 3}, bogus: 1}", "unknown key"),
    ("triggers: {patterns: {'(unclosed': 3}}", "not a valid regex"),
    ("triggers: {threshold: 3}", "no keywords, phrases or patterns"),
    ("triggers: {keywords: {slow: 3}, threshold: -1}", "threshold"),
    ("triggers: {keywords: {slow: 3}, priority: 1.5}", "priority"),
    ("triggers: {keywords: {'!!!': 3}}", "no words"),
    ("triggers: {phrases: {'* seconds': 3}}", "wildcard"),
    ("triggers: {keywords: {slow: 3}, exclude: slow-motion}", "list of non-empty strings"),
])
def test_invalid_triggers_are_clear_errors_and_the_schema_agrees(tmp_path, triggers, message):
    path = write_agent(tmp_path, "bad", triggers)
    with pytest.raises(PerfpackError, match=message.replace("(", r"\(")) as info:
        compile_agents(tmp_path)
    assert str(path) in str(info.value)
    data = read_frontmatter(path).data["triggers"]
    if message not in ("no words", "wildcard", "not a valid regex"):  # inside strings: only the compiler sees
        assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data)), f"schema accepted {data!r}"


def test_broken_yaml_and_missing_folder_are_errors(tmp_path):
    (tmp_path / "broken.md").write_text("---\nname: x\ntriggers: {keywords: [\n---\n", encoding="utf-8")
    with pytest.raises(PerfpackError, match="invalid frontmatter YAML"):
        compile_agents(tmp_path)
    with pytest.raises(PerfpackError, match="not a folder"):
        compile_agents(tmp_path / "nope")
    (tmp_path / "broken.md").write_bytes(b"---\nname: \xff\n---\n")
    with pytest.raises(PerfpackError, match="UTF-8"):
        compile_agents(tmp_path)


def test_pack_agents_triggers_valid_under_schema():
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for path in sorted((REPO / "agents").glob("*.md")):
        triggers = read_frontmatter(path).data["triggers"]
        assert not list(validator.iter_errors(triggers)), path


def test_hooks_routes_json_is_up_to_date():
    wanted = render_routes(compile_agents(REPO / "agents"))
    assert (REPO / "hooks" / "routes.json").read_text(encoding="utf-8") == wanted, (
        "hooks/routes.json is stale: run `perfpack route --compile --agents agents --out hooks/routes.json`")
    assert len(json.loads(wanted)["agents"]) == 3
