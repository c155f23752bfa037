"""Held-out real packs: what the real Claude Code CLI does with each file, against perfpack's errors.

Step 1 (fetch, separate): `python scripts/heldout_fetch.py DEST` puts the public third-party packs listed
in benchmarks/heldout_packs.json under DEST (never inside the repository). Step 2 (this script) measures:

    python benchmarks/heldout.py DEST [--cli-version 2.1.332 --cli-version 2.1.197] [--out results.json]

Each pack folder under DEST is a project (`.claude/`), a plugin (`.claude-plugin/plugin.json`) or a
marketplace (`.claude-plugin/marketplace.json`, its plugins in sub-folders). A copy of each pack is loaded
in the real CLI, offline, against the oracle's scripted stand-in API (tests/oracle): the scripted model
spawns every agent the CLI lists and the user types every command and skill. Per file the CLI's verdict is
recorded: an agent listed or dropped, its spawn refused or its model refused by the API; a command run,
refused (a `!` line) or not loaded; a plugin loaded or refused. A marker comment is appended to each agent
body so a spawned subagent names its file.

A file "fails" when the CLI drops, refuses or aborts it. perfpack's verdict is "error" when it reports at
least one error-severity finding for the file (same CLI version). Files of a plugin the CLI refused are
judged through their plugin.json only. Printed per version: file-level error precision and recall of real
runtime failures, tracebacks from `perfpack validate` (the CLI, one process per pack), and every
disagreement.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "oracle"))

import harness  # noqa: E402  (tests/oracle: the real CLI against the scripted stand-in API)
from cases import MARKER  # noqa: E402

from perfpack.validate.engine import Options, validate_paths  # noqa: E402

MARK = "oracle-case:"


@dataclass
class FileCase:
    """One pack file to judge: its path in the working copy, its kind and the name the CLI knows it by."""

    rel: str  # relative to the pack root
    kind: str  # agent, command, skill, plugin
    name: str  # agent name / command name as typed (without /) / plugin root
    marker: str = ""
    plugin_root: str = ""  # "" for project files
    cli: dict[str, Any] = field(default_factory=dict)


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _stem_name(rel_under: str) -> str:
    return rel_under[:-3].replace("/", ":") if rel_under.endswith(".md") else rel_under


def _plugin_name(root: Path) -> str:
    data = _json(root / ".claude-plugin" / "plugin.json")
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else root.name


def _agent_files(root: Path, folder: str) -> list[Path]:
    base = root / folder
    return sorted(p for p in base.rglob("*.md") if p.is_file()) if base.is_dir() else []


def plugin_roots(pack: Path) -> list[Path]:
    """A plugin pack is its own root; a marketplace names its plugins' folders."""
    if (pack / ".claude-plugin" / "plugin.json").is_file():
        return [pack]
    market = _json(pack / ".claude-plugin" / "marketplace.json")
    roots = []
    for entry in (market or {}).get("plugins", []) if isinstance(market, dict) else []:
        source = entry.get("source") if isinstance(entry, dict) else None
        if isinstance(source, str) and source.startswith("./") and (pack / source).is_dir():
            roots.append((pack / source).resolve())
    return roots


def enumerate_files(pack: Path) -> list[FileCase]:
    """Every agent, command, skill and plugin.json of a pack as the CLI would look for them."""
    cases: list[FileCase] = []
    claude = pack / ".claude"
    for path in _agent_files(claude, "agents"):
        cases.append(FileCase(str(path.relative_to(pack)), "agent", ""))
    for path in _agent_files(claude, "commands"):
        cases.append(
            FileCase(
                str(path.relative_to(pack)), "command", _stem_name(str(path.relative_to(claude / "commands")))
            )
        )
    for path in sorted((claude / "skills").glob("*/SKILL.md")) if (claude / "skills").is_dir() else []:
        cases.append(FileCase(str(path.relative_to(pack)), "skill", path.parent.name))
    for root in plugin_roots(pack):
        name, rel_root = _plugin_name(root), str(root.relative_to(pack.resolve())) if root != pack else "."
        prefix = "" if rel_root == "." else rel_root + "/"
        cases.append(
            FileCase(prefix + ".claude-plugin/plugin.json", "plugin", rel_root, plugin_root=rel_root)
        )
        for path in _agent_files(root, "agents"):
            cases.append(FileCase(prefix + str(path.relative_to(root)), "agent", "", plugin_root=rel_root))
        for path in _agent_files(root, "commands"):
            cases.append(
                FileCase(
                    prefix + str(path.relative_to(root)),
                    "command",
                    f"{name}:{path.stem}",
                    plugin_root=rel_root,
                )
            )
        for path in sorted((root / "skills").glob("*/SKILL.md")) if (root / "skills").is_dir() else []:
            cases.append(
                FileCase(
                    prefix + str(path.relative_to(root)),
                    "skill",
                    f"{name}:{path.parent.name}",
                    plugin_root=rel_root,
                )
            )
    return cases


