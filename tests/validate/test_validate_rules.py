"""One failing fixture per rule, checked for its rule id and line; clean packs give nothing."""

from __future__ import annotations

import pytest
from validate_helpers import rules_of, run, write_pack

from perfpack.validate.rules import RULES


def agent(name: str = "fast-agent", extra: str = "", body: str = "Body.\n",
          description: str = "Use when slow.") -> str:
    return f"---\nname: {name}\ndescription: {description}\n{extra}---\n{body}"


CLEAN_AGENT = agent(extra="tools: Read, Grep, Glob, Bash\nmodel: sonnet\ncolor: cyan\n")

# rule id -> (files, path of the finding, line)
CASES = {
    "PP101": ({"agents/bin.md": b"\x00\x01\x02binary"}, "agents/bin.md", 1),
    "PP102": ({"agents/fast-agent.md": "\ufeff" + CLEAN_AGENT}, "agents/fast-agent.md", 1),
    "PP103": ({"agents/fast-agent.md": CLEAN_AGENT.replace("\n", "\r\n")}, "agents/fast-agent.md", 1),
    "PP104": ({"agents/fast-agent.md": "# Fast agent\n\nname: fast-agent\n"}, "agents/fast-agent.md", 1),
    "PP105": ({"agents/fast-agent.md": "---\nname: fast-agent\ndescription: x\n"}, "agents/fast-agent.md", 1),
    "PP106": ({"agents/fast-agent.md": agent(description="Use when:\n  - bad: [x")}, "agents/fast-agent.md",
              3),
    "PP107": ({"agents/fast-agent.md": agent(extra="model: sonnet\nmodel: opus\n")}, "agents/fast-agent.md",
              5),
    "PP108": ({"agents/fast-agent.md": "---\nname: fast-agent\n---\ndescription: Use when slow.\n"
                                       "---\nBody\n"},
              "agents/fast-agent.md", 3),
    "PP109": ({"agents/fast-agent.md": agent(extra="maxTurns: many\n")}, "agents/fast-agent.md", 4),
    "PP110": ({"agents/fast-agent.md": agent(extra="modle: sonnet\n")}, "agents/fast-agent.md", 4),
    "PP111": ({"agents/fast-agent.md": agent(body="Read /home/alice/notes.md first.\n")},
              "agents/fast-agent.md", 5),
    "PP112": ({"agents/fast-agent.md": agent(description="Use when slow. " * 80)}, "agents/fast-agent.md", 3),
    "PP113": ({"agents/fast-agent.md": "---\nname: fast-agent\ndescription: x\n"
               + "".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}" if i else "lol"] * 9) + "]\n"
                         for i in range(9))
               + "---\nBody\n"}, "agents/fast-agent.md", 2),
    "PP114": ({"agents/fast-agent.md": agent(extra="hooks: []\n")}, "agents/fast-agent.md", 4),
    "PP213": ({"agents/fast-agent.md": agent(name="fast:agent")}, "agents/fast-agent.md", 2),
    "PP214": ({"agents/fast-agent.md": agent(extra="tools: Frob, Blah\n")}, "agents/fast-agent.md", 4),
    "PP201": ({"agents/fast-agent.md": "---\nname: fast-agent\n---\nBody\n"}, "agents/fast-agent.md", 1),
    "PP202": ({"agents/Fast_Agent.md": agent(name="Fast_Agent")}, "agents/Fast_Agent.md", 2),
    "PP204": ({"agents/fast-agent.md": agent(), "agents/team/fast-agent.md": agent()}, "agents/fast-agent.md",
              2),
    "PP205": ({"agents/fast-agent.md": agent(extra="model: gpt-4\n")}, "agents/fast-agent.md", 4),
    "PP207": ({"agents/fast-agent.md": agent(extra="tools: Read, LS, Grep\n")}, "agents/fast-agent.md", 4),
    "PP208": ({"agents/fast-agent.md": agent(extra="tools: Read, Grpe\n")}, "agents/fast-agent.md", 4),
    "PP209": ({"agents/fast-agent.md": agent(extra="allowed-tools: Read, Grep\n")}, "agents/fast-agent.md",
              4),
    "PP210": ({"agents/fast-agent.md": agent(extra="skills:\n  - profiling\n")}, "agents/fast-agent.md", 5),
    "PP211": ({"agents/fast-agent.md": agent(body="Delegate to `db-tuner` for indexes.\n")},
              "agents/fast-agent.md", 5),
    "PP212": ({"agents/fast-agent.md": agent(extra="triggers:\n  keywords: {slow: very}\n")},
              "agents/fast-agent.md", 5),
    "PP301": ({"commands/go.md": "---\ndescription: Go\n---\n!`npm test`\n"}, "commands/go.md", 4),
    "PP302": ({"commands/go.md": "---\ndescription: Go\nallowed-tools: Bash(git log:*)\n---\n"
               "!`git log --grep $ARGUMENTS`\n"}, "commands/go.md", 5),
    "PP305": ({"commands/go.md": "---\ndescription: Go\nallowed-tools: Bash(echo:*)\n---\n!`echo {a,b}`\n"},
              "commands/go.md", 5),
    "PP304": ({"commands/go.md": "---\ndescription: Go\ntools: Read\n---\nBody\n"}, "commands/go.md", 3),
    "PP401": ({".claude-plugin/plugin.json": '{"name": "p",\n}'}, ".claude-plugin/plugin.json", 2),
    "PP402": ({".claude-plugin/plugin.json": '{"name": "p",\n "version": 1}'}, ".claude-plugin/plugin.json",
              2),
    "PP408": ({".claude-plugin/plugin.json": '{"name": "p",\n "author": "Me"}'}, ".claude-plugin/plugin.json",
              2),
    "PP409": ({".claude-plugin/plugin.json": '{"name": "p", "agents": ["./agents/a.md"]}',
               "agents/a.md": agent("a"), "agents/b.md": agent("b")}, "agents/b.md", 1),
    "PP410": ({".claude-plugin/plugin.json": '{"name": "p",\n "agents": ["./agents/none.md"]}'},
              ".claude-plugin/plugin.json", 2),
    "PP411": ({".claude-plugin/plugin.json": '{"name": "p"}', "bin/tool": "#!/bin/sh\n"}, "bin/tool", 1),
    "PP403": ({"hooks/hooks.json": '{"hooks": {"Stop": [{"hooks": [{"type": "shell", '
                                   '"command": "true"}]}]}}'},
              "hooks/hooks.json", 1),
    "PP404": ({"hooks/hooks.json": '{"PreToolUse": []}'}, "hooks/hooks.json", 1),
    "PP405": ({".claude-plugin/plugin.json": '{"name": "p",\n "hooks": "./hooks/hooks.json"}',
               "hooks/hooks.json": '{"hooks": {}}'}, ".claude-plugin/plugin.json", 2),
    "PP406": ({"hooks/hooks.json": '{"hooks": {"Stop": [{"hooks": [{"type": "command",\n'
               '"command": "python3 ${CLAUDE_PLUGIN_ROOT}/hooks/missing.py"}]}]}}'}, "hooks/hooks.json", 2),
    "PP407": ({"hooks/hooks.json": '{"hooks": {"PreToolUSe": []}}'}, "hooks/hooks.json", 1),
}


