"""Derives the validator's per-version Claude Code facts from the oracle's recorded verdicts.

Output: src/perfpack/validate/claude_code_facts.json, read by perfpack.validate.claude_code. Everything here
is what the real CLI did with a generated case, never what a document says.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cases import TOOL_NAMES, Case

FACTS_PATH = Path(__file__).resolve().parents[2] / "src" / "perfpack" / "validate" / "claude_code_facts.json"
_KEYS_WARNING = re.compile(r"frontmatter keys? Claude Code does not recognize or apply: (.*)$")


def unknown_keys_in(log: list[str]) -> list[str]:
    for line in log:
        match = _KEYS_WARNING.search(line)
        if match:
            return sorted(re.findall(r'"([^"]+)"', re.sub(r"\(did you mean [^)]*\)", "", match.group(1))))
    return []


def _single_agent(verdict: dict[str, Any]) -> dict[str, Any] | None:
    agents = verdict.get("agents") or {}
    return next(iter(agents.values())) if len(agents) == 1 else None


def derive(data: dict[str, Any], cases: list[Case]) -> dict[str, Any]:
    by_note = {c.note: c for c in cases}
    verdicts = data["verdicts"]
    tools: dict[str, Any] = {}
    for tool in TOOL_NAMES:
        entry: dict[str, Any] = {"offered": None}
        for note, key in ((f"tool {tool} alone", "offered_alone"), (f"tool {tool}", "offered")):
            case = by_note.get(note)
            agent = _single_agent(verdicts.get(case.id, {})) if case else None
            if agent is None:
                continue
            spawn = agent["spawn"]
            sent = (spawn.get("requested") or {}).get("tools")
            if "refused" in spawn or sent == []:
                entry[key] = False
            elif sent is not None:
                extra = [t for t in sent if t != "Read"] if key == "offered" and not tool.startswith("Read") \
                    else sent
                entry[key] = bool(extra)
                if extra:
                    entry.setdefault("sent_as", extra)
        tools[tool] = entry
    keys_known, keys_warned = [], []
    for case in cases:
        if case.kind != "agent" or not case.note.startswith("key "):
            continue
        verdict = verdicts.get(case.id, {})
        key = case.note[4:]
        (keys_warned if key in unknown_keys_in(verdict.get("log", [])) else keys_known).append(key)
    models: dict[str, Any] = {}
    for case in cases:
        if case.kind == "agent" and case.note.startswith("model "):
            agent = _single_agent(verdicts.get(case.id, {}))
            if agent is None:
                models[case.note[6:]] = {"loaded": False}
                continue
            spawn = agent["spawn"]
            models[case.note[6:]] = {"loaded": True, "requested": (spawn.get("requested") or {}).get("model"),
                                     "api_error": "api_error" in spawn}
    default_model = None
    minimal = by_note.get("valid minimal agent")
    if minimal:
        agent = _single_agent(verdicts.get(minimal.id, {}))
        default_model = ((agent or {}).get("spawn", {}).get("requested") or {}).get("model")
    star = tools.get("*", {}).get("sent_as") or []
    return {"builtin_agents": data["builtins"]["agents"], "tools": tools, "session_tools": sorted(star),
            "agent_keys_warned": sorted(keys_warned), "agent_keys_silent": sorted(keys_known),
            "warns_on_unknown_keys": bool(keys_warned), "models": models, "inherited_model": default_model}


def write_facts(oracle_dir: Path, cases: list[Case], out: Path = FACTS_PATH) -> Path:
    facts = {}
    for path in sorted(oracle_dir.glob("*.json")):
        data = json.loads(path.read_text())
        facts[data["cli_version"]] = derive(data, cases)
    out.write_text(json.dumps({"generated_by": "scripts/record_oracle.py", "versions": facts}, indent=1,
                              sort_keys=True) + "\n")
    return out
