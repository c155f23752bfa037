"""What `perfpack profile` prints: a text summary of at most 2,048 bytes, and the JSON form.

The summary is the product: an agent reads it instead of the profiler's raw output, so it says which
functions to look at (with file:line and the call path that reaches them), how sure the figures are
(samples, duration, engine) and where the full profile and the flame graph are.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from perfpack.profile.analysis import NO_PROGRAM_FRAME, HotSpot, Site, short_path
from perfpack.terminal import one_line

if TYPE_CHECKING:
    from perfpack.profile.model import CpuProfile, MemoryProfile
    from perfpack.profile.run import Outcome

MAX_BYTES = 2048
MIN_SITE_SHARE = 0.001  # sites under 0.1 % of the bytes live at the peak: in profile.json, not the summary


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _rel(path: str) -> str:
    if not path:
        return ""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _command(outcome: Outcome) -> str:
    return one_line(" ".join(outcome.command), limit=120)


def _spot_json(spot: HotSpot) -> dict[str, Any]:
    out: dict[str, Any] = {
        "function": spot.function,
        "file": spot.file,
        "line": spot.line,
        "self_pct": spot.self_pct,
        "total_pct": spot.total_pct,
        "self": spot.self_weight,
        "total": spot.total_weight,
        "path": spot.path,
    }
    if spot.qualname:
        out["qualname"] = spot.qualname
    if spot.hot_line:
        out["hot_line"] = {"line": spot.hot_line, "pct": spot.hot_line_pct}
    if spot.inner:
        out["inner"] = {"function": spot.inner, "pct": spot.inner_pct}
    if spot.process:
        out["process"] = spot.process
    return out


def _site_json(site: Site, peak: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "function": site.function,
        "file": site.file,
        "line": site.line,
        "bytes": site.bytes,
        "count": site.count,
        "share_pct": round(100.0 * site.bytes / peak, 1) if peak else 0.0,
        "path": site.path,
    }
    if site.inner:
        out["inner"] = site.inner
    return out


def to_json(outcome: Outcome, *, limit: int | None) -> dict[str, Any]:
    """The JSON form; `limit` hot spots or sites (None: all, as written to profile.json)."""
    data: dict[str, Any] = {"name": outcome.name, "command": outcome.command}
    if outcome.cpu is not None:
        cpu = outcome.cpu
        spots = outcome.hotspots if limit is None else outcome.hotspots[:limit]
        data.update(
            {
                "kind": "cpu",
                "engine": cpu.engine,
                "engine_version": cpu.engine_version,
                "why": cpu.why,
                "samples": cpu.samples,
                "sample_unit": "calls" if cpu.weight_unit == "us" else "samples",
                "weight_unit": cpu.weight_unit,
                "total_weight": outcome.total_weight,
                "wall_s": round(cpu.wall_s, 6),
                "startup_s": None if cpu.startup_s is None else round(cpu.startup_s, 3),
                "exit_code": cpu.exit_code,
                "rate_hz": cpu.rate_hz,
                "errors": cpu.errors,
                "stopped": cpu.stopped,
                "notes": cpu.notes,
                "hotspots": [_spot_json(s) for s in spots],
                "imports": [
                    {"module": s.function.removeprefix("import "), "file": s.file, "pct": s.self_pct}
                    for s in (outcome.imports if limit is None else outcome.imports[:limit])
                ],
            }
        )
    else:
        mem = outcome.memory
        assert mem is not None
        sites = outcome.sites if limit is None else outcome.sites[:limit]
        data.update(
            {
                "kind": "memory",
                "engine": mem.engine,
                "engine_version": mem.engine_version,
                "why": mem.why,
                "peak_bytes": mem.peak_bytes,
                "live_bytes_at_peak": outcome.total_weight,
                "wall_s": round(mem.wall_s, 6),
                "startup_s": None if mem.startup_s is None else round(mem.startup_s, 3),
                "exit_code": mem.exit_code,
                "notes": mem.notes,
                "sites": [_site_json(s, outcome.total_weight) for s in sites],
            }
        )
    data["flamegraph"] = outcome.files.get("flamegraph")
    data["raw"] = outcome.files.get("raw")
    data["profile"] = outcome.files.get("profile")
    data["output"] = outcome.files.get("output")
    if outcome.ledger_id:
        data["ledger"] = outcome.ledger_id
    return data


def _fit(head: list[str], items: list[list[str]], tail: list[str], budget: int = MAX_BYTES) -> str:
    """head + as many whole items as fit + tail, within `budget` bytes of UTF-8."""
    used = sum(len(line.encode()) + 1 for line in head + tail)
    body: list[str] = []
    for item in items:
        size = sum(len(line.encode()) + 1 for line in item)
        if used + size > budget:
            break
        body.extend(item)
        used += size
    text = "\n".join(head + body + tail)
    encoded = text.encode()
    if len(encoded) > budget:  # only when head and tail alone are too long (a huge path): cut
        text = encoded[: budget - 4].decode("utf-8", "ignore") + "…"
    return text


def _where(file: str, line: int, root: str) -> str:
    path = one_line(short_path(file, root), limit=60)
    return f"{path}:{line}" if line else (path or "no line")


def _path_text(path: list[str], limit: int = 5) -> str:
    parts = path[-limit:]
    text = " > ".join(one_line(p, limit=40) for p in parts)
    return ("… > " + text) if len(path) > limit else text


def _exit_text(code: int | None) -> str:
    """How the program ended: " · exit 0", or " · killed by SIGINT" for a negative code (a signal), not
    the "exit -2" subprocess reports."""
    if code is None:
        return ""
    if code < 0:
        import signal

        try:
            return f" · killed by {signal.Signals(-code).name}"
        except ValueError:
            return f" · killed by signal {-code}"
    return f" · exit {code}"


def _span(result: CpuProfile | MemoryProfile, how: str) -> str:
    """The time profiled, named as what it is: the program's own run ("0.19 s sampled"), after the
    interpreter's start-up for a Python program, which is not profiled (a wall time measured with `bench`
    or `time` holds both)."""
    span = f"{result.wall_s:.2f} s {how}"
    if result.startup_s is not None:
        span += f", after {result.startup_s:.2f} s of interpreter start-up"
    return span


def cpu_text(outcome: Outcome, *, top: int) -> str:
    cpu = outcome.cpu
    assert cpu is not None
    unit = "calls" if cpu.weight_unit == "us" else "samples"
    engine = f"{cpu.engine} {cpu.engine_version}".strip()
    how = f"sampling at {cpu.rate_hz} Hz" if cpu.engine != "cProfile" else "deterministic"
    exit_text = _exit_text(cpu.exit_code)
    stop = {"duration": " · stopped after --duration", "interrupt": " · stopped by Ctrl-C", "ended": ""}.get(
        cpu.stopped, ""
    )
    # each tick samples every thread (and followed process) on it: a threaded server has more samples
    # than ticks, and its shares are of all of them (the interpreter's start-up may be sampled too)
    ticks = cpu.rate_hz * (cpu.wall_s + (cpu.startup_s or 0.0)) if cpu.engine != "cProfile" else 0.0
    threads = ""
    if ticks and cpu.samples > 1.15 * ticks:
        threads = f" (of every thread: {cpu.samples / ticks:.1f} per tick)"
    span = _span(cpu, "profiled" if cpu.engine == "cProfile" else "sampled")
    head = [
        f"profile {outcome.name}: {_command(outcome)}",
        f"engine: {engine} ({how}; {one_line(cpu.why, limit=160)})",
        f"{cpu.samples:,} {unit}{threads} · {span}{exit_text}{stop}",
    ]
    head += [
        f"note: {one_line(n, limit=160)}"
        for n in cpu.notes[:2]
        if cpu.engine != "cProfile" or "fallback" in n
    ]
    imports = [s for s in outcome.imports if s.self_pct >= 0.5][:4]
    if imports:
        head.append(
            f"imports: {sum(s.self_pct for s in outcome.imports):.1f}% ("
            + ", ".join(
                f"{one_line(s.function.removeprefix('import '), limit=30)} {s.self_pct:.1f}%" for s in imports
            )
            + ")"
        )
    head.append("  self  total  function — file:line (self: own code + library/native calls)")
    items = []
    for spot in outcome.hotspots[:top]:
        item = [
            f"{spot.self_pct:5.1f}% {spot.total_pct:5.1f}%  "
            f"{one_line(spot.qualname or spot.function, limit=50)} — "
            f"{_where(spot.file, spot.line, outcome.root)}"
        ]
        detail = []
        if spot.hot_line and spot.hot_line != spot.line:
            # the function's first line names it; this is where its own time went (py-spy's lines)
            detail.append(f"line {spot.hot_line}: {spot.hot_line_pct:.0f}% of its self time")
        if spot.path and len(spot.path) > 1:
            detail.append("path: " + _path_text(spot.path))
        if spot.inner and spot.inner_pct >= 1:
            detail.append(f"in: {one_line(spot.inner, limit=50)} {spot.inner_pct:.0f}%")
        if spot.process:
            detail.append(f"process: {one_line(spot.process, limit=50)}")
        if detail:
            item.append("        " + " · ".join(detail))
        items.append(item)
    if not items:
        items.append(["  (no samples)"])
    tail = [
        f"flame graph: {one_line(_rel(outcome.files.get('flamegraph', '')) or '(none)')}",
        f"full profile: {one_line(_rel(outcome.files.get('profile', '')))}"
        + (
            f" · program output: {one_line(_rel(outcome.files['output']))}"
            if "output" in outcome.files
            else ""
        ),
        _diff_hint(outcome),
    ]
    return _fit(head, items, tail)


def _diff_hint(outcome: Outcome) -> str:
    """The command to compare with a later run: by name for a profile in the project's profiles folder;
    by folder for one written elsewhere (--out), which a name would not find."""
    from pathlib import Path

    from perfpack.project import perfpack_dir

    default = perfpack_dir(Path(outcome.root)) / "profiles" / outcome.name
    if outcome.run_dir and os.path.realpath(outcome.run_dir) != os.path.realpath(default):
        return f"compare after a change: perfpack profile diff {one_line(_rel(outcome.run_dir))} NEW_FOLDER"
    return f"compare after a change: perfpack profile diff {outcome.name} NEW_NAME"


def memory_text(outcome: Outcome, *, top: int) -> str:
    mem = outcome.memory
    assert mem is not None
    engine = f"{mem.engine} {mem.engine_version}".strip()
    exit_text = _exit_text(mem.exit_code)
    live = outcome.total_weight
    head = [
        f"profile {outcome.name} --memory: {_command(outcome)}",
        f"engine: {engine} ({one_line(mem.why, limit=160)})",
        f"peak {human_bytes(mem.peak_bytes)} ({mem.peak_bytes:,} bytes) · {human_bytes(live)} live in "
        f"{len(outcome.sites)} sites at the peak · {_span(mem, 'profiled')}{exit_text}",
    ]
    head += [f"note: {one_line(n, limit=160)}" for n in mem.notes[:2]]
    start_up = sum(s.bytes for s in outcome.sites if s.function == NO_PROGRAM_FRAME)
    if live and start_up >= 0.5 * live:  # a small program's peak is the interpreter's, not its code's
        head.append(f"note: {100.0 * start_up / live:.0f}% of the peak was held by start-up or native code, "
                    "not by the program's own lines: it allocated little")
    head.append("     bytes  share  function — file:line (allocations live at the peak)")
    items = []
    shown = [s for s in outcome.sites if not live or s.bytes >= MIN_SITE_SHARE * live] or outcome.sites
    for site in shown[:top]:
        share = 100.0 * site.bytes / live if live else 0.0
        blocks = f"{site.count:,} block" + ("s" if site.count != 1 else "")
        item = [
            f"{human_bytes(site.bytes):>10} {share:5.1f}%  {one_line(site.function, limit=50)} — "
            f"{_where(site.file, site.line, outcome.root)} ({blocks})"
        ]
        detail = []
        if site.path and len(site.path) > 1:
            detail.append("path: " + _path_text(site.path))
        if site.inner:
            detail.append(f"in: {one_line(site.inner, limit=50)}")
        if detail:
            item.append("        " + " · ".join(detail))
        items.append(item)
    if not items:
        items.append(["  (no allocation live at the peak)"])
    tail = [
        f"flame graph (bytes at the peak): {one_line(_rel(outcome.files.get('flamegraph', '')) or '(none)')}",
        f"full profile: {one_line(_rel(outcome.files.get('profile', '')))}",
        _diff_hint(outcome),
    ]
    return _fit(head, items, tail)


def _startup_figure(result: CpuProfile | MemoryProfile) -> list[dict[str, Any]]:
    """"after 0.20 s of interpreter start-up", for the ledger."""
    from perfpack.ledger import figure

    if result.startup_s is None:
        return []
    return [figure("startup", round(result.startup_s, 2), "s", of="the interpreter's start-up, not profiled")]


def ledger_figures(outcome: Outcome, *, top: int) -> list[dict[str, Any]]:
    """The figures the summary printed, for perfpack's ledger (what `evidence check` matches)."""
    from perfpack.ledger import figure

    figures = []
    if outcome.cpu is not None:
        cpu = outcome.cpu
        figures.append(figure("wall", round(cpu.wall_s, 2), "s"))
        figures += _startup_figure(cpu)
        figures.append(figure("samples", cpu.samples, "calls" if cpu.weight_unit == "us" else "samples"))
        imports = [s for s in outcome.imports if s.self_pct >= 0.5][:4]
        if imports:  # "imports: 12.5% (numpy 8.0%, ...)"
            figures.append(figure("imports", sum(s.self_pct for s in outcome.imports), "%"))
            figures += [figure("self", s.self_pct, "%", function=s.function) for s in imports]
        for spot in outcome.hotspots[:top]:
            figures.append(
                figure("self", spot.self_pct, "%", function=spot.function, file=spot.file, line=spot.line)
            )
            figures.append(
                figure("total", spot.total_pct, "%", function=spot.function, file=spot.file, line=spot.line)
            )
            if spot.hot_line and spot.hot_line != spot.line:  # "line 11: 82% of its self time"
                figures.append(figure("line_share", spot.hot_line_pct, "%", function=spot.function,
                                      file=spot.file, line=spot.hot_line))
            if spot.inner and spot.inner_pct >= 1:  # "in: json.loads 45%"
                figures.append(figure("inner", spot.inner_pct, "%", function=spot.inner))
    else:
        mem = outcome.memory
        assert mem is not None
        figures.append(figure("peak", mem.peak_bytes, "B"))
        figures.append(figure("wall", round(mem.wall_s, 2), "s"))
        figures += _startup_figure(mem)
        live = outcome.total_weight
        # "15.6 MiB live in 4 sites at the peak"
        figures.append(figure("live", live, "B", of="allocations live at the peak"))
        shown = [s for s in outcome.sites if not live or s.bytes >= MIN_SITE_SHARE * live] or outcome.sites
        for site in shown[:top]:
            figures.append(
                figure("bytes", site.bytes, "B", function=site.function, file=site.file, line=site.line)
            )
            if live:
                figures.append(
                    figure("share", round(100.0 * site.bytes / live, 1), "%", function=site.function)
                )
    return figures