def test_every_rule_has_a_failing_fixture():
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_at_its_line(tmp_path, rule_id):
    files, path, line = CASES[rule_id]
    findings = run(write_pack(tmp_path, files))
    hits = [f for f in findings if f.rule == rule_id]
    assert hits, f"{rule_id} not found in {[(f.rule, f.message) for f in findings]}"
    assert any(f.path == path and f.line == line for f in hits), [(f.path, f.line, f.message) for f in hits]
    assert all(f.fix for f in hits) and all(f.severity == RULES[rule_id].severity for f in hits)


def test_clean_pack_gives_nothing(tmp_path):
    pack = write_pack(tmp_path, {
        "agents/fast-agent.md": CLEAN_AGENT,
        "agents/db-tuner.md": agent(name="db-tuner",
                                    extra="skills: [profiling]\ndelegates-to: [fast-agent]\n",
                                    body="Delegate to fast-agent for CPU work.\n"),
        "skills/profiling/SKILL.md": "---\nname: profiling\ndescription: Profiling.\n---\nSteps.\n",
        "commands/go.md": "---\ndescription: Go\nallowed-tools: Bash(npm test:*), Bash(git log *)\n"
                          "argument-hint: \"[target]\"\n---\n!`npm test -- --quick`\n"
                          "!`git log -3 | head -3`\n!`git status`\nTarget: $ARGUMENTS\n",
        ".claude-plugin/plugin.json": '{"name": "p", "author": {"name": "Me"}}',
        "hooks/hooks.json": '{"hooks": {"Stop": [{"hooks": [{"type": "command", '
                            '"command": "python3 ${CLAUDE_PLUGIN_ROOT}/hooks/stop.py", "timeout": 5}]}]}}',
        "hooks/stop.py": "print()\n",
    })
    # delegates-to is perfpack's key, unknown to Claude Code (PP110) since issue 16; nothing else fires
    assert [f for f in run(pack) if f.rule != "PP110"] == []


