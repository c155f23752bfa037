"""Render a Snapshot as compact Markdown (embedded in the /optimize prompt) or JSON."""

from __future__ import annotations

import json
from typing import Any

from perfpack.snapshot.collect import Snapshot


def to_json(snap: Snapshot) -> str:
    return json.dumps(snap.to_dict(), indent=2, default=str, ensure_ascii=False) + "\n"


def to_markdown(snap: Snapshot) -> str:
    out: list[str] = [f"### Snapshot of {snap.project}"]
    s = snap.sections
    host = s.get("host")
    if host:
        out.append("**Host**")
        load = host.get("load_avg")
        line = f"- CPUs: {host.get('cpus')}"
        if load:
            line += f"; load 1/5/15 min: {load[0]} / {load[1]} / {load[2]}"
        if "cpu_percent" in host:
            line += f"; CPU busy: {host['cpu_percent']}%"
        out.append(line)
        mem = host.get("memory")
        if mem:
            out.append(
                f"- Memory: {mem['available_gb']} GB free of {mem['total_gb']} GB ({mem['percent']}% used)"
            )
        disk = host.get("disk")
        if disk:
            out.append(
                f"- Disk ({disk['path']}): {disk['free_gb']} GB free of {disk['total_gb']} GB"
                f" ({disk['percent']}% used)"
            )
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
        line = f"- Git: {branch} @ {git.get('commit') or '(no commits)'}"
        if git.get("subject"):
            line += f' "{git["subject"]}"'
        line += f"; {git.get('dirty_files', 0)} changed, {git.get('untracked_files', 0)} untracked file(s)"
        if git.get("shallow"):
            line += "; shallow clone"
        out.append(line)
    if stack:
        langs = ", ".join(f"{row['language']} {row['share']}%" for row in stack.get("languages", []))
        out.append(
            f"- Languages: {langs or 'none detected'}"
            + (f" (manifests: {', '.join(stack['manifests'])})" if stack.get("manifests") else "")
        )
        out.append(f"- Tests: {'; '.join(stack.get('tests') or []) or 'none detected'}")
        out.append(f"- Benchmarks: {'; '.join(stack.get('benchmarks') or []) or 'none detected'}")
    cont = s.get("containers")
    if cont is not None:
        out.append(f"**Containers** ({cont['running']} running)")
        for row in cont["containers"][:10]:
            out.append(f"- {row['name']} ({row['image']}): {row['status']}")
    if "baselines" in s:
        out.append("**Saved baselines**")
        if not s["baselines"]:
            out.append("- none yet (`perfpack bench --save --name NAME -- CMD`)")
        for item in s["baselines"]:
            out.append(
                f"- {item.get('name')}: {_summary(item.get('summary'))}"
                f" (saved {item.get('saved_at') or '?'}; `{_command(item.get('command'))}`)"
            )
    if "insights" in s:
        out.append("**Recent insights (perfpack memory)**")
        if not s["insights"]:
            out.append("- none yet")
        for item in s["insights"]:
            out.append(f"- {_insight(item)}")
    toolkit = s.get("toolkit")
    if toolkit and not toolkit.get("on_path"):
        out.append(f"**Toolkit**: `perfpack` is not on PATH here; run it as `{toolkit['command']}`")
    if snap.skipped:
        out.append("**Skipped**")
        for what, why in snap.skipped:
            out.append(f"- {what}: {why}")
    out.append(f"_(snapshot took {snap.elapsed_s:.2f} s)_")
    return "\n".join(out) + "\n"


def _procs(rows: list[dict[str, Any]], key: str) -> str:
    if key == "cpu":
        return ", ".join(f"{r['name']} ({r['pid']}) {r['cpu_percent']}%" for r in rows)
    return ", ".join(f"{r['name']} ({r['pid']}) {r['rss_mb']} MB" for r in rows)


_TIME_KEYS = ("median", "p95", "p99", "mean")


def _summary(summary: Any) -> str:
    """Baseline summaries hold seconds; show the percentiles that matter in ms, skip CI lists."""
    if isinstance(summary, dict):
        parts = [
            f"{key} {_ms(summary[key])}" for key in _TIME_KEYS if isinstance(summary.get(key), (int, float))
        ]
        if not parts:
            parts = [
                f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
                for key, value in summary.items()
                if not isinstance(value, (list, dict))
            ][:5]
        if isinstance(summary.get("n"), int):
            parts.append(f"n={summary['n']}")
        return ", ".join(parts)
    return str(summary) if summary is not None else "?"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3g} ms" if seconds < 10 else f"{seconds:.1f} s"


def _command(command: Any) -> str:
    if isinstance(command, list):
        import shlex

        command = shlex.join(str(part) for part in command)
    text = str(command) if command else "?"
    return text if len(text) <= 80 else text[:77] + "..."


def _insight(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)[:200]
    text = item.get("insight") or item.get("text") or item.get("summary") or item.get("content")
    if text is None:
        text = json.dumps(item, default=str, ensure_ascii=False)
    who = item.get("agent") or item.get("agent_name")
    text = " ".join(str(text).split())[:200]
    tags = ", ".join(str(item[key]) for key in ("area", "impact") if item.get(key))
    if tags:
        text = f"({tags}) {text}"
    return f"[{who}] {text}" if who else text