def prepare(pack: Path, work: Path) -> tuple[Path, list[FileCase]]:
    """Copy the pack and append a marker to each agent body (a spawned subagent then names its file)."""
    copy = work / pack.name
    shutil.copytree(pack, copy, symlinks=True)
    cases = enumerate_files(copy)
    for index, case in enumerate(c for c in cases if c.kind == "agent"):
        case.marker = f"a{index + 1:03d}"
        path = copy / case.rel
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        path.write_text(
            text.rstrip("\n") + f"\n\n<!-- {MARK}{case.marker} -->\n",
            encoding="utf-8",
            errors="surrogateescape",
        )
    return copy, cases


class _Spawner(harness._Script):
    """The oracle's scripted model; each subagent prompt names the agent it was spawned as."""

    actions: list[tuple[str, str]] | None

    def __call__(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        if self.actions is None and MARKER not in "\n".join(harness._texts(body.get("system"))):
            # a real description may hold blank lines (`\n\n` in it), which end the list parser early:
            # every `- name: ` line after the list header is tried (a wrong guess only fails to spawn)
            text = harness._all_text(body)
            names = []
            for chunk in text.split(harness.AGENT_LIST)[1:]:
                names += [m.group(1) for m in re.finditer(r"^- ([A-Za-z0-9_.:-]+): ", chunk, re.MULTILINE)]
            self.first_main = body
            self.actions = [("Agent", n) for n in dict.fromkeys(names) if n not in self.builtin_agents]
        blocks = super().__call__(body)
        for block in blocks:
            tool_input = block.get("input") if block.get("type") == "tool_use" else None
            if isinstance(tool_input, dict) and "subagent_type" in tool_input:
                tool_input["prompt"] = f"go {MARKER}subagent for={tool_input['subagent_type']}"
        return blocks


def _spawned_as(bodies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """agent name -> {marker, model, tools} from the subagent requests."""
    out: dict[str, dict[str, Any]] = {}
    for body in bodies:
        system = "\n".join(harness._texts(body.get("system")))
        first = "\n".join(harness._texts((body.get("messages") or [{}])[0].get("content")))
        who = re.search(r"for=(\S+)", first)
        mark = re.search(re.escape(MARK) + r"(a\d{3})", system)
        if who and who.group(1) not in out:
            out[who.group(1)] = {
                "marker": mark.group(1) if mark else None,
                "model": body.get("model"),
                "tools": sorted(str(t.get("name")) for t in body.get("tools") or []),
            }
    return out


def _own_field(path: Path, key: str) -> str | None:
    """A frontmatter value as the file states it (strict YAML, else the line-by-line reading)."""
    from perfpack.frontmatter import read_frontmatter

    fm = read_frontmatter(path)
    data = fm.data if fm.data is not None else fm.lenient_data
    value = (data or {}).get(key)
    return value if isinstance(value, str) else None


def _frontmatter_name(path: Path) -> str | None:
    return _own_field(path, "name")


def _misread(path: Path, shown: str) -> bool:
    """The CLI offers the agent, but not with the description its file states (metadata not applied)."""
    own = _own_field(path, "description")
    if not shown:
        return False  # offered per the init event only: the shown description is unknown
    if own is None:
        return True  # nothing readable in the file, so what is shown is a stand-in
    norm = " ".join(own.split())[:40].lower()
    return not " ".join(shown.split()).lower().startswith(norm)


def record_pack(
    version: str, copy: Path, cases: list[FileCase], builtins: dict[str, set[str]], work: Path
) -> dict[str, Any]:
    """One CLI session (agents spawned by the scripted model, commands typed) for the pack; fills case.cli."""
    project = copy if (copy / ".claude").is_dir() else work / "project"
    if project != copy:
        harness._git_project(project)
    else:
        env = {**os.environ, "GIT_AUTHOR_NAME": "o", "GIT_AUTHOR_EMAIL": "o@example.invalid",
               "GIT_COMMITTER_NAME": "o", "GIT_COMMITTER_EMAIL": "o@example.invalid"}
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "initial"]):
            # a repository with a commit, as the oracle's projects: `git log` in a ! line has history to show
            subprocess.run(["git", *args], cwd=project, env=env, check=False, capture_output=True, timeout=60)
    extra: list[str] = []
    roots = sorted({c.plugin_root for c in cases if c.kind == "plugin"})
    for rel in roots:
        extra += ["--plugin-dir", str((copy / rel).resolve())]
    script = _Spawner(builtins["agents"], [])
    run = harness._run(version, project, work / "home", script, extra, work / "debug.log")
    typed = [c.name for c in cases if c.kind in ("command", "skill")]
    outcomes: dict[str, dict[str, Any]] = {}
    init = run["init"]
    if typed:
        crun = harness._run(
            version,
            project,
            work / "home-typed",
            harness._Script(builtins["agents"], []),
            extra,
            work / "debug-typed.log",
            typed=[f"/{name} probe-arg" for name in typed],
        )
        outcomes = harness._typed_outcomes(typed, crun)
        init = init or crun["init"]
        commands = set(crun["init"].get("slash_commands") or [])
    else:
        commands = set(init.get("slash_commands") or [])
    listed = harness._agent_lines(script.first_main or {})
    for name in (
        init.get("agents") or []
    ):  # offered (the init event), even where the list parser stopped early
        listed.setdefault(name, "")
    bodies = [b for b in run["bodies"] if isinstance(b, dict)]
    results = harness._tool_results(bodies)
    by_name: dict[str, tuple[str, bool]] = {}
    for index, action in enumerate(script.actions or []):
        tid = f"toolu_oracle_{index:05d}"
        if tid in results and action[0] == "Agent":
            by_name[action[1]] = results[tid]
    spawned = _spawned_as(bodies)
    loaded_plugins = {
        str(Path(str(p.get("path"))).resolve()) for p in init.get("plugins") or [] if isinstance(p, dict)
    }
    plugin_ok = {rel: str((copy / rel).resolve()) in loaded_plugins for rel in roots}
    marker_to_name = {v["marker"]: n for n, v in spawned.items() if v.get("marker")}
    for case in cases:
        if case.kind == "plugin":
            if not (copy / case.rel).is_file():  # a marketplace entry is its manifest: no file to judge
                case.cli = {"failed": None, "what": "no plugin.json (the marketplace entry is its manifest)"}
                continue
            case.cli = {
                "failed": not plugin_ok[case.plugin_root],
                "what": "loaded" if plugin_ok[case.plugin_root] else "plugin refused",
            }
            continue
        if case.plugin_root and not plugin_ok.get(case.plugin_root, True):
            case.cli = {"failed": None, "what": "its plugin was refused (judged through plugin.json)"}
            continue
        if case.kind == "agent":
            name = marker_to_name.get(case.marker)
            if name is None:  # never spawned: find it in the list by the name its frontmatter gives
                own = _frontmatter_name(copy / case.rel) or Path(case.rel).stem
                prefix = _plugin_name(copy / case.plugin_root) + ":" if case.plugin_root else ""
                name = next((n for n in listed if n in (prefix + own, own)), None)
            if name is None or name not in listed:
                case.cli = {"failed": True, "what": "not offered (dropped)"}
                continue
            result = by_name.get(name)
            sub = spawned.get(name)
            text = result[0] if result else ""
            if "would be spawned with zero tools" in text or (result and result[1] and not sub):
                case.cli = {"failed": True, "what": "spawn refused: " + text[:160], "name": name}
            elif (
                "API error" in text
                or "issue with the selected model" in text
                or (
                    sub
                    and sub.get("model")
                    and not re.match(r"^claude-[a-z0-9][a-z0-9.-]*$", str(sub["model"]))
                )
            ):
                case.cli = {
                    "failed": True,
                    "what": f"model refused ({(sub or {}).get('model')})",
                    "name": name,
                }
            elif _misread(copy / case.rel, listed[name]):
                case.cli = {"failed": True, "what": "misread: offered as " + listed[name][:120], "name": name}
            else:
                case.cli = {
                    "failed": False,
                    "what": "offered and spawned" if sub else "offered",
                    "name": name,
                    "description": listed[name][:160],
                    "tools": (sub or {}).get("tools"),
                }
            continue
        outcome = outcomes.get(case.name, {})
        kind = outcome.get("outcome")
        if kind == "refused":
            case.cli = {"failed": True, "what": "refused: " + str(outcome.get("reason", ""))[:200]}
        elif kind in ("ran", "failed", "model-invocation-disabled"):
            case.cli = {"failed": False, "what": kind}
        elif case.name not in commands:
            case.cli = {"failed": True, "what": f"not loaded ({kind})"}
        else:
            case.cli = {"failed": None, "what": f"unclear ({kind}): {json.dumps(outcome)[:200]}"}
    return {"seconds": round(run["seconds"], 1), "rc": run["rc"]}


