"""Render a Snapshot as compact Markdown (embedded in the /optimize prompt) or JSON."""

from __future__ import annotations

import json
from typing import Any

from perfpack.bench.units import format_seconds
from perfpack.snapshot.collect import Snapshot
from perfpack.terminal import one_line


def _s(value: Any, limit: int = 120) -> str:
    """Every field from the outside world (process names, paths, branches, subjects, commands, names)
    on one line: a newline in a process's argv[0] must not forge a line of the /optimize prompt."""
    return one_line(value, limit=limit)


def to_json(snap: Snapshot) -> str:
    return json.dumps(snap.to_dict(), indent=2, default=str, ensure_ascii=False) + "\n"


def to_markdown(snap: Snapshot) -> str:
    out: list[str] = [f"### Snapshot of {_s(snap.project, 200)}"]
    s = snap.sections
    host = s.get("host")
    if host:
        out.append("**Host**")
        load = host.get("load_avg")
        line = f"- CPUs: {_s(host.get('cpus'))}"
        if load:
            line += f"; load 1/5/15 min: {_s(load[0])} / {_s(load[1])} / {_s(load[2])}"
        if "cpu_percent" in host:
            line += f"; CPU busy: {_s(host['cpu_percent'])}%"
        out.append(line)
        mem = host.get("memory")
        if mem:
            out.append(f"- Memory: {_s(mem['available_gb'])} GB free of {_s(mem['total_gb'])} GB "
                       f"({_s(mem['percent'])}% used)")
        disk = host.get("disk")
        if disk:
            out.append(f"- Disk ({_s(disk['path'], 200)}): {_s(disk['free_gb'])} GB free of "
                       f"{_s(disk['total_gb'])} GB"
                       f" ({_s(disk['percent'])}% used)")
        if host.get("top_cpu"):
            out.append("- Top CPU: " + _procs(host["top_cpu"], "cpu"))
        if host.get("top_memory"):
            out.append("- Top memory: " + _procs(host["top_memory"], "mem"))
    git = s.get("git")
    stack = s.get("stack")
    if git or stack:
        out.append("**Project**")
    if git:
        branch = git.get("branch") or ("(detached HEAD)" if git.get("detached") else "?")
        line = f"- Git: {_s(branch, 80)} @ {_s(git.get('commit') or '(no commits)', 40)}"
        if git.get("subject"):
            line += f' "{_s(git["subject"], 120)}"'
        line += (f"; {_s(git.get('dirty_files', 0))} changed, {_s(git.get('untracked_files', 0))} untracked "
                 "file(s)")
        if git.get("shallow"):
            line += "; shallow clone"
        out.append(line)
    if stack:
        langs = ", ".join(f"{_s(row['language'], 40)} {_s(row['share'])}%"
                          for row in stack.get("languages", []))
        out.append(
            f"- Languages: {langs or 'none detected'}"
            + (f" (manifests: {', '.join(_s(m, 60) for m in stack['manifests'])})"
               if stack.get("manifests") else "")
        )
        out.append(f"- Tests: {'; '.join(_s(t, 120) for t in stack.get('tests') or []) or 'none detected'}")
        benches = "; ".join(_s(b, 120) for b in stack.get("benchmarks") or [])
        out.append(f"- Benchmarks: {benches or 'none detected'}")
    cont = s.get("containers")
    if cont is not None:
        out.append(f"**Containers** ({_s(cont['running'])} running)")
        for row in cont["containers"][:10]:
            out.append(f"- {_s(row['name'], 60)} ({_s(row['image'], 80)}): {_s(row['status'], 60)}")
    if "baselines" in s:
        out.append("**Saved baselines**")
        if not s["baselines"]:
            out.append("- none yet (`perfpack bench --save --name NAME -- CMD`)")
        for item in s["baselines"]:
            out.append(
                f"- {_s(item.get('name'), 100)}: {_summary(item.get('summary'))}"
                f" (saved {_s(item.get('saved_at') or '?', 40)}; `{_command(item.get('command'))}`)"
            )
    if "insights" in s:
        memdb = s.get("memory") or {}
        version = f", SQLite {memdb['sqlite_version']}" if memdb.get("sqlite_version") else ""
        out.append(f"**Most valuable insights (perfpack memory{version})**")
        if not s["insights"]:
            out.append("- none yet")
        for item in s["insights"]:
            out.append(f"- {_insight(item)}")
    toolkit = s.get("toolkit")
    if toolkit and not toolkit.get("on_path"):
        out.append(f"**Toolkit**: `perfpack` is not on PATH here; run it as `{_s(toolkit['command'], 200)}`")
    if snap.skipped:
        out.append("**Skipped**")
        for what, why in snap.skipped:
            out.append(f"- {_s(what, 80)}: {_s(why, 200)}")
    out.append(f"_(snapshot took {snap.elapsed_s:.2f} s)_")
    return "\n".join(out) + "\n"


def _procs(rows: list[dict[str, Any]], key: str) -> str:
    if key == "cpu":
        return ", ".join(f"{_s(r['name'], 40)} ({_s(r['pid'])}) {_s(r['cpu_percent'])}%" for r in rows)
    return ", ".join(f"{_s(r['name'], 40)} ({_s(r['pid'])}) {_s(r['rss_mb'])} MiB" for r in rows)


_TIME_KEYS = ("median", "p95", "p99", "mean")


def _summary(summary: Any) -> str:
    """Baseline summaries hold seconds: shown in human units (ms or s, never 1.64e+03 ms)."""
    if isinstance(summary, dict):
        parts = [
            f"{key} {format_seconds(summary[key])}" for key in _TIME_KEYS
            if isinstance(summary.get(key), (int, float)) and not isinstance(summary.get(key), bool)
        ]
        if not parts:
            parts = [
                f"{_s(key, 30)} {value:.4g}" if isinstance(value, float) else f"{_s(key, 30)} {_s(value, 40)}"
                for key, value in summary.items()
                if not isinstance(value, (list, dict))
            ][:5]
        if isinstance(summary.get("n"), int):
            parts.append(f"n={summary['n']}")
        return ", ".join(parts)
    return _s(summary, 80) if summary is not None else "?"


def _command(command: Any) -> str:
    if isinstance(command, list):
        import shlex

        command = shlex.join(str(part) for part in command)
    text = _s(command, 80) if command else "?"
    return text.replace("`", "'")


def _insight(item: Any) -> str:
    if not isinstance(item, dict):
        return _s(item, 200)
    text = item.get("insight") or item.get("text") or item.get("summary") or item.get("content")
    if text is None:
        text = json.dumps(item, default=str, ensure_ascii=False)
    who = item.get("agent") or item.get("agent_name")
    text = _s(" ".join(str(text).split()), 200)
    tags = ", ".join(_s(item[key], 40) for key in ("area", "impact") if item.get(key))
    if tags:
        text = f"({tags}) {text}"
    return f"[{_s(who, 60)}] {text}" if who else text