def test_yaml_error_on_command_says_it_loses_its_frontmatter(tmp_path):
    pack = write_pack(tmp_path, {"commands/go.md": "---\ndescription: Go: now: [\n---\nBody\n"})
    (error,) = [f for f in run(pack) if f.rule == "PP106"]
    assert "ignores this command's frontmatter" in error.message and error.severity == "warning"


def test_bash_patterns_prefix_glob_exact_and_compound(tmp_path):
    body = ("!`perfpack snapshot --format md`\n!`make bench && ls`\n!`make benchmark`\n!`rm -rf build`\n"
            "!`git status; git push`\n")
    pack = write_pack(tmp_path, {"commands/go.md": "---\ndescription: Go\nallowed-tools: "
                                 "Bash(perfpack snapshot:*) Bash(make bench)\n---\n" + body})
    refused = sorted(f.line for f in run(pack) if f.rule == "PP301")
    assert refused == [7, 8, 9]  # make benchmark (exact only), rm, git push


def test_bare_bash_allows_everything_and_settings_allow_counts(tmp_path):
    pack = write_pack(tmp_path, {"commands/go.md": "---\nallowed-tools: Bash\n---\n!`rm -rf build`\n"})
    assert "PP301" not in rules_of(run(pack))
    project = write_pack(tmp_path / "proj", {
        ".claude/commands/go.md": "---\ndescription: Go\n---\n!`npm test`\n",
        ".claude/settings.json": '{"permissions": {"allow": ["Bash(npm test:*)"]}}'})
    assert run(project) == []


def test_fenced_bang_block_and_named_argument(tmp_path):
    pack = write_pack(tmp_path, {"commands/go.md": "---\ndescription: Go\nallowed-tools: Bash(echo:*)\n"
                                 "arguments: [target]\n---\n```!\necho $target\nnpm ci\n```\n"})
    findings = run(pack)
    assert [(f.rule, f.line) for f in findings] == [("PP302", 7), ("PP301", 8)]


def test_delegation_prose_is_not_flagged(tmp_path):
    body = ("You delegate to specialists when needed. Delegate to sub-agents sparingly.\n"
            "Prefer to delegate to the general-purpose agent or Explore.\n"
            "```\ndelegate to made-up-agent\n```\n"
            "| Tool | When |\n|---|---|\n| py-spy | sampling |\n")
    pack = write_pack(tmp_path, {"agents/fast-agent.md": agent(body=body)})
    assert run(pack) == []


def test_external_agents_declared_in_frontmatter_or_config(tmp_path):
    files = {"agents/fast-agent.md": agent(extra="external-agents: {db-tuner: general-purpose}\n",
                                           body="DELEGATES TO: db-tuner, cache-guru\n")}
    findings = run(write_pack(tmp_path, files))
    findings = [f for f in findings if f.rule != "PP110"]  # external-agents: a perfpack key (issue 15)
    assert [(f.rule, f.message.split("`")[1]) for f in findings] == [("PP211", "cache-guru")]
    assert [f for f in run(tmp_path, external_agents={"cache-guru"}) if f.rule != "PP110"] == []


def test_agent_tool_targets_are_checked(tmp_path):
    pack = write_pack(tmp_path,
                      {"agents/fast-agent.md": agent(extra="tools: Read, Agent(db-tuner, Explore)\n")})
    assert [f.rule for f in run(pack)] == ["PP211"]


