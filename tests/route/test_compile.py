"""Compiling the triggers of agents/perfpack.toml, and keeping hooks/routes.json and the schema in step."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jsonschema
import pytest

from perfpack.errors import PerfpackError
from perfpack.packmeta import read_pack_meta
from perfpack.route.compile import compile_agents, render_routes, write_routes
from perfpack.route.engine import load_rules, route

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "schemas" / "triggers.schema.json").read_text())

AGENT = """---
name: {name}
description: test agent
model: sonnet
---
Body text that mentions slow things and is never read by the compiler.
"""


def write_agent(folder: Path, name: str, triggers: str | None = None) -> Path:
    """agents/NAME.md, and its [agents.NAME.triggers] table (TOML lines) appended to perfpack.toml."""
    path = folder / f"{name}.md"
    path.write_text(AGENT.format(name=name), encoding="utf-8")
    if triggers is not None:
        with open(folder / "perfpack.toml", "a", encoding="utf-8") as meta:
            meta.write(f"[agents.{name}.triggers]\n{triggers}\n")
    return folder / "perfpack.toml"


def test_compile_from_the_pack_metadata(tmp_path):
    write_agent(tmp_path, "speedy", """summary = "hot loops"
keywords = { Slow = 3, "optimiz*" = 1, "memory leak" = 4 }
phrases = { "Takes * Seconds" = 3, speedup = 2 }
exclude = ["slow-motion"]
veto = ["performance review"]
threshold = 3
priority = 2""")
    write_agent(tmp_path, "plain")  # no triggers: skipped
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
    ("keywords = { slow = 0 }", "weight of 'slow'"),
    ("keywords = { slow = -2 }", "weight of 'slow'"),
    ("keywords = { slow = true }", "weight of 'slow'"),
    ("keywords = { slow = 3 }\nbogus = 1", "unknown key"),
    ("patterns = { '(unclosed' = 3 }", "not a valid regex"),
    ("threshold = 3", "no keywords, phrases or patterns"),
    ("keywords = { slow = 3 }\nthreshold = -1", "threshold"),
    ("keywords = { slow = 3 }\npriority = 1.5", "priority"),
    ("keywords = { '!!!' = 3 }", "no words"),
    ("phrases = { '* seconds' = 3 }", "wildcard"),
    ("keywords = { slow = 3 }\nexclude = 'slow-motion'", "list of non-empty strings"),
])
def test_invalid_triggers_are_clear_errors_and_the_schema_agrees(tmp_path, triggers, message):
    path = write_agent(tmp_path, "bad", triggers)
    with pytest.raises(PerfpackError, match=message.replace("(", r"\(")) as info:
        compile_agents(tmp_path)
    assert f"{path}:1: " in str(info.value)  # the file and the line of [agents.bad.triggers]
    data = read_pack_meta(tmp_path).agents["bad"].triggers
    if message not in ("no words", "wildcard", "not a valid regex"):  # inside strings: only the compiler sees
        assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data)), f"schema accepted {data!r}"


def test_triggers_of_an_unknown_agent_and_frontmatter_leftovers_are_errors(tmp_path):
    write_agent(tmp_path, "real")
    (tmp_path / "perfpack.toml").write_text("[agents.ghost.triggers]\nkeywords = { slow = 3 }\n")
    with pytest.raises(PerfpackError, match=r"perfpack.toml:1: triggers for 'ghost', which is not an agent"):
        compile_agents(tmp_path)
    (tmp_path / "perfpack.toml").unlink()
    old = "---\nname: old\ndescription: x\ntriggers:\n  keywords: {slow: 3}\n---\n"
    (tmp_path / "old.md").write_text(old)
    with pytest.raises(PerfpackError, match=r"old.md:4: `triggers:` belongs in .*perfpack.toml"):
        compile_agents(tmp_path)


def test_broken_toml_yaml_and_missing_folder_are_errors(tmp_path):
    (tmp_path / "perfpack.toml").write_text("[agents.x.triggers\n")
    with pytest.raises(PerfpackError, match=r"perfpack.toml:1: not valid TOML"):
        compile_agents(tmp_path)
    (tmp_path / "perfpack.toml").unlink()
    (tmp_path / "broken.md").write_text("---\nname: x\ntools: [\n---\n", encoding="utf-8")
    with pytest.raises(PerfpackError, match="invalid frontmatter YAML"):
        compile_agents(tmp_path)
    with pytest.raises(PerfpackError, match="not a folder"):
        compile_agents(tmp_path / "nope")
    (tmp_path / "broken.md").write_bytes(b"---\nname: \xff\n---\n")
    with pytest.raises(PerfpackError, match="UTF-8"):
        compile_agents(tmp_path)


def test_pack_agents_triggers_valid_under_schema_and_short():
    validator = jsonschema.Draft202012Validator(SCHEMA)
    meta = read_pack_meta(REPO / "agents")
    assert len(meta.agents) == 3
    for name, agent in meta.agents.items():
        assert not list(validator.iter_errors(agent.triggers)), name
        # a human-written handful (issue 15): the learned weights live in hooks/route-model.json
        terms = len(agent.triggers.get("keywords", {})) + len(agent.triggers.get("phrases", {}))
        assert 5 <= terms <= 25, (name, terms)


def test_hooks_routes_json_is_up_to_date():
    wanted = render_routes(compile_agents(REPO / "agents"))
    assert (REPO / "hooks" / "routes.json").read_text(encoding="utf-8") == wanted, (
        "hooks/routes.json is stale: run `perfpack route --compile --agents agents --out hooks/routes.json`")
    assert len(json.loads(wanted)["agents"]) == 3
