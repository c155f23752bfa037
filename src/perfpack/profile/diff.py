"""`perfpack profile diff A B`: which functions' shares moved most between two profiles, so an agent
can show that its change removed the hot spot (and what took its place)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.profile.analysis import short_path
from perfpack.profile.summary import MAX_BYTES, _fit, human_bytes
from perfpack.terminal import one_line

MAX_PROFILE_BYTES = 64 * 1024 * 1024


@dataclass
class Row:
    function: str
    file: str
    line: int
    before: float  # self share (CPU) or share of live bytes at the peak (memory), in %
    after: float
    before_total: float = 0.0
    after_total: float = 0.0
    # where on each side: the line of its largest share (a memory row sums a function's sites), and how
    # many lines were summed (a function's line can move between the two runs)
    before_line: int = 0
    after_line: int = 0
    before_lines: int = 0
    after_lines: int = 0

    def where(self, root: str) -> str:
        """"a.py:17", "a.py:26 -> 17" when it moved, "a.py:17 (2 lines summed)" when the row sums a
        function's lines (the line shown is its largest)."""
        place = one_line(short_path(self.file, root), limit=60)
        first, second = self.before_line, self.after_line
        if first and second and first != second:
            place += f":{first} -> {second}"
        elif first or second:
            place += f":{first or second}"
        merged = max(self.before_lines, self.after_lines) - 1
        return place + (f" ({merged + 1} lines summed)" if merged > 0 else "")

    @property
    def change(self) -> float:
        return round(self.after - self.before, 1)


@dataclass
class DiffResult:
    kind: str  # "cpu" or "memory"
    before: dict[str, Any]
    after: dict[str, Any]
    rows: list[Row] = field(default_factory=list)
    root: str = ""
    ledger_id: str = ""

    def to_json(self) -> dict[str, Any]:
        def side(p: dict[str, Any]) -> dict[str, Any]:
            keys = ("name", "engine", "wall_s", "samples", "peak_bytes", "profile")
            return {k: p.get(k) for k in keys if k in p}

        return {
            "kind": self.kind,
            "before": side(self.before),
            "after": side(self.after),
            "wall_change_pct": _pct_change(self.before.get("wall_s"), self.after.get("wall_s")),
            "peak_change_pct": _pct_change(self.before.get("peak_bytes"), self.after.get("peak_bytes"))
            if self.kind == "memory"
            else None,
            "functions": [
                {
                    "function": r.function,
                    "file": r.file,
                    "line": r.line,
                    "before_pct": r.before,
                    "after_pct": r.after,
                    "change_pct": r.change,
                    "before_total_pct": r.before_total,
                    "after_total_pct": r.after_total,
                    "before_line": r.before_line or None,
                    "after_line": r.after_line or None,
                }
                for r in self.rows
            ],
            "ledger": self.ledger_id or None,
        }


def _pct_change(a: Any, b: Any) -> float | None:
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or not a:
        return None
    return round(100.0 * (b - a) / a, 1)


def _locate(ref: str, root: str) -> str:
    """A profile name, a profile folder, or a profile.json path -> the profile.json path."""
    from pathlib import Path

    from perfpack.project import perfpack_dir

    if not ref or "\x00" in ref:
        raise PerfpackError("a profile to compare is empty")
    candidates = []
    if os.sep in ref or ref.endswith(".json") or os.path.isdir(ref):
        candidates += [os.path.join(ref, "profile.json"), ref]
    else:
        base = str(perfpack_dir(Path(root)) / "profiles")
        candidates += [os.path.join(base, ref, "profile.json"), os.path.join(ref, "profile.json")]
    for path in candidates:
        if os.path.lexists(path) and not os.path.isdir(path):
            return path  # whatever it is: the reader refuses a FIFO, a device, a huge file
    raise PerfpackError(
        f"no profile {one_line(ref, limit=120)}: give a name from .claude/perfpack/profiles/, "
        "a profile folder or its profile.json"
    )


def _load(ref: str, root: str) -> dict[str, Any]:
    from perfpack.safeio import read_json_file

    path = _locate(ref, root)
    data = read_json_file(path, what="profile", max_bytes=MAX_PROFILE_BYTES)
    if not isinstance(data, dict) or data.get("kind") not in ("cpu", "memory"):
        raise PerfpackError(f"{one_line(path)}: not a perfpack profile")
    if data.get("refused"):
        raise PerfpackError(
            f"{one_line(ref, limit=80)}: `perfpack profile` refused this run "
            f"({one_line(str(data['refused']), limit=160)}): nothing to compare",
            hint="profile a run that works for a second or more under the same name, then diff again",
        )
    key = "hotspots" if data["kind"] == "cpu" else "sites"
    items = data.get(key)
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("function"), str) and isinstance(i.get("file"), str)
        for i in items
    ):
        raise PerfpackError(f"{one_line(path)}: not a perfpack profile ({key} missing or malformed)")
    data["profile"] = path
    return data


