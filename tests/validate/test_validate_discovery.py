"""Discovery as the CLI does it (marketplaces, paths plugin.json names, skills) and the misses of issue 16."""

from __future__ import annotations

import json

from validate_helpers import rules_of, run, write_pack

AGENT = "---\nname: {name}\ndescription: Use for {name}\n{extra}---\nBody\n"


def _agent(name: str, extra: str = "") -> str:
    return AGENT.format(name=name, extra=extra)


def test_marketplace_root_is_followed_to_each_plugin(tmp_path):
    write_pack(tmp_path, {
        ".claude-plugin/marketplace.json": json.dumps({"name": "m", "owner": {"name": "o"}, "plugins": [
            {"name": "one", "source": "./plugins/one"}, {"name": "two", "source": "two"},
            {"name": "far", "source": {"source": "github", "repo": "o/far"}},
            {"name": "out", "source": "../x"}],
            "metadata": {"pluginRoot": "./plugins"}}),
        "plugins/one/.claude-plugin/plugin.json": '{"name": "one"}',
        "plugins/one/agents/a.md": _agent("a", "model: thinking\n"),
        "plugins/two/.claude-plugin/plugin.json": '{"name": "two", "agents": ["./agents"]}',
        "plugins/two/commands/c.md": "---\ndescription: c\nallowed-tools: Bash(git log:*)\n---\n"
                                     "!`git log @{u}..`\n",
        "plugins/stray/agents/s.md": _agent("s", "model: thinking\n"),  # not in the marketplace
    })
    findings = run(tmp_path)
    by_file = {(f.path, f.rule) for f in findings if f.severity == "error"}
    assert ("plugins/one/agents/a.md", "PP205") in by_file  # a plugin the marketplace names is validated
    assert ("plugins/two/.claude-plugin/plugin.json", "PP402") in by_file  # "agents": ["./agents"] refused
    assert ("plugins/two/commands/c.md", "PP305") in by_file  # brace expansion `@{u}..`
    assert not [f for f in findings if "stray" in f.path]  # only what the marketplace names
    # the marketplace.json file itself as PATH finds the same
    assert rules_of(run(tmp_path / ".claude-plugin" / "marketplace.json")) == rules_of(findings)


def test_plugin_json_custom_agent_paths_and_unlisted_agents(tmp_path):
    write_pack(tmp_path, {
        ".claude-plugin/plugin.json": '{"name": "p", "agents": ["./custom/z.md", "./agents/a.md"], '
                                      '"skills": ["./extra/sk"]}',
        "custom/z.md": _agent("z", "tools: Frobnicate, Blorp\n"),  # every tool unknown
        "agents/a.md": _agent("a"),
        "agents/b.md": _agent("b"),  # not in the list: never loads
        "extra/sk/SKILL.md": "---\nname: sk\ndescription: s\nallowed-tools: Bash(ls:*)\n---\n"
                             "!`cat /etc/hosts`\n",
    })
    errors = {(f.path, f.rule) for f in run(tmp_path, cli_version="2.1.332") if f.severity == "error"}
    assert ("custom/z.md", "PP214") in errors  # zero tools: 2.1.332 refuses the spawn
    assert ("agents/b.md", "PP409") in errors
    assert ("extra/sk/SKILL.md", "PP305") in errors  # cat of a file outside the project, refused by the CLI
    assert not [e for e in errors if e[0] == "agents/a.md"]


def test_todowrite_is_removed_from_subagent_tools(tmp_path):
    write_pack(tmp_path, {".claude/agents/a.md": _agent("a", "tools: Read, TodoWrite\n")})
    findings = run(tmp_path)
    assert [(f.rule, f.severity) for f in findings] == [("PP207", "warning")]
    assert "TodoWrite" in findings[0].message


def test_plugin_command_plugin_root_in_bang_lines(tmp_path):
    """The oracle p045-p047: ${CLAUDE_PLUGIN_ROOT} is substituted before the CLI's checks."""
    command = "---\ndescription: c\nallowed-tools: Bash(uv run:*), Bash(ls:*)\n---\n{line}\n"
    write_pack(tmp_path, {
        ".claude-plugin/plugin.json": '{"name": "p"}',
        "commands/quoted.md": command.format(line='!`uv run "${CLAUDE_PLUGIN_ROOT}/scripts/x.py"`'),
        "commands/listed.md": command.format(line="!`ls ${CLAUDE_PLUGIN_ROOT}`"),
    })
    errors = {(f.path, f.rule) for f in run(tmp_path) if f.severity == "error"}
    assert errors == {("commands/listed.md", "PP305")}


def test_an_ordinary_project_is_not_read_as_agents(tmp_path):
    write_pack(tmp_path, {"CONTRIBUTING.md": "# How\n", "docs/guide.md": "---\ntitle: x\n---\n",
                          "README.md": "x"})
    (tmp_path / ".git").mkdir()
    assert run(tmp_path) == []


def test_marketplace_plugins_without_their_own_manifest_are_plugins(tmp_path):
    """A marketplace entry is the manifest of a folder without plugin.json: its agents are namespaced."""
    write_pack(tmp_path, {
        ".claude-plugin/marketplace.json": json.dumps({"name": "m", "owner": {"name": "o"}, "plugins": [
            {"name": "one", "source": "./plugins/one", "strict": False},
            {"name": "two", "source": "./plugins/two", "strict": False}]}),
        "plugins/one/agents/debugger.md": _agent("debugger"),
        "plugins/two/agents/debugger.md": _agent("debugger"),
    })
    assert run(tmp_path) == []
    write_pack(tmp_path, {"plugins/two/agents/other.md": _agent("debugger")})
    assert rules_of(run(tmp_path)) == ["PP204", "PP204"]  # two of one name inside one plugin
