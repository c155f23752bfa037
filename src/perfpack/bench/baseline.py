"""Named baselines and stored comparisons under ROOT/.claude/perfpack/: written atomically, validated on read."""

from __future__ import annotations

import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.fsutil import atomic_write_text
from perfpack.project import perfpack_dir

SCHEMA_VERSION = 1
KIND = "perfpack-baseline"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MAX_FILE_BYTES = 50 * 1024 * 1024  # a baseline is samples and a summary; anything bigger is not ours
KEEP_COMPARISONS = 100


def baselines_dir(root: Path) -> Path:
    return perfpack_dir(root) / "baselines"


def comparisons_dir(root: Path) -> Path:
    return perfpack_dir(root) / "comparisons"


def check_name(name: str) -> str:
    """A baseline name becomes a file name: letters, digits, '.', '_', '-'; no path tricks."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise PerfpackError(f"invalid baseline name {name!r}",
                            hint="use letters, digits, '.', '_' or '-' (max 100), starting with a letter or digit")
    return name


def baseline_path(root: Path, name: str) -> Path:
    return baselines_dir(root) / f"{check_name(name)}.json"


def environment(root: Path) -> dict[str, Any]:
    """Where the samples were taken: host, Python, git commit (reviewable next to the numbers)."""
    commit = dirty = None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        if out.returncode == 0:
            commit = out.stdout.strip()
            st = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                capture_output=True, text=True, timeout=5)
            dirty = bool(st.stdout.strip()) if st.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "host": {"hostname": socket.gethostname(), "system": platform.system(), "release": platform.release(),
                 "machine": platform.machine(), "cpu_count": os.cpu_count() or 0},
        "python": {"version": platform.python_version(), "implementation": platform.python_implementation(),
                   "executable": sys.executable},
        "git": {"commit": commit, "dirty": dirty},
    }


def _validator(kind: str) -> Any:
    import jsonschema  # lazily: only commands that read baselines pay for it

    from perfpack.resources import schema_path

    path = schema_path("baseline")
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PerfpackError(f"cannot read the baseline schema {path}: {exc}") from None
    # Validate against the definition for this kind, so errors name the real field (not "oneOf failed").
    definition = "comparison" if kind == "perfpack-comparison" else "baseline"
    return jsonschema.Draft202012Validator({"$schema": schema.get("$schema"), "$defs": schema.get("$defs", {}),
                                            "$ref": f"#/$defs/{definition}"})


def read_record(path: Path, *, what: str = "baseline") -> dict[str, Any]:
    """Read and validate a baseline or comparison file; any problem is one clear PerfpackError."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise PerfpackError(f"{path}: too large to be a perfpack {what} ({path.stat().st_size} bytes)")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PerfpackError(f"no {what} at {path}", hint="`perfpack baseline list` shows the saved ones") from None
    except OSError as exc:
        raise PerfpackError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PerfpackError(f"{path}: not a perfpack {what} (not UTF-8 text)") from None
    except ValueError as exc:
        raise PerfpackError(f"{path}: corrupt {what}: invalid JSON ({exc})",
                            hint="restore it from git or remove it with `perfpack baseline rm`") from None
    if not isinstance(data, dict) or data.get("kind") not in ("perfpack-baseline", "perfpack-comparison"):
        raise PerfpackError(f"{path}: not a perfpack {what} (no \"kind\": \"perfpack-...\" field)")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise PerfpackError(f"{path}: unsupported schema_version {data.get('schema_version')!r} "
                            f"(this perfpack reads {SCHEMA_VERSION})", hint="re-save it with this perfpack version")
    errors = sorted(_validator(data["kind"]).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise PerfpackError(f"{path}: invalid {what} at {where}: {first.message}"[:400])
    return data


def write_text(path: Path, text: str) -> None:
    """atomic_write_text, with an unwritable place (read-only folder, /proc, a file as parent) as one line."""
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise PerfpackError(f"{path}: cannot write: {exc.strerror or exc}",
                            hint="check the folder exists and is writable") from None


def save_baseline(root: Path, record: dict[str, Any]) -> Path:
    path = baseline_path(root, record["name"])
    write_text(path, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return path


def load_baseline(root: Path, name: str) -> dict[str, Any]:
    return read_record(baseline_path(root, name))


def remove_baseline(root: Path, name: str) -> Path:
    path = baseline_path(root, name)
    if not path.exists():
        raise PerfpackError(f"no baseline named {name!r}", hint="`perfpack baseline list` shows the saved ones")
    try:
        path.unlink()
    except OSError as exc:  # e.g. a folder with that name, or a read-only baselines folder
        raise PerfpackError(f"{path}: cannot remove: {exc.strerror or exc}") from None
    return path


def list_baselines(root: Path) -> list[dict[str, Any]]:
    """Saved baselines of a project, sorted by name: name, command, saved_at, summary (wall-time summary dict).

    Public API (used by `perfpack snapshot`). Files that do not validate are listed with an "error" key
    instead of raising, so one broken file does not hide the others.
    """
    folder = baselines_dir(Path(root))
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        if not _NAME.match(path.stem):
            continue
        try:
            data = read_record(path)
        except PerfpackError as exc:
            out.append({"name": path.stem, "command": None, "saved_at": None, "summary": None, "error": str(exc)})
            continue
        out.append({"name": data["name"], "command": data["command"], "saved_at": data["saved_at"],
                    "summary": data["summary"]["wall_s"], "path": str(path)})
    return out


def save_comparison(root: Path, record: dict[str, Any]) -> Path:
    """Store a comparison for `perfpack report`; keeps the newest KEEP_COMPARISONS."""
    folder = comparisons_dir(root)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", record.get("label", "compare"))[:40].strip("-") or "compare"
    path = folder / f"{stamp}.{time.time_ns() % 1_000_000_000:09d}-{slug}.json"
    write_text(path, json.dumps(record, indent=1, sort_keys=True) + "\n")
    old = sorted(folder.glob("*.json"))
    for stale in old[:-KEEP_COMPARISONS]:
        try:
            stale.unlink()
        except OSError:
            pass
    return path


def list_comparisons(root: Path, limit: int = 20) -> list[dict[str, Any]]:
    """The newest stored comparisons (oldest first), skipping files that do not validate."""
    folder = comparisons_dir(Path(root))
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json"))[-limit:]:
        try:
            out.append(read_record(path, what="comparison"))
        except PerfpackError:
            continue
    return out