def _shares(profile: dict[str, Any]) -> dict[tuple[str, str], tuple[float, float, int, int]]:
    """(function, file) -> (share, total share, the line of its largest share, how many lines summed)."""
    out: dict[tuple[str, str], tuple[float, float, int, int]] = {}
    largest: dict[tuple[str, str], float] = {}
    cpu = profile["kind"] == "cpu"
    live = 1.0 if cpu else sum(_num(i.get("bytes")) for i in profile["sites"]) or 1.0
    for item in profile["hotspots" if cpu else "sites"]:
        key = (item["function"], item["file"])
        share = _num(item.get("self_pct")) if cpu else 100.0 * _num(item.get("bytes")) / live
        total = _num(item.get("total_pct")) if cpu else 0.0
        old = out.get(key, (0.0, 0.0, 0, 0))
        line = old[2]
        if share >= largest.get(key, -1.0):
            line, largest[key] = _int(item.get("line")), share
        out[key] = (old[0] + share, max(old[1], total), line, old[3] + 1)
    return out


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def diff_profiles(before: str, after: str, *, project: str | None = None, top: int = 10) -> DiffResult:
    from perfpack.project import project_from_option

    root = str(project_from_option(project))
    a, b = _load(before, root), _load(after, root)
    if a["kind"] != b["kind"]:
        raise PerfpackError(f"cannot compare a {a['kind']} profile with a {b['kind']} profile")
    sa, sb = _shares(a), _shares(b)
    rows = []
    for key in set(sa) | set(sb):
        pa, pb = sa.get(key, (0.0, 0.0, 0, 0)), sb.get(key, (0.0, 0.0, 0, 0))
        rows.append(
            Row(
                function=key[0],
                file=key[1],
                line=pb[2] or pa[2],
                before=round(pa[0], 1),
                after=round(pb[0], 1),
                before_total=round(pa[1], 1),
                after_total=round(pb[1], 1),
                before_line=pa[2],
                after_line=pb[2],
                before_lines=pa[3],
                after_lines=pb[3],
            )
        )
    rows.sort(key=lambda r: (-abs(r.change), -max(r.before, r.after), r.function, r.file))
    result = DiffResult(
        kind=a["kind"], before=a, after=b, rows=[r for r in rows if r.before or r.after][:top], root=root
    )
    result.ledger_id = _record(result)
    return result


def _record(result: DiffResult) -> str:
    from perfpack import ledger

    figures = []
    a, b = result.before, result.after
    if result.kind == "memory":  # "peak: 156.8 MiB -> 98.3 KiB (-99.9%)"
        peak = _pct_change(a.get("peak_bytes"), b.get("peak_bytes"))
        if peak is not None:
            figures += [ledger.figure("peak", _num(a.get("peak_bytes")), "B", side="before"),
                        ledger.figure("peak", _num(b.get("peak_bytes")), "B", side="after"),
                        ledger.figure("change", peak, "%", of="peak")]
    else:  # "wall: 1.64 s -> 0.67 s (-59.1%)"
        wall = _pct_change(a.get("wall_s"), b.get("wall_s"))
        if wall is not None:
            figures += [ledger.figure("wall", round(_num(a.get("wall_s")), 2), "s", side="before"),
                        ledger.figure("wall", round(_num(b.get("wall_s")), 2), "s", side="after"),
                        ledger.figure("wall change", wall, "%")]
    for row in result.rows:  # the file too: two `<module>` rows are two files'
        where = {"function": row.function, "file": row.file}
        figures.append(ledger.figure("share before", row.before, "%", **where, line=row.before_line))
        figures.append(ledger.figure("share after", row.after, "%", **where, line=row.after_line))
        figures.append(ledger.figure("share change", row.change, "%", **where))
    name = f"diff {result.before.get('name')} {result.after.get('name')}"
    return ledger.record(result.root, kind="profile", name=name, command=["profile", "diff"], figures=figures)


def to_text(result: DiffResult) -> str:
    a, b = result.before, result.after

    def side(p: dict[str, Any]) -> str:
        if result.kind == "memory":
            return f"{one_line(p.get('name'), limit=40)} (peak {human_bytes(_num(p.get('peak_bytes')))})"
        engine = one_line(p.get("engine"), limit=20)
        return f"{one_line(p.get('name'), limit=40)} ({engine}, {_num(p.get('wall_s')):.2f} s)"

    head = [f"profile diff: {side(a)} -> {side(b)}"]
    change = _pct_change(a.get("wall_s"), b.get("wall_s"))
    if result.kind == "memory":
        peak = _pct_change(a.get("peak_bytes"), b.get("peak_bytes"))
        if peak is not None:
            head.append(
                f"peak: {human_bytes(_num(a.get('peak_bytes')))} -> {human_bytes(_num(b.get('peak_bytes')))} "
                f"({peak:+.1f}%)"
            )
    elif change is not None:
        # the time each profile covered: the program's run after the interpreter's start-up, not a wall
        # time measured with bench (corpus32 read "wall:" as one)
        how = "profiled" if "cProfile" in (a.get("engine"), b.get("engine")) else "sampled"
        head.append(f"time {how} (after start-up): {_num(a.get('wall_s')):.2f} s -> "
                    f"{_num(b.get('wall_s')):.2f} s ({change:+.1f}%)")
    what = "self share" if result.kind == "cpu" else "share of bytes at the peak"
    head.append(f"  before   after  change  function — file:line ({what}, largest moves first)")
    items = []
    for row in result.rows:
        where = row.where(result.root)
        line = f"{row.before:6.1f}% {row.after:6.1f}% {row.change:+6.1f}  {one_line(row.function, limit=50)}"
        items.append([line + (f" — {where}" if where else "")])
    if not items:
        items.append(["  (no functions in either profile)"])
    return _fit(head, items, [], MAX_BYTES)
