"""The project's ledger of measurements: what every measuring command really measured and printed.

bench, compare, load, profile and explain --try-indexes each append one record; `perfpack evidence
check` matches the figures an agent reports against it. One JSON line per record in
ROOT/.claude/perfpack/ledger.jsonl (machine-specific: listed in .claude/perfpack/.gitignore, which
record() creates, so `git add -A` never stages it), appended with a single O_APPEND write so parallel
agents never interleave records.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any

LEDGER_NAME = "ledger.jsonl"
INDEX_NAME = "ledger.index"  # perfpack.evidence.index: the stop hook's sorted figures
MAX_READ_BYTES = 64 * 1024 * 1024
_FIGURE_KEYS = ("metric", "unit")  # perfpack's own words, what the evidence check matches: never redacted
_OWN_KEYS = ("id", "kind", "time", "commit")


def ledger_path(root: Path | str) -> str:
    return os.path.join(os.fspath(root), ".claude", "perfpack", LEDGER_NAME)


def figure(metric: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    """One printed figure: `figure("p95", 412.3, "ms", of="wall")`, `figure("speedup", 2.4, "x")`."""
    return {"metric": metric, "value": value, "unit": unit, **extra}


def record(root: Path | str, *, kind: str, name: str | None, command: Iterable[str] | str | None,
           figures: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> str:
    """Append one measurement record and return its id (e.g. "bench-20261207T041500Z-3f9a").

    `figures` are what the command printed (see `figure`). Never raises for an unwritable ledger:
    the measurement itself already succeeded; the caller gets "" and the evidence check will simply
    not find the record.

    Every string stored is redacted first (perfpack.redact): the command's arguments (a bench of `curl -H
    'Authorization: Bearer ...'`, a URL with user:password@ or ?token=), the name, the strings in `extra`
    and in the figures; the figures' numbers, the evidence check's matter, stay as measured.
    """
    import json

    from perfpack.errors import PerfpackError
    from perfpack.safeio import append_nofollow

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    record_id = f"{kind}-{stamp}-{os.urandom(4).hex()}"
    entry: dict[str, Any] = {
        "id": record_id, "kind": kind, "name": name,
        "command": command if command is None or isinstance(command, str) else list(command),
        "figures": figures, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": _git_head(os.fspath(root)),
    }
    if extra:
        entry.update(extra)
    entry = redacted(entry)
    line = json.dumps(entry, ensure_ascii=True, allow_nan=False, default=str) + "\n"
    path = ledger_path(root)
    from perfpack.safeio import is_inside

    if not is_inside(root, os.path.dirname(path)):
        return ""  # .claude or .claude/perfpack is a link out of the project: nothing written through it
    try:
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        _ignore_in_git(folder)
        append_nofollow(path, line.encode("ascii"))
    except (OSError, PerfpackError):
        return ""
    try:  # the evidence hook's index of every figure: rebuilt here, where a measurement already took seconds
        from perfpack.evidence.index import rebuild

        rebuild(os.fspath(root))
    except Exception:
        pass
    return record_id


# Figures that qualify a headline one (interval bounds, spread, noise): `headline` leaves them out.
_SECONDARY_METRICS = {"stdev", "median_ci_width", "variation", "samples", "requests"}


def headline(record: dict[str, Any], *, limit: int = 6) -> str:
    """What a record's run measured, as its command printed it: "median=1.23 s, p95=1.31 s, ..." rounded
    the way the command rounds; for a run compared with a baseline the run's own side ("after") and the
    change, never the baseline's; for an A/B comparison both sides ("A: ... | B: ..."); for explain's
    before and after (both measured by the run) "median=82.3 ms -> 15.1 µs". `evidence list`."""
    figures = [f for f in record.get("figures") or [] if isinstance(f, dict) and "bound" not in f
               and f.get("metric") not in _SECONDARY_METRICS and f.get("of") not in ("cpu", "rss")]
    if record.get("kind") == "explain" and any("sql" in f for f in figures):
        return _captured(figures, limit)
    changes = [f for f in figures if f.get("metric") in ("ratio", "change", "speedup")]
    figures = [f for f in figures if f not in changes]
    sides = {f.get("side") for f in figures}
    parts = []
    if "a" in sides or "b" in sides:
        for side in ("a", "b"):
            chosen = [f for f in figures if f.get("side") == side][:limit // 2 or 1]
            parts.append(f"{side.upper()}: " + ", ".join(_shown(f) for f in chosen))
    elif record.get("kind") == "explain" and "before" in sides:  # both sides measured by this run
        before = {f.get("metric"): f for f in figures if f.get("side") == "before"}
        parts.append(", ".join(_shown(before[f.get("metric")]) + " -> " + _shown(f).split("=", 1)[1]
                               if f.get("metric") in before else _shown(f)
                               for f in figures if f.get("side") == "after"))
    else:
        own = [f for f in figures if f.get("side") in (None, "", "after")]  # never the baseline's
        parts.append(", ".join(_shown(f) for f in own[:limit]))
    if changes:
        parts.append(", ".join(_shown(f) for f in changes[:limit]))
    return " | ".join(part for part in parts if part)


def _captured(figures: list[dict[str, Any]], limit: int) -> str:
    """explain --capture's record: the time of every statement in the database, then each statement
    shape's own ("total=242 ms (41 runs) | shapes: 240 ms x20, 1.24 ms x20"); with one shape its total is
    the whole, said once ("total=923 µs (1 run, one shape)")."""
    def runs(f: dict[str, Any]) -> str:
        count = f.get("runs")
        return f"{count:,} run{'s' if count != 1 else ''}" if isinstance(count, int) else ""

    shapes = [f for f in figures if "sql" in f]
    whole = [f for f in figures if "sql" not in f]
    parts = [f"{_shown(f)} ({runs(f)}{', one shape' if len(shapes) == 1 else ''})" for f in whole[:1]]
    if len(shapes) > 1 or not whole:
        shown = [_shown(f).split("=", 1)[1] + (f" x{f['runs']:,}" if isinstance(f.get("runs"), int) else "")
                 for f in shapes[:limit]]
        parts.append("shapes: " + ", ".join(shown) + (", ..." if len(shapes) > limit else ""))
    return " | ".join(parts)


def _shown(f: dict[str, Any]) -> str:
    from perfpack.bench.units import format_bytes, format_seconds

    value, unit, metric = f.get("value"), str(f.get("unit") or ""), str(f.get("metric") or "?")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"{metric}={value!r}"
    if unit in ("s", "ms", "us", "µs", "ns"):
        text = format_seconds(value * {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}[unit])
    elif unit == "B":
        text = format_bytes(value)
    elif unit == "%":
        text = f"{value:+.1f} %" if metric in ("change", "wall change", "share change") else f"{value:.1f} %"
    elif unit == "x":
        text = f"{value:,.0f}x" if abs(value) >= 100 else f"{value:.3g}x"  # 5,455x, never 5.45e+03x
    elif unit == "req/s":
        text = f"{value:,.1f} req/s"
    elif unit in ("count", "samples", "calls", ""):
        text = f"{value:,.6g}"
    else:
        text = f"{value:,.6g} {unit}"
    # a lower bound (explain's statement stopped at its time cap, and the speed-up over it) says so
    return f"{metric}={'at least ' if f.get('lower_bound') is True else ''}{text}"


def redacted(entry: dict[str, Any]) -> dict[str, Any]:
    """`entry` with every string redacted (perfpack.redact) but perfpack's own (id, kind, time, commit, a
    figure's metric and unit): what `record` stores, and what `evidence list` shows of a record written
    before the ledger redacted. A list of strings (the command, an argv beside it) is redacted as an argv."""
    from perfpack.redact import redact, redact_argv, redact_text

    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key in _OWN_KEYS:
            out[key] = value
        elif key == "figures" and isinstance(value, list):
            out[key] = [{k: redact_text(v) if isinstance(v, str) and k not in _FIGURE_KEYS else v
                         for k, v in f.items()} if isinstance(f, dict) else f for f in value]
        elif isinstance(value, str):
            out[key] = redact_text(value)
        else:
            out[key] = redact_argv(value) if _argv_like(value) else redact(value)
    return out


def _argv_like(value: object) -> bool:
    """A list of strings (an argv: profile --pid's target) is redacted as one, an option's value with it."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _ignore_in_git(folder: str) -> None:
    """List the ledger in FOLDER/.gitignore (created if missing): its figures belong to this machine."""
    from perfpack.safeio import append_nofollow

    ignore = os.path.join(folder, ".gitignore")
    listed: list[bytes] = []
    try:
        with open(ignore, "rb") as handle:
            listed = handle.read(1 << 16).split()
    except FileNotFoundError:
        pass
    missing = [name for name in (LEDGER_NAME, INDEX_NAME) if name.encode() not in listed]
    if not missing:
        return
    comment = "" if listed else "# perfpack's ledger of measurements and its index (this machine's)\n"
    append_nofollow(ignore, (comment + "".join(f"{name}\n" for name in missing)).encode())


def read(root: Path | str, *, strict: bool = False) -> list[dict[str, Any]]:
    """Every record, oldest first; a missing ledger is [].

    Damaged lines (not UTF-8, not JSON, no id) are skipped, or with `strict` (what `evidence check` reads)
    the first one is a PerfpackError naming its line: never a silently smaller ledger. A ledger that is a
    link, a FIFO, a folder or over MAX_READ_BYTES is a PerfpackError either way (perfpack.safeio).
    """
    import json

    from perfpack.safeio import read_user_bytes

    path = ledger_path(root)
    try:
        data = read_user_bytes(path, what="ledger", max_bytes=MAX_READ_BYTES, follow_symlinks=False)
    except FileNotFoundError:
        return []
    records = []
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            entry = json.loads(raw.decode("utf-8") if strict else raw)
        except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested 100,000 deep: damage
            entry = None
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            records.append(entry)
        elif strict and raw.strip():
            from perfpack.errors import PerfpackError

            raise PerfpackError(f"ledger {path}: line {number} is not a ledger record",
                                hint="remove that line (the measuring commands append whole lines)")
    return records


def _git_head(root: str) -> str | None:
    """The commit checked out in `root`, read from .git without starting git (None outside a repo)."""
    git = os.path.join(root, ".git")
    try:
        if os.path.isfile(git):  # a worktree or submodule: "gitdir: PATH"
            with open(git, encoding="utf-8") as handle:
                target = handle.read(4096).strip()
            if not target.startswith("gitdir:"):
                return None
            git = os.path.join(root, target[7:].strip())
        with open(os.path.join(git, "HEAD"), encoding="utf-8") as handle:
            head = handle.read(4096).strip()
        if not head.startswith("ref:"):
            return head or None
        ref = head[4:].strip()
        for folder in (git, _common_dir(git)):
            try:
                with open(os.path.join(folder, ref), encoding="utf-8") as handle:
                    return handle.read(4096).strip() or None
            except OSError:
                pass
            packed = _packed_ref(folder, ref)
            if packed:
                return packed
    except (OSError, UnicodeDecodeError):
        return None
    return None


def _common_dir(git: str) -> str:
    try:
        with open(os.path.join(git, "commondir"), encoding="utf-8") as handle:
            return os.path.normpath(os.path.join(git, handle.read(4096).strip()))
    except OSError:
        return git


def _packed_ref(folder: str, ref: str) -> str | None:
    try:
        with open(os.path.join(folder, "packed-refs"), encoding="utf-8") as handle:
            for line in handle:
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref:
                    return parts[0]
    except OSError:
        return None
    return None
