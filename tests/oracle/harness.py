"""Loads the generated cases into the REAL Claude Code CLI (offline, scripted stand-in API) and records per
case what the CLI did: agent offered (name, description, tools as listed), spawned (model id requested, tools
sent) or refused (and why), command listed and run, each `!` line run or refused (the CLI's reason), plugin
loaded.

Many cases share one run: one project holds ~100 agents or commands, and the scripted model spawns every
agent and invokes every command through the Skill tool, a few per turn.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cases import AGENT, COMMAND, MARKER, PLUGIN, SKILL, Case
from scripted_api import ScriptedAPI, text, tool_use

RUN_TIMEOUT = 900
PER_TURN = 8  # tool calls the scripted model makes in one turn
CHUNK = 90  # cases per CLI run
AGENT_LIST = "Available agent types for the Agent tool:"
_MARK = re.compile(re.escape(MARKER) + r"([acsp]\d{3})")
_LOG_LINE = re.compile(r"^\S+ \[(WARN|ERROR)\] (.*)$")


def claude_binary(version: str) -> Path:
    base = os.environ.get("PERFPACK_E2E_CACHE") or str(Path.home() / ".cache" / "perfpack")
    return Path(base).expanduser() / f"claude-code-{version}" / "node_modules" / ".bin" / "claude"


def _env(api: ScriptedAPI, home: Path) -> dict[str, str]:
    return {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": "test", "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1", "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "IS_SANDBOX": "1",
            "CLAUDE_CODE_DISABLE_BACKGROUND_TASKS": "1", "LANG": "C.UTF-8"}


def _git_project(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "README.md").write_text("# shop\nA small shop.\n")
    (path / "app.py").write_text("print('shop')\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "o", "GIT_AUTHOR_EMAIL": "o@example.invalid",
           "GIT_COMMITTER_NAME": "o", "GIT_COMMITTER_EMAIL": "o@example.invalid"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "initial"]):
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True, timeout=60)


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    out = []
    for block in content or []:
        if isinstance(block, str):
            out.append(block)
        elif isinstance(block, dict):
            if isinstance(block.get("text"), str):
                out.append(block["text"])
            elif block.get("type") == "tool_result":
                out.extend(_texts(block.get("content")))
    return out


def _all_text(body: dict[str, Any]) -> str:
    parts = _texts(body.get("system"))
    for message in body.get("messages", []):
        parts.extend(_texts(message.get("content")))
    return "\n".join(parts)


def _agent_lines(body: dict[str, Any]) -> dict[str, str]:
    """name -> rest of its line in the agent list the model is shown."""
    agents: dict[str, str] = {}
    for chunk in _all_text(body).split(AGENT_LIST)[1:]:
        for line in chunk.split("\n\n", 1)[0].splitlines():
            if line.startswith("- ") and ": " in line:
                name, rest = line[2:].split(": ", 1)
                agents.setdefault(name, rest)
    return agents


class _Script:
    """The scripted model: spawns each listed non-built-in agent, then invokes each skill name, PER_TURN a
    turn."""

    def __init__(self, builtin_agents: set[str], skills: list[str]) -> None:
        self.builtin_agents = builtin_agents
        self.skills = skills
        self.actions: list[tuple[str, str]] | None = None
        self.first_main: dict[str, Any] | None = None

    def __call__(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        system = "\n".join(_texts(body.get("system")))
        if MARKER in system or MARKER in "\n".join(_texts((body.get("messages") or [{}])[0].get("content"))):
            # a subagent (its body is its system prompt; its prompt carries the marker too, so an agent whose
            # body the CLI does not send cannot re-run the main script and spawn agents recursively) or a
            # forked
            # command
            return [text("done")]
        if self.actions is None:
            self.first_main = body
            agents = [n for n in _agent_lines(body) if n not in self.builtin_agents]
            self.actions = [("Agent", n) for n in agents] + [("Skill", s) for s in self.skills]
        done = sum(1 for m in body.get("messages", []) if m.get("role") == "assistant"
                   for b in (m.get("content") if isinstance(m.get("content"), list) else [])
                   if isinstance(b, dict) and b.get("type") == "tool_use")
        batch = self.actions[done:done + PER_TURN]
        if not batch:
            return [text("end")]
        blocks = []
        for index, (tool, target) in enumerate(batch, start=done):
            tool_input = ({"description": "probe", "prompt": f"go {MARKER}subagent",
                           "subagent_type": target} if tool == "Agent"
                          else {"skill": target, "args": "probe-arg"})
            block = tool_use(tool, tool_input)
            block["id"] = f"toolu_oracle_{index:05d}"
            blocks.append(block)
        return blocks


def _run(version: str, project: Path, home: Path, script: _Script, extra: list[str], debug: Path,
         typed: list[str] | None = None) -> dict[str, Any]:
    """One session. With `typed`, each entry is sent as a user message (`/name args`) through stream-json
    input, as a user typing commands one after another; else the scripted model drives the session."""
    with ScriptedAPI(script) as api:
        started = time.monotonic()
        if typed is None:
            args, stdin_text = ["-p", "probe"], None
        else:
            args = ["-p", "--input-format", "stream-json"]
            stdin_text = "".join(json.dumps({"type": "user", "message": {"role": "user", "content": line}})
                                 + "\n"
                                 for line in typed)
        proc = subprocess.run([str(claude_binary(version)), *args, "--output-format", "stream-json",
                               "--verbose", "--debug-file", str(debug), *extra],
                              cwd=project, env=_env(api, home), capture_output=True, text=True,
                              timeout=RUN_TIMEOUT, input=stdin_text,
                              stdin=subprocess.DEVNULL if stdin_text is None else None)
        bodies = api.messages()
    init: dict[str, Any] = {}
    events: list[dict[str, Any]] = []
    for line in proc.stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        events.append(event)
        if event.get("type") == "system" and event.get("subtype") == "init" and not init:
            init = event
    try:
        log = debug.read_text(errors="replace").splitlines()
    except OSError:
        log = []
    return {"rc": proc.returncode, "init": init, "bodies": bodies, "log": log,
            "seconds": time.monotonic() - started, "stderr": proc.stderr[-2000:], "events": events}


def baseline(version: str, work: Path) -> dict[str, set[str]]:
    """The built-in agents and commands of this CLI version (a project with nothing in it)."""
    project, home = work / "baseline", work / "baseline-home"
    _git_project(project)
    run = _run(version, project, home, _Script(set(), []), [], work / "baseline.log")
    return {"agents": set(run["init"].get("agents") or []),
            "commands": set(run["init"].get("slash_commands") or [])}


def _scrub(line: str, roots: list[Path]) -> str:
    for root in roots:
        line = line.replace(str(root), "<root>")
    return line


def _skill_names(case: Case) -> list[str]:
    if case.kind == COMMAND:
        return [case.id]
    if case.kind == SKILL:
        names = [case.id]
        match = re.search(r"^name:\s*(\S+)", next(iter(case.files.values())), re.MULTILINE)
        if match:
            names.append(match.group(1).replace("{ID}", case.id))
        return names
    return []


def _tool_results(bodies: list[dict[str, Any]]) -> dict[str, tuple[str, bool]]:
    """tool_use id -> (result text, is_error), from the last main-conversation request that carries them."""
    out: dict[str, tuple[str, bool]] = {}
    for body in bodies:
        for message in body.get("messages", []):
            content = message.get("content")
            if not isinstance(content, list):
                continue
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    tid = str(block.get("tool_use_id"))
                    if tid.startswith("toolu_oracle_"):
                        out[tid] = ("\n".join(_texts(block.get("content"))), bool(block.get("is_error")))
    return out


def _expanded(bodies: list[dict[str, Any]]) -> dict[str, str]:
    """case id -> the text a command expanded to (it carries the case marker)."""
    out: dict[str, str] = {}
    for body in bodies:
        for message in body.get("messages", []):
            if message.get("role") != "user":
                continue
            for chunk in _texts(message.get("content")):
                for match in _MARK.finditer(chunk):
                    if match.group(1)[0] in "cs" and "Launching skill" not in chunk[:20]:
                        out.setdefault(match.group(1), chunk[:2000])
    return out


def _subagents(bodies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """case id -> the first subagent request made for it: model id and tool names sent."""
    out: dict[str, dict[str, Any]] = {}
    for body in bodies:
        system = "\n".join(_texts(body.get("system")))
        match = _MARK.search(system)
        if match and match.group(1) not in out:
            out[match.group(1)] = {"model": body.get("model"),
                                   "tools": sorted(str(t.get("name")) for t in body.get("tools") or [])}
    return out


def _bang_outcome(result: str, is_error: bool, expanded: str | None) -> dict[str, Any]:
    if "cannot be used with Skill tool due to disable-model-invocation" in result:
        return {"outcome": "model-invocation-disabled"}
    if result.startswith("Shell command permission check failed"):
        reason = result.split("\": ", 1)[1] if "\": " in result else result
        return {"outcome": "refused", "reason": reason[:300]}
    if result.startswith("Shell command failed"):
        return {"outcome": "failed", "reason": result[:300]}
    if "Unknown skill" in result or "not found" in result.lower():
        return {"outcome": "unknown", "reason": result[:200]}
    if is_error:
        return {"outcome": "error", "reason": result[:300]}
    return {"outcome": "ran", "expanded": (expanded or "")[:600]}


def record_group(version: str, cases: list[Case], builtins: dict[str, set[str]],
                 work: Path) -> dict[str, Any]:
    """Run one CLI session over `cases` (agents, commands, skills or plugins); case id -> verdict."""
    work.mkdir(parents=True, exist_ok=True)
    project, home = work / "project", work / "home"
    _git_project(project)
    extra: list[str] = []
    plugin_roots: dict[str, Path] = {}
    for case in cases:
        if case.kind == PLUGIN:
            root = work / "plugins" / case.id
            plugin_roots[case.id] = root
            for rel, content in case.files.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(content, encoding="utf-8", newline="")
            extra += ["--plugin-dir", str(root)]
        else:
            for rel, content in case.files.items():
                (project / rel).parent.mkdir(parents=True, exist_ok=True)
                (project / rel).write_text(content, encoding="utf-8", newline="")
    typed: list[str] = []
    for case in cases:
        typed += _skill_names(case)
        if case.kind == PLUGIN:
            typed += _plugin_skill_names(case)
    script = _Script(builtins["agents"], [])
    if any(c.kind in (AGENT, PLUGIN) for c in cases):
        run = _run(version, project, home, script, extra, work / "debug.log")
    else:
        run = {"init": {}, "bodies": [], "log": [], "seconds": 0.0, "rc": 0, "stderr": "", "events": []}
    bodies = [b for b in run["bodies"] if isinstance(b, dict)]
    listed_agents = _agent_lines(script.first_main or {})
    results = _tool_results(bodies)
    subagents = _subagents(bodies)
    actions = script.actions or []
    by_action: dict[tuple[str, str], tuple[str, bool]] = {}
    for index, action in enumerate(actions):
        tid = f"toolu_oracle_{index:05d}"
        if tid in results:
            by_action[action] = results[tid]
    typed_outcomes: dict[str, dict[str, Any]] = {}
    if typed:
        crun = _run(version, project, work / "home-typed", _Script(builtins["agents"], []), extra,
                    work / "debug-typed.log", typed=[f"/{name} probe-arg" for name in typed])
        typed_outcomes = _typed_outcomes(typed, crun)
        run["log"] = run["log"] + crun["log"]
        run["seconds"] += crun["seconds"]
        if not run["init"]:
            run["init"] = crun["init"]
        else:
            run["init"]["slash_commands"] = crun["init"].get("slash_commands")
        bodies += [b for b in crun["bodies"] if isinstance(b, dict)]
    init_agents = set(run["init"].get("agents") or [])
    init_commands = set(run["init"].get("slash_commands") or [])
    plugins_loaded = {str(p.get("path")): str(p.get("name")) for p in run["init"].get("plugins") or []
                      if isinstance(p, dict)}
    roots = [project, work]
    verdicts: dict[str, Any] = {}
    # which listed agent belongs to which case: its spawned system prompt, else its description or name
    agent_case: dict[str, str] = {}
    for name, rest in listed_agents.items():
        if name in builtins["agents"]:
            continue
        result = by_action.get(("Agent", name))
        found = _MARK.search(rest) or re.search(r"\b([ap]\d{3})\b", rest) or re.search(r"([ap]\d{3})", name)
        cid = found.group(1) if found else None
        for case_id, sub in subagents.items():
            if sub.get("name") == name:
                cid = case_id
        if cid:
            agent_case.setdefault(name, cid)
        del result
    for case in cases:
        if case.kind == PLUGIN:
            paths = [str(plugin_roots[case.id])]
        else:
            paths = [str(project / rel) for rel in case.files]
        case_log = [_LOG_LINE.match(line).group(1) + " " + _scrub(_LOG_LINE.match(line).group(2), roots)
                    for line in run["log"] if _LOG_LINE.match(line) and any(p in line for p in paths)]
        if case.kind == AGENT or case.kind == PLUGIN:
            agents = {}
            for name, cid in agent_case.items():
                if cid != case.id:
                    continue
                rest = listed_agents[name]
                with_tools = rest.endswith(")") and " (Tools: " in rest
                tools_listed = rest.rsplit(" (Tools: ", 1)[1][:-1] if with_tools else None
                description = rest.rsplit(" (Tools: ", 1)[0] if tools_listed is not None else rest
                result = by_action.get(("Agent", name))
                spawn: dict[str, Any] = {"requested": subagents.get(case.id)}
                if result is not None:
                    res_text, is_error = result
                    zero_tools = "would be spawned with zero tools" in res_text
                    if zero_tools or (is_error and not spawn["requested"]):
                        spawn["refused"] = res_text[:300]
                    elif "API error" in res_text or "issue with the selected model" in res_text:
                        spawn["api_error"] = res_text[:300]
                agents[name] = {"description": description[:400], "tools_listed": tools_listed,
                                "in_init": name in init_agents, "spawn": spawn}
            verdict: dict[str, Any] = {"kind": case.kind, "agents": agents}
            if case.kind == PLUGIN:
                root = str(plugin_roots[case.id])
                verdict["plugin_loaded"] = root in plugins_loaded
                verdict["plugin_name"] = plugins_loaded.get(root)
                verdict["commands"] = {n: dict(typed_outcomes.get(n, {}), listed=n in init_commands)
                                       for n in _plugin_skill_names(case)}
        else:
            verdict = {"kind": case.kind,
                       "commands": {n: dict(typed_outcomes.get(n, {}), listed=n in init_commands)
                                    for n in _skill_names(case)}}
        verdict = json.loads(_scrub(json.dumps(verdict), [project, work]).replace(str(work.parent), "<tmp>"))
        verdict["log"] = case_log[:12]
        verdict["digest"] = case.digest
        verdicts[case.id] = verdict
    return {"verdicts": verdicts, "seconds": round(run["seconds"], 1), "rc": run["rc"],
            "requests": len(bodies), "stderr": run["stderr"] if run["rc"] else ""}


def _plugin_skill_names(case: Case) -> list[str]:
    """Plugin commands and skills as /plugin:name, with the plugin name its manifest gives."""
    try:
        name = json.loads(case.files.get(".claude-plugin/plugin.json", "{}")).get("name")
    except (ValueError, AttributeError, RecursionError):
        found = re.search(r'"name"\s*:\s*"([^"]*)"', case.files.get(".claude-plugin/plugin.json", ""))
        name = found.group(1) if found else None
    name = name if isinstance(name, str) else case.id
    out = []
    for rel in case.files:
        parts = rel.split("/")
        if rel.endswith(".md") and parts[0] in ("commands", "cmds"):
            out.append(f"{name}:{parts[-1][:-3]}")
        elif rel.endswith("SKILL.md"):
            out.append(f"{name}:{parts[-2]}")
    return out


def _typed_outcomes(names: list[str], run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """name -> what happened when a user typed `/name probe-arg`.

    The k-th `result` event answers the k-th typed line."""
    segments: list[list[dict[str, Any]]] = [[]]
    for event in run["events"]:
        if event.get("type") == "system" and event.get("subtype") == "init":
            continue
        segments[-1].append(event)
        if event.get("type") == "result":
            segments.append([])
    expanded: dict[str, str] = {}
    for body in run["bodies"]:
        for message in body.get("messages", []) if isinstance(body, dict) else []:
            blocks = _texts(message.get("content")) if message.get("role") == "user" else []
            for index, chunk in enumerate(blocks):
                match = re.search(r"<command-name>/([^<]+)</command-name>", chunk)
                if match:
                    rest = "\n".join(blocks[index + 1:index + 2])
                    expanded.setdefault(match.group(1), rest[:600])
    out: dict[str, dict[str, Any]] = {}
    for index, name in enumerate(names):
        events = segments[index] if index < len(segments) else []
        said = []
        for event in events:
            if event.get("type") in ("user", "assistant"):
                said += _texts((event.get("message") or {}).get("content"))
            elif event.get("type") == "result" and isinstance(event.get("result"), str):
                said.append(event["result"])
        joined = "\n".join(said)
        if "Shell command permission check failed" in joined:
            reason = joined.split("Shell command permission check failed", 1)[1]
            reason = reason.split("\": ", 1)[1] if "\": " in reason else reason
            out[name] = {"outcome": "refused", "reason": reason.split("</local-command-stderr>")[0][:300]}
        elif "Shell command failed" in joined:
            out[name] = {"outcome": "failed", "reason": joined[joined.index("Shell command failed"):][:300]}
        elif "Unknown skill" in joined or "Unknown command" in joined or "Unknown slash command" in joined:
            out[name] = {"outcome": "unknown", "reason": joined[:200]}
        elif name in expanded:
            out[name] = {"outcome": "ran", "expanded": expanded[name]}
        elif re.search(r"\bend\b", joined):
            out[name] = {"outcome": "not-a-command"}  # sent to the model as a plain prompt
        elif not events:
            out[name] = {"outcome": "no-result"}
        else:
            out[name] = {"outcome": "other", "said": joined[:300]}
    return out


def record(version: str, cases: list[Case], *, jobs: int = 2, progress: Callable[[str], None] = print,
           keep: Path | None = None) -> dict[str, Any]:
    """Record every case on one CLI version; returns {"cli_version", "builtins", "verdicts", "runs"}."""
    if not claude_binary(version).exists():
        raise SystemExit(f"Claude Code {version} is not installed at {claude_binary(version)} "
                         f"(npm install --prefix ~/.cache/perfpack/claude-code-{version} "
                         f"@anthropic-ai/claude-code@{version})")
    tmp = Path(tempfile.mkdtemp(prefix=f"oracle-{version}-"))
    try:
        builtins = baseline(version, tmp)
        groups: dict[str, list[Case]] = {}
        main = [c for c in cases if c.group == "main"]
        for start in range(0, len(main), CHUNK):
            groups[f"main-{start // CHUNK:02d}"] = main[start:start + CHUNK]
        for case in cases:
            if case.group != "main":
                key = "plugins" if case.kind == PLUGIN else case.id if case.group == "solo" else case.group
                groups.setdefault(key, []).append(case)
        verdicts: dict[str, Any] = {}
        runs = {}

        def one(item: tuple[str, list[Case]]) -> tuple[str, dict[str, Any]]:
            name, group = item
            out = record_group(version, group, builtins, tmp / name)
            progress(f"{version} {name}: {len(group)} cases in {out['seconds']} s (exit {out['rc']}, "
                     f"{out['requests']} requests)")
            return name, out

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            for name, out in pool.map(one, sorted(groups.items())):
                verdicts.update(out.pop("verdicts"))
                runs[name] = out
        return {"cli_version": version, "builtins": {k: sorted(v) for k, v in builtins.items()},
                "verdicts": dict(sorted(verdicts.items())), "runs": runs}
    finally:
        if keep:
            shutil.copytree(tmp, keep, dirs_exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
