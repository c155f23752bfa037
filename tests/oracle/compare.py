"""Compares the validator's verdicts with what the real CLI did (the recorded oracle), fact by fact.

For each case both sides give the same small set of facts: agent loaded, how its spawn went (ok / no tools /
model refused), which declared tools it lost, which keys the CLI flags as unknown, the description it shows;
command ran or was refused; plugin loaded and how many agents it brought. A case agrees when every fact
agrees.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cases import AGENT, COMMAND, PLUGIN, SKILL, Case
from derive import unknown_keys_in

from perfpack.findings import Finding
from perfpack.frontmatter import parse_frontmatter_text
from perfpack.validate import claude_code as cc
from perfpack.validate.engine import Options, validate_paths

ORACLE_DIR = Path(__file__).resolve().parents[1] / "data" / "oracle"
DROPPING = {"PP101", "PP102", "PP104", "PP105", "PP106", "PP113", "PP114", "PP201", "PP213"}
REFUSING_BANG = {"PP301", "PP305"}
PLUGIN_REFUSED = {"PP401", "PP402"}
_TICKED = re.compile(r"`([^`]+)`")


def load(version: str) -> dict[str, Any]:
    return json.loads((ORACLE_DIR / f"{version}.json").read_text())


def recorded_versions() -> list[str]:
    return sorted((p.stem for p in ORACLE_DIR.glob("*.json")), key=lambda v: [int(x) for x in v.split(".")])


def _norm(text: Any) -> str:
    return " ".join(str(text).split())


def _errors(findings: Iterable[Finding], rules: set[str]) -> list[Finding]:
    return [f for f in findings if f.severity == "error" and f.rule in rules]


# ---- the CLI's side -------------------------------------------------------------------------------------
def oracle_facts(case: Case, verdict: dict[str, Any], version: str) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if case.kind == AGENT:
        agents = verdict.get("agents") or {}
        facts["loaded"] = bool(agents)
        if agents:
            agent = next(iter(agents.values()))
            spawn = agent["spawn"]
            sent = (spawn.get("requested") or {}).get("tools")
            if "api_error" in spawn:
                facts["spawn"] = "model-refused"
            elif "refused" in spawn or sent == []:
                facts["spawn"] = "no-tools"
            else:
                facts["spawn"] = "ok"
            listed = agent.get("tools_listed") or ""
            if facts["spawn"] == "ok" and listed and listed != "All tools" and sent is not None:
                lost = set()
                renamed = {n: v["sent_as"][0] for n, v in cc.facts(version)["tools"].items()
                           if v.get("sent_as")}
                for entry in _split_listed(listed):
                    base = cc.tool_base(entry)
                    if base.startswith("mcp__"):
                        continue
                    if base not in sent and renamed.get(base, renamed.get(entry)) not in sent:
                        lost.add(base)
                facts["lost_tools"] = sorted(lost)
            facts["description"] = _norm(agent.get("description"))
        if cc.warns_on_unknown_keys(version):
            facts["unknown_keys"] = unknown_keys_in(verdict.get("log", []))
    elif case.kind in (COMMAND, SKILL):
        entry = (verdict.get("commands") or {}).get(case.id) or {}
        outcome = entry.get("outcome")
        facts["outcome"] = {"failed": "ran"}.get(outcome, outcome)
    elif case.kind == PLUGIN:
        facts["loaded"] = bool(verdict.get("plugin_loaded"))
        if facts["loaded"]:
            facts["agents"] = len(verdict.get("agents") or {})
        if facts["loaded"] and "commands" in case.tags:
            facts["commands"] = {name: {"failed": "ran"}.get(str(c.get("outcome")), c.get("outcome"))
                                 for name, c in sorted((verdict.get("commands") or {}).items())}
    return facts


def _split_listed(listed: str) -> list[str]:
    out, depth, current = [], 0, ""
    for char in listed:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        out.append(current.strip())
    return out


# ---- the validator's side -------------------------------------------------------------------------------
def validator_facts(case: Case, findings: list[Finding], version: str, oracle: dict[str, Any],
                    plugin_agents: int | None = None) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    if case.kind == AGENT:
        loaded = not _errors(findings, DROPPING)
        facts["loaded"] = loaded
        if _errors(findings, {"PP204"}) and "loaded" in oracle:
            facts["loaded"] = oracle["loaded"]  # one of the duplicates loads: which one is not predicted
        if facts["loaded"] and "spawn" in oracle:
            if _errors(findings, {"PP205"}):
                facts["spawn"] = "model-refused"
            elif _errors(findings, {"PP214"}):
                facts["spawn"] = "no-tools"
            else:
                facts["spawn"] = "ok"
            if "lost_tools" in oracle and facts["spawn"] == "ok":
                lost = set()
                for f in findings:
                    if f.rule in ("PP207", "PP208") and "disallow" not in f.message:
                        match = _TICKED.search(f.message)
                        if match:
                            lost.add(cc.tool_base(match.group(1)))
                facts["lost_tools"] = sorted(lost)
            if "description" in oracle:
                text = next(iter(case.files.values()))
                fm = parse_frontmatter_text(text)
                data = fm.data if fm.data is not None else fm.lenient_data
                # the agent list shows line one
                shown = str((data or {}).get("description")).split("\n", 1)[0]
                facts["description"] = _norm(shown)
                if len(oracle["description"]) >= 200 \
                        and facts["description"].startswith(oracle["description"]):
                    facts["description"] = oracle["description"]  # the list cuts long descriptions
        if "unknown_keys" in oracle:
            keys = set()
            for f in findings:
                if f.rule in ("PP110", "PP209"):
                    match = _TICKED.search(f.message)
                    if match:
                        keys.add(match.group(1))
            facts["unknown_keys"] = sorted(keys) if facts["loaded"] else oracle["unknown_keys"]
    elif case.kind in (COMMAND, SKILL):
        facts["outcome"] = "refused" if _errors(findings, REFUSING_BANG) else "ran"
        if oracle.get("outcome") not in ("ran", "refused"):
            facts["outcome"] = oracle.get("outcome")  # unknown / not invocable: not judged by the validator
    elif case.kind == PLUGIN:
        facts["loaded"] = not [f for f in _errors(findings, PLUGIN_REFUSED) if f.path.endswith("plugin.json")]
        if facts["loaded"] and "agents" in oracle:
            facts["agents"] = plugin_agents
        if facts["loaded"] and "commands" in oracle:
            facts["commands"] = {}
            for name, outcome in oracle["commands"].items():
                stem = name.split(":", 1)[-1]
                refused = [f for f in _errors(findings, REFUSING_BANG) if Path(f.path).stem == stem]
                facts["commands"][name] = "refused" if refused else "ran" if outcome in ("ran", "refused") \
                    else outcome
    return facts


def run_validator(cases: list[Case], version: str) -> dict[str, tuple[list[Finding], int | None]]:
    """Validate every case as the CLI saw it (one project; each plugin its own root): case id -> findings."""
    out: dict[str, tuple[list[Finding], int | None]] = {}
    with tempfile.TemporaryDirectory(prefix="oracle-validate-") as tmp:
        project = Path(tmp) / "project"
        (project / ".claude").mkdir(parents=True)
        owners: dict[str, str] = {}
        for case in cases:
            if case.kind == PLUGIN:
                continue
            for rel, content in case.files.items():
                path = project / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8", newline="")
                owners[str(path.resolve())] = case.id
        options = Options(cli_version=version)
        result = validate_paths([project], options, cwd=project)
        grouped: dict[str, list[Finding]] = {c.id: [] for c in cases}
        for finding in result.findings:
            cid = owners.get(str((project / finding.path).resolve()))
            if cid:
                grouped[cid].append(finding)
        for case in cases:
            if case.kind != PLUGIN:
                out[case.id] = (grouped[case.id], None)
                continue
            root = Path(tmp) / "plugins" / case.id
            for rel, content in case.files.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(content, encoding="utf-8", newline="")
            result = validate_paths([root], options, cwd=root)
            agents = _plugin_agent_count(root, result.findings)
            out[case.id] = (result.findings, agents)
    return out


def _plugin_agent_count(root: Path, findings: list[Finding]) -> int:
    from perfpack.validate.discover import AGENT as KIND
    from perfpack.validate.discover import discover

    # a plugin agent whose frontmatter is missing or broken still loads, named after its file
    kept = {"PP104", "PP105", "PP106"}
    dropped = {f.path for f in findings if f.severity == "error" and f.rule in (DROPPING - kept) | {"PP409"}}
    names = set()
    for target in discover([root]).targets:
        if target.kind == KIND:
            rel = str(target.path.relative_to(root))
            if rel not in dropped:
                fm = parse_frontmatter_text(target.path.read_text(encoding="utf-8", errors="replace"))
                name = (fm.data or {}).get("name") if fm.data else None
                names.add(name if isinstance(name, str) and name else target.path.stem)
    return len(names)


def compare(version: str, cases: list[Case]) -> tuple[int, int, list[tuple[str, str, dict, dict]]]:
    """(cases agreeing, cases compared, disagreements [(id, note, CLI facts, validator facts)])."""
    data = load(version)
    verdicts = data["verdicts"]
    results = run_validator([c for c in cases if c.id in verdicts], version)
    agree, total, diffs = 0, 0, []
    for case in cases:
        verdict = verdicts.get(case.id)
        if verdict is None:
            continue
        if verdict.get("digest") != case.digest:
            raise AssertionError(f"{case.id}: the generator changed since {version} was recorded; re-record: "
                                 f"python scripts/record_oracle.py --cli-version {version}")
        oracle = oracle_facts(case, verdict, version)
        findings, agents = results[case.id]
        mine = validator_facts(case, findings, version, oracle, agents)
        total += 1
        if mine == oracle:
            agree += 1
        else:
            diffs.append((case.id, case.note, oracle, mine))
    return agree, total, diffs
