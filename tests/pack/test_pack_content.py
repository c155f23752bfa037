"""The pack's text: three agents and /optimize load as Claude Code reads them, carry the substance the
issue asks for, call only real perfpack commands, and hold nothing left over from the seeds."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from packcheck import (
    AGENT_NAMES,
    BUILTIN_AGENTS,
    COLORS,
    COMMAND_TOOLS,
    DESCRIPTION_BUDGET,
    KNOWN_TOOLS,
    MODELS,
    NEVER_OFFERED,
    PACK,
    agent_path,
    bang_commands,
    bang_problems,
    leftovers,
    missing_phrases,
    perfpack_calls,
    split_tools,
)

from perfpack.cli import COMMANDS
from perfpack.frontmatter import read_frontmatter
from perfpack.packmeta import read_pack_meta

OPTIMIZE = PACK / "commands" / "optimize.md"
PACK_FILES = [agent_path(name) for name in AGENT_NAMES] + [OPTIMIZE]
MEMORY_SUBCOMMANDS = {"task", "insight", "collab", "message", "unread", "search", "load", "shared", "save",
                      "export", "import", "compact", "forget"}

# The perfpack commands each agent's workflow depends on (issue 3 + DESIGN.md).
# Issues 18 and 19: the agents profile with `perfpack profile` and read query plans with `perfpack explain`.
# Issue 15: each names profile (and profile diff), explain, load and memory (search/load first, forget).
REQUIRED_CALLS = {
    "performance-optimization-specialist": {"snapshot", "bench", "compare", "baseline", "report", "memory",
                                            "commits", "profile", "explain", "load"},
    "performance-engineer": {"snapshot", "bench", "compare", "baseline", "report", "memory", "commits",
                             "profile", "explain", "load"},
    "performance-engineering-lead": {"snapshot", "bench", "compare", "baseline", "report", "memory",
                                     "commits", "profile", "explain", "load"},
}
# The table rows every agent carries (issue 15), and the evidence rule its final report is held to.
REQUIRED_TOOL_ROWS = ["perfpack profile --name NAME -- CMD", "perfpack profile diff", "perfpack explain --db",
                      "perfpack load URL --rate RPS", "perfpack memory search", "perfpack memory load",
                      "perfpack memory insight", "is merged", "perfpack memory forget --match",
                      "Every figure in your final report was measured with perfpack"]

# The substance issue 3 requires of each agent, as phrases that must appear.
REQUIRED_SUBSTANCE = {
    "performance-optimization-specialist": [
        "Profile before optimizing", "EXPLAIN ANALYZE", "EXPLAIN QUERY PLAN", "missing indexes",
        "Verify indexes are used", "Reduce database round-trips", "batch", "Measure before and after",
        "perfpack bench --name", "perfpack compare", "performance report", "perfpack report --out",
        "Completion criteria", "no correctness regressions",
    ],
    "performance-engineer": [
        "Find the bottleneck system-wide", "Monitoring and SLOs", "error budget", "Load and capacity testing",
        "Stress tests", "Capacity plans", "Memory, CPU and concurrency", "Batch processing",
        "database-specialist", "ml-specialist", "If the project has no such agent, use `general-purpose`",
        "Query first", "perfpack memory search", "Record only genuine learning",
        "I expected X, but Y happened",
        "perfpack memory insight", "at most 5 files and 500 changed lines, one logical change",
        "git commit -s", "Assisted-By:", "perfpack commits check --staged",
    ],
    "performance-engineering-lead": [
        "The 5-step performance method", "**Baseline**", "**Profile**", "**Optimize**", "**Validate**",
        "**Monitor**", "Pre-response checks", "Baseline documented", "Bottleneck identified",
        "Impact quantified", "Regression prevention", "Monitoring active",
        "| P50 latency | < 100 ms |", "| P95 latency | < 300 ms |", "| P99 latency | < 1 s |",
        "| Error rate | < 0.1 % |", "Caching (multi-tier)", "invalidation", "Connection pooling",
        "pool_size", "Load testing (k6)", "thresholds", "Anti-patterns", "N+1 queries", "Final checklist",
        "Delegation", "| `performance-engineer` |", "| `performance-optimization-specialist` |",
    ],
}


def _frontmatter(path: Path):
    fm = read_frontmatter(path)
    assert fm.unreadable is None, fm.unreadable
    assert fm.error is None, f"{path.name}: YAML error {fm.error}"
    assert fm.data is not None and fm.closed, f"{path.name}: no frontmatter"
    assert not fm.has_bom and not fm.has_crlf, f"{path.name}: BOM or CRLF"
    return fm


def _git_repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "app.py").write_text("print('hello')\n")
    return root


# ---- the checks can fail ---------------------------------------------------------------------------

def test_checks_catch_bad_samples() -> None:
    assert leftovers("Read Serena memories, then docker exec spheroseg-backend") == \
        ["serena", "spheroseg", "docker exec"]
    assert leftovers("APES Performance Architecture") == ["APES"]
    assert leftovers("shapes and tapes are fine") == []
    assert bang_problems("docker stats --no-stream", "Bash(perfpack snapshot:*)")
    assert "contains `$` (arguments are substituted raw into ! lines)" in \
        bang_problems("perfpack snapshot $ARGUMENTS", "Bash(perfpack snapshot:*)")
    assert bang_problems("perfpack bench -- true", "Bash(perfpack snapshot:*)") == \
        ["not allowed by allowed-tools (the whole command would abort)"]
    assert bang_problems("perfpack snapshot", "Bash(perfpack snapshot:*), Read") == []
    fallback = 'perfpack snapshot 2>/dev/null || echo "perfpack is not installed here"'
    assert bang_problems(fallback, "Bash(perfpack snapshot:*)") == []
    assert bang_problems(fallback.replace("here", "$HOME"), "Bash(perfpack snapshot:*)")
    assert bang_problems(fallback.replace("||", ";"), "Bash(perfpack snapshot:*)")
    assert bang_commands("x\n!`perfpack snapshot`\nsee `perfpack bench`!`no`\n```!\nls -la\n```\n") == \
        ["perfpack snapshot", "ls -la"]
    assert perfpack_calls("run `perfpack memory search \"x\"` then /usr/bin/perfpack-x no") == \
        {("memory", "search")}
    assert split_tools("Read, Agent(a, b), Bash") == ["Read", "Agent(a, b)", "Bash"]
    assert missing_phrases("P95 latency  < 300 ms", ["p95 latency < 300 ms", "P99"]) == ["P99"]


# ---- agents ------------------------------------------------------------------------------------------

def test_pack_has_exactly_the_three_agents() -> None:
    names = sorted(p.stem for p in (PACK / "agents").glob("*.md"))
    assert names == sorted(AGENT_NAMES)


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_agent_frontmatter_is_what_claude_code_accepts(name: str) -> None:
    data = _frontmatter(agent_path(name)).data
    assert data["name"] == name
    assert data["model"] in MODELS
    assert data["color"] in COLORS
    assert data["memory"] == "project"  # perfpack writes the digest to .claude/agent-memory/<agent>/
    assert isinstance(data["tools"], str), "tools must be a comma string, not a YAML list"
    for entry in split_tools(data["tools"]):
        base = entry.split("(", 1)[0]
        assert base in KNOWN_TOOLS, f"{name}: unknown tool {entry!r}"
    for key in ("allowed-tools", "allowedTools", "disallowed-tools", "version", "skills", "agents"):
        assert key not in data, f"{name}: {key} is not an agent key (or names something that is not there)"


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_agent_description_is_short_and_says_when(name: str) -> None:
    description = _frontmatter(agent_path(name)).data["description"]
    assert isinstance(description, str)
    assert len(description) <= DESCRIPTION_BUDGET, f"{name}: {len(description)} chars > {DESCRIPTION_BUDGET}"
    assert description.startswith(("Use PROACTIVELY when", "Use PROACTIVELY for"))
    assert "<example>" not in description and "\n" not in description


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_delegation_targets_exist_or_are_declared_external(name: str) -> None:
    fm = _frontmatter(agent_path(name))
    meta = read_pack_meta(PACK / "agents").agents[name]  # perfpack's own keys live in agents/perfpack.toml
    external = meta.external_agents
    for target, fallback in external.items():
        assert fallback in BUILTIN_AGENTS, f"{name}: fallback {fallback!r} of {target!r} is not a built-in"
        # The fallback must be told to the model too, not only to perfpack.
        assert re.search(rf"`{target}`[^\n]*{fallback}", fm.body), f"{name}: body does not state the fallback"
    known = set(AGENT_NAMES) | BUILTIN_AGENTS | set(external)
    for target in meta.delegates_to:
        assert target in set(AGENT_NAMES) | BUILTIN_AGENTS, (
            f"{name}: delegates-to {target!r} is not pack/built-in"
        )
    for entry in split_tools(fm.data["tools"]):
        if entry.startswith("Agent("):
            for target in entry[6:-1].split(","):
                assert target.strip() in known, f"{name}: Agent({target.strip()}) is unknown"
    # Agent-like names in the body's backticks (x-specialist, x-engineer, ...) must be known.
    for mention in re.findall(r"`([a-z]+(?:-[a-z]+)+)`", fm.body):
        roles = r"-(specialist|engineer|lead|auditor|optimizer|debugger|orchestrator|reviewer)$"
        if re.search(roles, mention):
            assert mention in known, f"{name}: body delegates to unknown agent {mention!r}"


def test_lead_can_start_its_delegates() -> None:
    data = _frontmatter(agent_path("performance-engineering-lead")).data
    agent_entries = [e for e in split_tools(data["tools"]) if e.startswith("Agent(")]
    assert agent_entries, "the lead delegates, so it needs the Agent tool"
    allowed = {t.strip() for t in agent_entries[0][6:-1].split(",")}
    assert set(read_pack_meta(PACK / "agents").agents["performance-engineering-lead"].delegates_to) <= allowed


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_agent_substance(name: str) -> None:
    fm = _frontmatter(agent_path(name))
    assert missing_phrases(fm.body, REQUIRED_SUBSTANCE[name]) == []


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_agent_uses_real_perfpack_commands(name: str) -> None:
    body = _frontmatter(agent_path(name)).body
    calls = perfpack_calls(body)
    mentioned = {sub for sub, _ in calls}
    assert mentioned <= set(COMMANDS), f"{name}: not perfpack commands: {mentioned - set(COMMANDS)}"
    assert REQUIRED_CALLS[name] <= mentioned, f"{name}: missing {REQUIRED_CALLS[name] - mentioned}"
    memory_subs = {sub2 for sub, sub2 in calls if sub == "memory"} - {None}  # bare mentions are prose
    assert memory_subs and memory_subs <= MEMORY_SUBCOMMANDS, memory_subs


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_agent_names_its_perfpack_commands_in_one_table(name: str) -> None:
    body = _frontmatter(agent_path(name)).body
    table = body.split("## Tools you rely on (perfpack)", 1)[1].split("\n## ", 1)[0]
    assert missing_phrases(table, REQUIRED_TOOL_ROWS) == []
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`perfpack " in line]
    assert all(len(row) <= 200 for row in rows), [row for row in rows if len(row) > 200]


def test_seed_engineers_merged_into_one_agent() -> None:
    body = _frontmatter(agent_path("performance-engineer")).body
    # seed 001 (monitoring, delegation, memory) and seed 002 (resources, concurrency, journal, commits)
    assert missing_phrases(body, ["Distributed tracing", "delegate", "Concurrency", "journal",
                                  "Stop and reassess", "Multi-commit unit"]) == []
    assert len(re.findall(r"^# ", body, re.MULTILINE)) == 1, "one agent, one title"


# ---- leftovers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PACK_FILES, ids=lambda p: p.name)
def test_no_seed_leftovers(path: Path) -> None:
    assert leftovers(path.read_text(encoding="utf-8")) == []


# ---- /optimize ---------------------------------------------------------------------------------------

def test_optimize_frontmatter() -> None:
    fm = _frontmatter(OPTIMIZE)
    raw = fm.text
    assert isinstance(fm.data["description"], str) and fm.data["description"]
    assert isinstance(fm.data["argument-hint"], str), "an unquoted [a] [b] hint is a YAML list"
    assert re.search(r'^argument-hint: "[^"]+"$', raw, re.MULTILINE), "argument-hint must be quoted"
    allowed = fm.data["allowed-tools"]
    assert isinstance(allowed, str) and "Bash(perfpack snapshot:*)" in allowed
    # bench/compare run arbitrary commands: they must stay behind Claude Code's permission prompt.
    assert "Bash(perfpack bench" not in allowed and "Bash(perfpack compare" not in allowed
    assert "Bash(perfpack:*)" not in allowed and "Bash(*)" not in allowed


def test_optimize_bang_lines_are_perfpack_only_and_allowed() -> None:
    fm = _frontmatter(OPTIMIZE)
    commands = bang_commands(fm.body)
    assert any(command.startswith("perfpack snapshot") for command in commands)
    for command in commands:
        assert bang_problems(command, fm.data["allowed-tools"]) == [], command


def test_optimize_snapshot_line_never_aborts_without_perfpack(tmp_path: Path) -> None:
    """A clone without perfpack: the `!` line exits 0 and says in one line how to get the toolkit."""
    fm = _frontmatter(OPTIMIZE)
    command = next(c for c in bang_commands(fm.body) if c.startswith("perfpack snapshot"))
    empty = tmp_path / "bin"
    empty.mkdir()
    (empty / "sh").symlink_to("/bin/sh")
    proc = subprocess.run(["/bin/sh", "-c", command], env={"PATH": str(empty)}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.count("\n") == 1 and "perfpack is not installed here" in proc.stdout
    assert "perfpack install" in proc.stdout


def test_optimize_names_only_tools_that_exist() -> None:
    fm = _frontmatter(OPTIMIZE)
    for entry in split_tools(fm.data["allowed-tools"]):
        assert entry.split("(", 1)[0] in COMMAND_TOOLS, entry
    for name in NEVER_OFFERED:
        assert not re.search(rf"\b{name}\b", fm.text or ""), f"/optimize names {name}, which no CLI offers"
    for agent in AGENT_NAMES:
        text = agent_path(agent).read_text(encoding="utf-8")
        for name in NEVER_OFFERED:
            assert not re.search(rf"\b{name}\b", text), f"{agent} names {name}, which no subagent is offered"


def test_optimize_works_with_background_agents() -> None:
    """2.1.198+: the Agent tool answers "Async agent launched…" and reports come later as notifications."""
    body = _frontmatter(OPTIMIZE).body
    assert missing_phrases(body, [
        "all their Agent tool calls in ONE message", "Async agent launched",
        "until every one of them has handed back", "consolidate (after every hand-back)",
        "When the Agent tool returns the reports directly",
    ]) == []
    assert body.index("until every one of them has handed back") < body.index("## Step 4: consolidate")


def test_optimize_flow() -> None:
    body = _frontmatter(OPTIMIZE).body
    assert "$ARGUMENTS" in body  # the target reaches the model in prose
    assert missing_phrases(body, [
        "Phase 1", "IN PARALLEL", "**performance-engineer**", "**performance-optimization-specialist**",
        "**Explore** (built-in)", "**general-purpose** (built-in)", "**performance-engineering-lead**",
        "perfpack memory search", "Phase 2", "perfpack bench --name", "perfpack compare", "--budget",
        "perfpack report --out", "perfpack commits check --staged", "perfpack memory insight",
        "An improvement that was not measured is not claimed",
        "perfpack profile --", "perfpack profile diff", "perfpack explain --db",
    ]) == []
    # (the `!` line's fallback message, "perfpack is not installed here", is prose, not a call)
    mentioned = {sub for sub, _ in perfpack_calls(re.sub(r'\|\| echo "[^"]*"', "", body))}
    assert mentioned <= set(COMMANDS)


# ---- cross-checks against the real CLI, once the parts exist -----------------------------------------

def test_pack_passes_validate_strict(perfpack) -> None:
    pytest.importorskip("perfpack.validate.cli", reason="perfpack.validate is not written yet (issue 2)")
    result = perfpack("validate", "--strict", str(PACK / "agents"), str(OPTIMIZE), cwd=PACK)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validator_holds_our_description_budget(perfpack, tmp_path: Path) -> None:
    """The validator's own description rule (PP112) agrees with DESCRIPTION_BUDGET, and can fail."""
    pytest.importorskip("perfpack.validate.cli", reason="perfpack.validate is not written yet (issue 2)")
    root = _git_repo(tmp_path)
    claude = root / ".claude"
    (claude / "agents").mkdir(parents=True)
    (claude / "commands").mkdir()
    (claude / "perfpack").mkdir()
    for path in PACK_FILES:
        target = claude / ("commands" if path == OPTIMIZE else "agents") / path.name
        target.write_bytes(path.read_bytes())
    meta = "perfpack.toml"  # travels with the agents, as install copies it
    (claude / "agents" / meta).write_bytes((PACK / "agents" / meta).read_bytes())
    config = claude / "perfpack" / "config.toml"
    config.write_text(f"[validate]\nmax-description = {DESCRIPTION_BUDGET}\n")
    result = perfpack(
        "validate", "--strict", "--format", "json", str(claude), cwd=root
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config.write_text("[validate]\nmax-description = 200\n")
    result = perfpack("validate", "--strict", "--format", "json", str(claude), cwd=root)
    assert result.returncode == 1 and "PP112" in result.stdout, result.stdout + result.stderr


def test_snapshot_line_runs_and_exits_0(perfpack, tmp_path: Path) -> None:
    pytest.importorskip("perfpack.snapshot.cli", reason="perfpack.snapshot is not written yet (issue 3.3)")
    result = perfpack("snapshot", cwd=_git_repo(tmp_path), timeout=30)
    assert result.returncode == 0, result.stderr  # a non-zero `!` line aborts /optimize
    assert result.stdout.strip()


@pytest.mark.parametrize("sub", ["task", "insight", "collab", "message", "unread", "search", "load"])
def test_memory_subcommands_the_agents_name_exist(perfpack, sub: str) -> None:
    pytest.importorskip("perfpack.memory.cli", reason="perfpack.memory is not written yet (issue 6)")
    result = perfpack("memory", sub, "--help")
    assert result.returncode == 0, result.stderr


def test_memory_insight_examples_in_agents_are_accepted(perfpack, tmp_path: Path) -> None:
    pytest.importorskip("perfpack.memory.cli", reason="perfpack.memory is not written yet (issue 6)")
    root = _git_repo(tmp_path)
    examples = []
    for name in AGENT_NAMES:
        body = _frontmatter(agent_path(name)).body
        examples += re.findall(r"echo '(\{.*?\})' \| perfpack memory insight ([a-z-]+)\n", body)
    assert len(examples) >= 2
    for example, agent in examples:
        assert agent in AGENT_NAMES
        json.loads(example)  # the example itself is valid JSON
        result = perfpack("memory", "insight", agent, cwd=root, input=example,
                          env={"CLAUDE_PROJECT_DIR": str(root)})
        assert result.returncode == 0, result.stderr
        # what was recorded is found again the way the agents are told to look (search by words)
        found = perfpack("memory", "search", json.loads(example)["area"], "--agent", agent, cwd=root,
                         env={"CLAUDE_PROJECT_DIR": str(root)})
        assert found.returncode == 0 and json.loads(example)["insight"] in found.stdout, found.stdout
    # Claude Code's own memory folder for `memory: project` agents gets the digest
    assert (root / ".claude" / "agent-memory" / examples[0][1] / "MEMORY.md").is_file()


def test_bench_options_the_agents_name_exist(perfpack) -> None:
    pytest.importorskip("perfpack.bench.cli", reason="perfpack bench is not written yet (issue 5)")
    for args, options in [(("bench", "--help"), ["--runs", "--name", "--save", "--budget", "--shell"]),
                          (("compare", "--help"), ["--vs", "--runs"]), (("report", "--help"), ["--out"]),
                          (("baseline", "list", "--help"), []), (("baseline", "show", "--help"), [])]:
        result = perfpack(*args)
        assert result.returncode == 0, result.stderr
        assert [o for o in options if o not in result.stdout] == [], args


def test_profile_and_explain_usage_the_pack_names_exists(perfpack) -> None:
    """Every `perfpack profile` / `perfpack explain` option the agents and /optimize tell the model to use
    is one the CLI accepts (a renamed option would send the model a usage error)."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in PACK_FILES)
    for args in (("profile",), ("profile", "diff"), ("explain",)):
        helped = perfpack(*args, "--help")
        assert helped.returncode == 0, helped.stderr
        shown = [m.group(1) for m in re.finditer(r"perfpack " + r" ".join(args) + r"\b([^`\n]*)", text)]
        assert shown, f"the pack never shows `perfpack {' '.join(args)}`"
        named = {o for line in shown for o in re.findall(r"(?<![\w-])--[a-z][\w-]*", line)}
        assert [o for o in sorted(named) if o not in helped.stdout] == [], args


def test_commits_check_staged_exists(perfpack) -> None:
    pytest.importorskip("perfpack.commits.cli", reason="perfpack commits is not written yet (issue 7)")
    result = perfpack("commits", "check", "--help")
    assert result.returncode == 0, result.stderr
    assert "--staged" in result.stdout


def test_engineer_commit_example_passes_perfpack_commits(perfpack, tmp_path: Path) -> None:
    """The example message the engineer copies, plus the sign-off `git commit -s` adds, is accepted."""
    pytest.importorskip("perfpack.commits.cli", reason="perfpack commits is not written yet (issue 7)")
    body = _frontmatter(agent_path("performance-engineer")).body
    example = re.search(r"```\n(perf\([^\n]*\n.*?)```", body, re.DOTALL)
    assert example, "the engineer shows an example commit message"
    root = _git_repo(tmp_path)
    message = tmp_path / "MSG"
    message.write_text(example.group(1).rstrip() + "\nSigned-off-by: A Dev <dev@example.com>\n")
    result = perfpack("commits", "msg", "--no-size", str(message), cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    # ... and the check can fail: a mixed-concern subject without a sign-off is refused.
    message.write_text("perf: add monitoring and fix leaks\n")
    assert perfpack("commits", "msg", "--no-size", str(message), cwd=root).returncode == 1


def test_commit_hook_starts_only_for_git_commit_on_both_routes(perfpack, tmp_path: Path) -> None:
    """The PreToolUse hook carries an `if` filter (CLI >= 2.1.85): a Bash call that is not a `git commit`
    starts no process. The plugin's hooks/hooks.json and what `perfpack install` writes agree."""
    plugin = json.loads((PACK / "hooks" / "hooks.json").read_text(encoding="utf-8"))
    [group] = plugin["hooks"]["PreToolUse"]
    assert group["matcher"] == "Bash" and [h["if"] for h in group["hooks"]] == ["Bash(git* commit*)"]
    root = _git_repo(tmp_path)
    result = perfpack("install", "--project", str(root), cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    settings = json.loads((root / ".claude" / "settings.json").read_text(encoding="utf-8"))
    ours = [(g.get("matcher"), h.get("if")) for g in settings["hooks"]["PreToolUse"] for h in g["hooks"]
            if "pre-tool-use" in h.get("command", "")]
    assert ours == [("Bash", "Bash(git* commit*)")]