def test_settings_hook_script_missing_and_present(tmp_path):
    project = write_pack(tmp_path, {
        ".claude/settings.json": '{"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": '
                                 '[{"type": "command", "command": '
                                 '"\\"$CLAUDE_PROJECT_DIR\\"/.claude/hooks/check.sh"}]}]}}'})
    assert rules_of(run(project)) == ["PP406"]
    write_pack(tmp_path, {".claude/hooks/check.sh": "#!/bin/sh\n"})
    assert run(project) == []


def test_select_and_ignore(tmp_path):
    pack = write_pack(tmp_path, {"agents/fast-agent.md": agent(extra="model: gpt-4\nmodle: x\n")})
    assert rules_of(run(pack)) == ["PP110", "PP205"]
    assert rules_of(run(pack, select={"PP205"})) == ["PP205"]
    assert rules_of(run(pack, ignore={"PP205"})) == ["PP110"]


def test_single_file_and_agents_folder_paths(tmp_path):
    write_pack(tmp_path, {"agents/a-one.md": agent(name="a-one"), "agents/a-two.md": agent(name="a-two",
               extra="skills: [profiling]\n"), "skills/profiling/SKILL.md": "---\nname: profiling\n---\n"})
    assert run(tmp_path / "agents") == []
    assert run([tmp_path / "agents" / "a-two.md"]) == []


def test_findings_in_leniently_read_frontmatter_keep_their_lines(tmp_path):
    text = "---\nname: Reviewer\ndescription: Reviews. Use when: ready\nmodel: Opus\nmaxTurn: 5\n---\nBody\n"
    findings = run(write_pack(tmp_path, {"agents/Reviewer.md": text}))
    got = {(f.rule, f.line) for f in findings}
    # `Opus` is an alias to the CLI (the oracle: aliases are case-insensitive), so no PP205
    assert got == {("PP106", 3), ("PP202", 2), ("PP110", 5)}


def test_hook_bash_c_body_is_not_a_script_path(tmp_path):
    pack = write_pack(tmp_path, {"hooks/hooks.json": '{"hooks": {"SessionStart": [{"hooks": '
                                                     '[{"type": "command", '
                                 '"command": "bash -c \'cd \\"$CLAUDE_PROJECT_DIR\\" && ./x.sh\'"}]}]}}'})
    assert run(pack) == []


def test_hook_command_is_read_as_bash_splits_it(tmp_path):
    """perfpack.shell's tokenizer: `run.sh;echo` is the script then another command, and a here-document's
    body is text the script reads (a second tokenizer saw `run.sh;echo` and the body's path as scripts)."""
    command = ('\\"${CLAUDE_PLUGIN_ROOT}\\"/hooks/run.sh;echo done 2>/dev/null && '
               '${CLAUDE_PLUGIN_ROOT}/hooks/log.sh <<EOF\\n/nowhere/setup.sh\\nEOF')
    hooks = ('{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "' + command + '"}]}]}}')
    pack = write_pack(tmp_path, {"hooks/hooks.json": hooks, "hooks/run.sh": "#!/bin/sh\n"})
    findings = run(pack)
    assert rules_of(findings) == ["PP406"] and "`${CLAUDE_PLUGIN_ROOT}/hooks/log.sh`" in findings[0].message
    write_pack(tmp_path, {"hooks/log.sh": "#!/bin/sh\n"})
    assert run(pack) == []


def test_hook_script_path_too_long_is_a_finding_not_a_crash(tmp_path):
    command = "${CLAUDE_PLUGIN_ROOT}/" + "a" * 5000 + ".sh"
    pack = write_pack(tmp_path, {"hooks/hooks.json": '{"hooks": {"Stop": [{"hooks": [{"type": "command", '
                                 f'"command": "{command}"}}]}}]}}}}'})
    assert rules_of(run(pack)) == ["PP406"]


def test_oversized_json_is_refused_unparsed(tmp_path):
    pack = write_pack(tmp_path, {"hooks/hooks.json": '{"hooks": {}, "pad": "' + "x" * (4 * 1024 * 1024)
                                 + '"}'})
    assert rules_of(run(pack)) == ["PP101"]


def test_late_frontmatter_is_reported_on_its_own_line(tmp_path):
    pack = write_pack(tmp_path, {"agents/fast-agent.md": " \n\n---\nname: fast-agent\ndescription: x\n---\n"})
    assert [(f.rule, f.line) for f in run(pack)] == [("PP104", 3)]
