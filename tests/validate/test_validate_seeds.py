"""The five real-world seed files, placed as a pack, give exactly their real defects."""

from __future__ import annotations

import shutil
from collections import Counter

from validate_helpers import FIXTURES, run

SEEDS = FIXTURES / "seeds"


def seed_pack(tmp_path):
    layout = {
        "000-performance-optimization-specialist.md": "agents/performance-optimization-specialist.md",
        "001-performance-engineer.md": "agents/performance-engineer.md",
        "002-performance-engineer.md": "agents/team/performance-engineer.md",
        "004-performance-engineering-lead.md": "agents/performance-engineering-lead.md",
        "003-optimize-command.md": "commands/optimize.md",
    }
    for source, dest in layout.items():
        (tmp_path / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SEEDS / source, tmp_path / dest)
    return tmp_path


def test_seed_pack_gives_exactly_the_real_defects(tmp_path):
    findings = run(seed_pack(tmp_path))
    got = Counter((f.path, f.rule, f.line) for f in findings)
    spec = "agents/performance-optimization-specialist.md"
    eng = "agents/performance-engineer.md"
    team = "agents/team/performance-engineer.md"
    lead = "agents/performance-engineering-lead.md"
    cmd = "commands/optimize.md"
    expected = Counter({
        (spec, "PP205", 4): 1,   # model: thinking
        (spec, "PP109", 5): 1,   # color: Red
        (spec, "PP111", 16): 1,  # /Users/odgrim/...
        (eng, "PP106", 3): 1,    # <example> description does not parse
        (eng, "PP204", 2): 1,    # duplicate performance-engineer
        (eng, "PP112", 3): 1,    # 1357-character description
        (eng, "PP211", 22): 1,   # DELEGATE TO database-specialist
        (eng, "PP211", 39): 1,   # DELEGATES TO: ..., ml-orchestrator
        (team, "PP106", 3): 1,
        (team, "PP204", 2): 1,
        (team, "PP112", 3): 1,
        (lead, "PP110", 6): 1,   # version
        (lead, "PP110", 7): 1,   # agents
        **{(lead, "PP210", line): 1 for line in range(10, 16)},  # six missing skills
        (lead, "PP209", 16): 1,  # allowed-tools in an agent
        (lead, "PP212", 18): 1,  # triggers in another tool's shape
        **{(lead, "PP211", line): 1 for line in (46, 47, 48, 49)},
        (lead, "PP211", 50): 2,  # python-pro / julia-pro
        (lead, "PP110", 17): 1,  # a perfpack key, unknown to Claude Code
        (spec, "PP207", 6): 1,   # TodoWrite: not given to subagents
        # (an unquoted list argument-hint is coerced since CL 2.1.47: no PP303 any more)
        **{(cmd, "PP301", line): 1 for line in (14, 17, 23, 26, 27, 30, 33, 135, 136)},
        (cmd, "PP305", 20): 1,   # cd /home/cvat/...: outside the project, the CLI refuses it
        (cmd, "PP111", 20): 1,   # cd /home/cvat/...
    })
    assert got == expected


def test_seed_messages_name_the_consequence(tmp_path):
    findings = {(f.path, f.rule): f for f in run(seed_pack(tmp_path))}
    yaml_error = findings[("agents/performance-engineer.md", "PP106")]
    assert yaml_error.col == 289 and "skips this project agent" in yaml_error.message
    assert "description: >-" in yaml_error.fix
    assert findings[("agents/performance-optimization-specialist.md", "PP109")].fix == "color: red"
    assert "every tool" in findings[("agents/performance-engineering-lead.md", "PP209")].message
    assert "aborts the whole command" in findings[("commands/optimize.md", "PP301")].message


def test_seed_yaml_error_as_plugin_agent_says_it_loads_with_empty_metadata(tmp_path):
    pack = seed_pack(tmp_path)
    (pack / ".claude-plugin").mkdir()
    (pack / ".claude-plugin" / "plugin.json").write_text('{"name": "seeds"}')
    errors = [f for f in run(pack) if f.rule == "PP106"]
    assert len(errors) == 2
    assert all("plugin:performance-engineer" in f.message and "empty metadata" in f.message for f in errors)