def perfpack_errors(copy: Path, version: str) -> tuple[dict[str, list[str]], str]:
    """rel path -> error findings (rule: message), and a traceback from the CLI if any."""
    result = validate_paths([copy], Options(cli_version=version), cwd=copy)
    errors: dict[str, list[str]] = {}
    for finding in result.findings:
        if finding.severity == "error":
            errors.setdefault(finding.path, []).append(f"{finding.rule}: {finding.message[:140]}")
    proc = subprocess.run(
        [sys.executable, "-m", "perfpack", "validate", "--cli-version", version, str(copy)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    traceback = proc.stderr if "Traceback" in proc.stderr or proc.returncode not in (0, 1) else ""
    return errors, traceback


def measure(dest: Path, versions: list[str], only: set[str] | None = None) -> dict[str, Any]:
    packs = sorted(
        p
        for p in dest.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (only is None or p.name in only)
    )
    report: dict[str, Any] = {"packs": [p.name for p in packs], "versions": {}}
    for version in versions:
        with tempfile.TemporaryDirectory(prefix=f"heldout-{version}-") as tmp:
            base = Path(tmp)
            builtins = harness.baseline(version, base)
            rows = []
            tracebacks = []
            for pack in packs:
                work = base / ("w-" + pack.name)
                work.mkdir()
                copy, cases = prepare(pack, work)
                meta = record_pack(version, copy, cases, builtins, work)
                errors, traceback = perfpack_errors(copy, version)
                if traceback:
                    tracebacks.append({"pack": pack.name, "stderr": traceback[-2000:]})
                for case in cases:
                    rows.append(
                        {
                            "pack": pack.name,
                            "file": case.rel,
                            "kind": case.kind,
                            "cli": case.cli,
                            "perfpack": errors.get(case.rel, []),
                        }
                    )
                print(
                    f"{version} {pack.name}: {len(cases)} files, CLI session {meta['seconds']} s",
                    file=sys.stderr,
                )
        report["versions"][version] = {"files": rows, "tracebacks": tracebacks, **score(rows)}
    return report


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    judged = [r for r in rows if r["cli"].get("failed") is not None]
    tp = [r for r in judged if r["cli"]["failed"] and r["perfpack"]]
    fp = [r for r in judged if not r["cli"]["failed"] and r["perfpack"]]
    fn = [r for r in judged if r["cli"]["failed"] and not r["perfpack"]]
    precision = len(tp) / (len(tp) + len(fp)) if tp or fp else 1.0
    recall = len(tp) / (len(tp) + len(fn)) if tp or fn else 1.0
    return {
        "judged": len(judged),
        "unjudged": len(rows) - len(judged),
        "cli_failures": len(tp) + len(fn),
        "perfpack_error_files": len(tp) + len(fp),
        "true_errors": len(tp),
        "false_errors": len(fp),
        "misses": len(fn),
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "false_error_files": [(r["pack"], r["file"], r["perfpack"], r["cli"]["what"]) for r in fp],
        "missed_files": [(r["pack"], r["file"], r["cli"]["what"]) for r in fn],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="folder holding the fetched packs (scripts/heldout_fetch.py)")
    parser.add_argument("--cli-version", action="append", help="repeatable (default: 2.1.332 and 2.1.197)")
    parser.add_argument("--only", help="comma-separated pack folder names")
    parser.add_argument("--out", type=Path, help="write every file's verdicts here (JSON)")
    args = parser.parse_args()
    versions = args.cli_version or ["2.1.332", "2.1.197"]
    if not args.dest.is_dir():
        parser.error(
            f"{args.dest}: no such folder (fetch first: python scripts/heldout_fetch.py {args.dest})"
        )
    report = measure(args.dest.resolve(), versions, set(args.only.split(",")) if args.only else None)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    for version, data in report["versions"].items():
        print(
            f"Claude Code {version}: {data['judged']} files judged ({data['unjudged']} not judged), "
            f"{data['cli_failures']} real failures, perfpack errors on {data['perfpack_error_files']} files: "
            f"precision {data['precision']:.3f}, recall {data['recall']:.3f}, "
            f"tracebacks {len(data['tracebacks'])}"
        )
        for pack, file, rules, what in data["false_error_files"]:
            print(f"  false error  {pack}/{file}: {rules[0]}  (CLI: {what})")
        for pack, file, what in data["missed_files"]:
            print(f"  missed       {pack}/{file}: CLI {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
