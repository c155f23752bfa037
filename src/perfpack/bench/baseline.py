"""Named baselines of any measuring command (bench, load, ...): the one place that saves, reads, lists and
removes them, and appends each saved run to the name's history.

Public API (docs/CONTRACTS.md) for every measuring command:

    m = Measurement(kind="load", name="checkout", identity=identity_for(root, ["GET", url], extra={...}),
                    metric="latency_s", samples={"latency_s": [...]}, settings={...}, figures={...})
    save(root, m, force=False) -> Baseline        refuses an existing name unless force (never silent)
    load(root, name) -> Baseline                   validated; every problem is one PerfpackError line
    compare(baseline, m, ...) -> Comparison        like with like only (perfpack.bench.comparison)
    history(root, name) -> History                 every saved run, trend, change points

Files: ROOT/.claude/perfpack/baselines/NAME.json (atomic writes, meant to be committed),
ROOT/.claude/perfpack/history/NAME.jsonl (one small line per saved run, committed too).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.project import state_dir

SCHEMA_VERSION = 2
FILE_TYPE = "perfpack-baseline"
KINDS = ("bench", "load")  # a new measuring command adds its kind here (and to the schema's enum)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
MAX_FILE_BYTES = 50 * 1024 * 1024  # samples and a summary; anything bigger is not ours
MAX_SAMPLES = 10_000  # per metric; more are thinned to evenly spaced order statistics (load tests)
NOT_METRICS = ("exit_codes",)  # sample lists that are not measurements to summarise


def check_name(name: object, what: str = "baseline name") -> str:
    """The one check of a name that becomes a file name: letters, digits, '.', '_', '-', at most 100.

    fullmatch, not match with `$`: `$` also matches before a trailing newline, which let `abc\\n` through.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        from perfpack.terminal import one_line

        raise PerfpackError(
            f"invalid {what} {one_line(repr(name), limit=120)}",
            hint="use letters, digits, '.', '_' or '-' (max 100), starting with a letter or digit",
        )
    return name


def baselines_dir(root: Path) -> Path:
    return state_dir(Path(root), "baselines")


def baseline_path(root: Path, name: str) -> Path:
    return baselines_dir(root) / f"{check_name(name)}.json"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ------------------------------------------------------------------ what was measured, and where
@dataclass
class Identity:
    """What must match for two measurements to be compared: like with like.

    command: the argv as given (or the target, for load); shell: run through /bin/sh -c; cwd: the
    working directory relative to the project root ("." = the root; None: not recorded, schema 1);
    env: the environment variables the user pinned (None as a value: pinned as unset); extra:
    kind-specific settings that change what is measured (load: rate, duration, connections, ...).

    Secrets are redacted as the identity is made (perfpack.redact): the command's arguments, a pinned
    variable named like a secret (DB_PASSWORD) and the strings of `extra`, so no baseline, comparison or
    output holds them, and a run is compared with a baseline redacted alike (also one saved before).
    """

    command: list[str]
    shell: bool = False
    cwd: str | None = "."
    env: dict[str, str | None] | None = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from perfpack.redact import redact, redact_argv

        self.command = redact_argv(self.command)
        if self.env:
            self.env = redact(self.env)  # type: ignore[assignment]
        self.extra = redact(self.extra)  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": list(self.command),
            "shell": self.shell,
            "cwd": self.cwd,
            "env": self.env,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Identity:
        return cls(
            command=list(data["command"]),
            shell=bool(data.get("shell", False)),
            cwd=data.get("cwd"),
            env=data.get("env"),
            extra=dict(data.get("extra") or {}),
        )

    def digest(self) -> str:
        """A short hash of the identity, kept in the history to mark where what was measured changed."""
        text = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def differences(self, other: Identity) -> list[str]:
        """What differs between self (the baseline) and other (this run), one short line each.
        A field the baseline did not record (schema 1: cwd, env) is not a difference."""
        from perfpack.terminal import one_line

        def show(argv: list[str]) -> str:
            import shlex

            return one_line(shlex.join(argv), limit=80)

        out = []
        if self.command != other.command:
            out.append(f"command: `{show(self.command)}` then, `{show(other.command)}` now")
        if self.shell != other.shell:
            out.append(
                f"shell: {'--shell' if self.shell else 'no shell'} then, "
                f"{'--shell' if other.shell else 'no shell'} now"
            )
        if self.cwd is not None and other.cwd is not None and self.cwd != other.cwd:
            out.append(
                f"working directory: {one_line(self.cwd, limit=60)} then, {one_line(other.cwd, limit=60)} now"
            )
        if self.env is not None and other.env is not None and self.env != other.env:
            for key in sorted(set(self.env) | set(other.env)):
                before, after = self.env.get(key, "(not pinned)"), other.env.get(key, "(not pinned)")
                if before != after:
                    out.append(
                        f"pinned variable {one_line(key, limit=40)}: {_env_value(before)} then, "
                        f"{_env_value(after)} now"
                    )
        for key in sorted(set(self.extra) | set(other.extra)):
            if self.extra.get(key) != other.extra.get(key):
                out.append(
                    f"{one_line(key, limit=40)}: {one_line(self.extra.get(key), limit=40)} then, "
                    f"{one_line(other.extra.get(key), limit=40)} now"
                )
        return out


def _env_value(value: str | None) -> str:
    from perfpack.terminal import one_line

    if value is None:
        return "unset"
    return value if value == "(not pinned)" else repr(one_line(value, limit=40))


def identity_for(
    root: Path,
    command: list[str],
    *,
    shell: bool = False,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str | None] | None = None,
    extra: dict[str, Any] | None = None,
) -> Identity:
    """The identity of a command run in `cwd` (default: the current directory), recorded relative to
    the project root so a clone elsewhere (or a worktree of another revision) still matches."""
    here = os.path.realpath(cwd if cwd is not None else os.getcwd())
    top = os.path.realpath(root)
    rel = os.path.relpath(here, top)
    where = Path(rel).as_posix() if not rel.startswith("..") else here
    return Identity(
        command=list(command), shell=shell, cwd=where, env=dict(env or {}), extra=dict(extra or {})
    )


@dataclass
class Measurement:
    """One measuring command's result, as a baseline holds it.

    kind: "bench", "load", ...; metric: the key of `samples` the verdict compares ("wall_s",
    "latency_s"); samples: lists of numbers per metric (None where a run had no value, e.g. rss);
    settings: how it was run (runs, warmup, ...); figures: other kind-specific results (load:
    achieved rate, errors); budgets: the checked budgets (dicts from perfpack.bench.budgets).
    """

    kind: str
    name: str | None
    identity: Identity
    metric: str
    samples: dict[str, list[Any]]
    settings: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    budgets: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, Any] | None]:
        """Statistics per metric (None when a metric was never observed, e.g. rss of very short runs)."""
        from perfpack.bench import stats

        out: dict[str, dict[str, Any] | None] = {}
        for key, values in self.samples.items():
            if key in NOT_METRICS:
                continue
            numbers = [float(v) for v in values if v is not None]
            out[key] = stats.summarize(numbers).to_dict() if numbers else None
        return out

    def values(self, metric: str | None = None) -> list[float]:
        return [float(v) for v in self.samples.get(metric or self.metric, []) if v is not None]


@dataclass
class Baseline:
    """A saved Measurement with where and when it was taken."""

    measurement: Measurement
    saved_at: str
    environment: dict[str, Any]
    summary: dict[str, dict[str, Any] | None]
    path: Path | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def name(self) -> str:
        return self.measurement.name or ""

    @property
    def kind(self) -> str:
        return self.measurement.kind

    @property
    def identity(self) -> Identity:
        return self.measurement.identity

    @property
    def commit(self) -> str | None:
        return (self.environment.get("git") or {}).get("commit")

    @property
    def host_fingerprint(self) -> str | None:
        return (self.environment.get("host") or {}).get("fingerprint")

    def to_dict(self) -> dict[str, Any]:
        m = self.measurement
        return {
            "schema_version": SCHEMA_VERSION,
            "type": FILE_TYPE,
            "kind": m.kind,
            "name": m.name,
            "saved_at": self.saved_at,
            "identity": m.identity.to_dict(),
            "metric": m.metric,
            "settings": m.settings,
            "environment": self.environment,
            "samples": _thin(m.samples),
            "summary": self.summary,
            "figures": m.figures,
            "budgets": m.budgets,
        }


def _thin(samples: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """At most MAX_SAMPLES values per metric: a 100,000-request load test keeps evenly spaced order
    statistics (its distribution), not a 2 MB file in git. Runs stay aligned when nothing is thinned."""
    if all(len(v) <= MAX_SAMPLES for v in samples.values()):
        return samples
    out = {}
    for key, values in samples.items():
        if len(values) <= MAX_SAMPLES:
            out[key] = values
            continue
        ordered = sorted((v for v in values if v is not None), key=float)
        step = (len(ordered) - 1) / (MAX_SAMPLES - 1)
        out[key] = [ordered[round(i * step)] for i in range(MAX_SAMPLES)]
    return out


# ------------------------------------------------------------------ environment
def host_info() -> dict[str, Any]:
    """The machine, with a fingerprint of what makes timings comparable (CPU model and count, memory,
    OS and architecture; not the host name, so identical CI runners match)."""
    cpu_model = ""
    try:
        with open("/proc/cpuinfo", "rb") as handle:
            for line in handle.read(256 * 1024).decode("utf-8", "replace").splitlines():
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        cpu_model = platform.processor()
    try:
        mem_gb = round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30)
    except (OSError, ValueError, AttributeError):
        mem_gb = 0
    cpus = os.cpu_count() or 0
    basis = f"{cpu_model}|{cpus}|{mem_gb}|{platform.system()}|{platform.machine()}"
    return {
        "hostname": socket.gethostname(),
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "cpu_count": cpus,
        "cpu_model": cpu_model,
        "memory_gb": mem_gb,
        "fingerprint": hashlib.sha256(basis.encode()).hexdigest()[:12],
    }


def git_state(folder: Path) -> dict[str, Any]:
    """The commit checked out in `folder` and whether tracked files differ from it (None outside git)."""
    commit = dirty = None
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5, env=env
        )
        if out.returncode == 0:
            commit = out.stdout.strip()
            st = subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=5,
                env=env,
            )
            dirty = bool(st.stdout.strip()) if st.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        pass
    return {"commit": commit, "dirty": dirty}


def environment(root: Path, *, git_folder: Path | None = None) -> dict[str, Any]:
    """Where the samples were taken: host (with its fingerprint), Python, git commit."""
    return {
        "host": host_info(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "git": git_state(git_folder or Path(root)),
    }


# ------------------------------------------------------------------ reading
def _validator(definition: str) -> Any:
    import jsonschema  # lazily: only commands that read baselines pay for it

    from perfpack.resources import schema_path

    path = schema_path("baseline")
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PerfpackError(f"cannot read the baseline schema {path}: {exc}") from None
    # Validate against the definition for this type, so errors name the real field (not "oneOf failed").
    return jsonschema.Draft202012Validator(
        {"$schema": schema.get("$schema"), "$defs": schema.get("$defs", {}), "$ref": f"#/$defs/{definition}"}
    )


def read_json(path: Path, *, what: str) -> Any:
    """A perfpack state file as JSON: regular files only (a FIFO never blocks), size and nesting limits,
    every problem one PerfpackError line naming the file."""
    from perfpack.safeio import loads_json_strict, read_user_bytes
    from perfpack.terminal import one_line

    shown = one_line(str(path))
    try:
        raw = read_user_bytes(path, what=what, max_bytes=MAX_FILE_BYTES)
    except FileNotFoundError:
        raise PerfpackError(
            f"no {what} at {shown}", hint="`perfpack baseline list` shows the saved ones"
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PerfpackError(f"{shown}: not a perfpack {what} (not UTF-8 text)") from None
    try:
        return loads_json_strict(text, what=f"{shown}: corrupt {what}")
    except PerfpackError as exc:
        raise PerfpackError(
            exc.message, hint="restore it from git or remove it with `perfpack baseline rm`"
        ) from None


def _check_record(
    path: Path, data: Any, *, what: str, file_type: str, validate: bool = True
) -> dict[str, Any]:
    from perfpack.terminal import one_line

    shown = one_line(str(path))
    version = data.get("schema_version") if isinstance(data, dict) else None
    # schema 1 named the file type "kind"; from 2 on "type" does, and "kind" is bench/load/...
    declared = (data.get("type") if "type" in data else data.get("kind")) if isinstance(data, dict) else None
    if declared != file_type:
        raise PerfpackError(f'{shown}: not a perfpack {what} (no "type": "{file_type}" field)')
    if version not in (1, SCHEMA_VERSION):
        raise PerfpackError(
            f"{shown}: unsupported schema_version {one_line(repr(version), limit=40)} "
            f"(this perfpack reads 1 and {SCHEMA_VERSION})",
            hint="re-save it with this perfpack version",
        )
    definition = {
        ("perfpack-baseline", 1): "baseline_v1",
        ("perfpack-baseline", 2): "baseline",
        ("perfpack-comparison", 2): "comparison",
    }.get((file_type, version))
    if definition is None:
        raise PerfpackError(
            f"{shown}: {what} of schema_version {version} is no longer read; measure it again"
        )
    if not validate:
        return data
    errors = sorted(_validator(definition).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top)"
        raise PerfpackError(one_line(f"{shown}: invalid {what} at {where}: {first.message}", limit=400))
    return data


def _from_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 baseline (bench only, no cwd or pinned variables recorded) in today's shape."""
    return {
        "schema_version": 1,
        "type": FILE_TYPE,
        "kind": "bench",
        "name": data["name"],
        "saved_at": data["saved_at"],
        "metric": "wall_s",
        "identity": {
            "command": data["command"],
            "shell": data["shell"],
            "cwd": None,
            "env": None,
            "extra": {},
        },
        "settings": data["settings"],
        "environment": data["environment"],
        "samples": data["samples"],
        "summary": data["summary"],
        "figures": {},
        "budgets": data.get("budgets", []),
    }


def read_baseline_file(path: Path, *, validate: bool = True) -> Baseline:
    """A baseline file as a Baseline; `validate=False` skips the JSON Schema (and its ~0.1-0.4 s import)
    for a quick listing: a malformed file then raises KeyError/TypeError, which list_baselines reports."""
    data = _check_record(path, read_json(path, what="baseline"), what="baseline", file_type=FILE_TYPE,
                         validate=validate)
    if data["schema_version"] == 1:
        data = _from_v1(data)
    m = Measurement(
        kind=data["kind"],
        name=data["name"],
        identity=Identity.from_dict(data["identity"]),
        metric=data["metric"],
        samples=data["samples"],
        settings=data.get("settings", {}),
        figures=data.get("figures", {}),
        budgets=data.get("budgets", []),
    )
    return Baseline(
        measurement=m,
        saved_at=data["saved_at"],
        environment=data["environment"],
        summary=data["summary"],
        path=path,
        schema_version=data["schema_version"],
    )


def load(root: Path, name: str) -> Baseline:
    """The saved baseline NAME, validated; a missing, corrupt, foreign or hostile file is one clear line."""
    path = baseline_path(root, name)
    if not os.path.lexists(path):
        raise PerfpackError(
            f"no baseline named {name!r}", hint="`perfpack baseline list` shows the saved ones"
        )
    return read_baseline_file(path)


def exists(root: Path, name: str) -> bool:
    return os.path.lexists(baseline_path(root, name))


# ------------------------------------------------------------------ writing
def write_text(path: Path, text: str) -> None:
    """atomic_write_text, with an unwritable place (read-only folder, /proc, a file as parent) as one line."""
    from perfpack.fsutil import atomic_write_text
    from perfpack.terminal import one_line

    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise PerfpackError(
            f"{one_line(str(path))}: cannot write: {exc.strerror or exc}",
            hint="check the folder exists and is writable",
        ) from None


def refuse_overwrite(root: Path, name: str) -> None:
    """Raise when NAME is already saved: a baseline is never replaced silently (`--force` replaces it)."""
    if not exists(root, name):
        return
    try:
        old = load(root, name)
        median = old.summary.get(old.measurement.metric) or {}
        from perfpack.bench.units import format_seconds

        what = (
            f" (saved {old.saved_at}"
            + (f" at commit {old.commit[:12]}" if old.commit else "")
            + (f", median {format_seconds(median.get('median'))}" if median else "")
            + ")"
        )
    except PerfpackError:
        what = " (unreadable)"
    raise PerfpackError(
        f"baseline {name!r} already exists{what}; nothing was measured or written",
        hint=f"compare with it: drop --save; replace it: add --force (every saved run stays in "
        f"`perfpack history {name}`); or save under another --name",
    )


def save(
    root: Path, measurement: Measurement, *, force: bool = False, env: dict[str, Any] | None = None
) -> Baseline:
    """Save `measurement` as baseline NAME and append it to NAME's history.

    An existing NAME is refused unless `force` (then replaced; its figures stay in the history).
    `env`: the environment() of the measurement (default: measured now, in `root`).
    """
    name = check_name(measurement.name)
    if measurement.kind not in KINDS:
        raise PerfpackError(f"unknown baseline kind {measurement.kind!r}", hint="one of " + ", ".join(KINDS))
    if not force:
        refuse_overwrite(root, name)
    baseline = Baseline(
        measurement=measurement,
        saved_at=_now(),
        environment=env or environment(root),
        summary=measurement.summary(),
        path=baseline_path(root, name),
    )
    assert baseline.path is not None
    write_text(
        baseline.path, json.dumps(baseline.to_dict(), indent=1, sort_keys=True, allow_nan=False) + "\n"
    )
    from perfpack.bench.history import append

    append(root, baseline)
    return baseline


def remove(root: Path, name: str) -> Path:
    """Remove baseline NAME (its history stays: `perfpack history NAME`)."""
    path = baseline_path(root, name)
    if not os.path.lexists(path):
        raise PerfpackError(
            f"no baseline named {name!r}", hint="`perfpack baseline list` shows the saved ones"
        )
    try:
        if path.is_dir() and not path.is_symlink():
            raise IsADirectoryError(21, "is a folder, not a baseline file")
        path.unlink()
    except OSError as exc:  # e.g. a folder with that name, or a read-only baselines folder
        raise PerfpackError(f"{path}: cannot remove: {exc.strerror or exc}") from None
    return path


def list_baselines(root: Path, *, validate: bool = True) -> list[dict[str, Any]]:
    """Saved baselines of a project, sorted by name: name, kind, command, saved_at, metric, summary (the
    primary metric's summary dict), path; or name and "error" for a file that does not validate.

    Public API (used by `perfpack snapshot`, with validate=False: the strict JSON reader and a shape
    check, without importing jsonschema within its probe's deadline). One broken file does not hide
    the others.
    """
    folder = baselines_dir(Path(root))
    if not folder.is_dir():
        return []
    out: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        if not _NAME.fullmatch(path.stem):
            continue
        try:
            b = read_baseline_file(path, validate=validate)
            if not validate and not (isinstance(b.summary, dict) and isinstance(b.identity.command, list)):
                raise TypeError("summary or command of the wrong type")
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            out.append({"name": path.stem, "kind": None, "command": None, "saved_at": None, "summary": None,
                        "error": f"{path}: not a valid baseline ({type(exc).__name__}); "
                                 "`perfpack baseline show` says where"})
            continue
        except PerfpackError as exc:
            out.append(
                {
                    "name": path.stem,
                    "kind": None,
                    "command": None,
                    "saved_at": None,
                    "summary": None,
                    "error": str(exc),
                }
            )
            continue
        out.append(
            {
                "name": b.name,
                "kind": b.kind,
                "command": b.identity.command,
                "saved_at": b.saved_at,
                "metric": b.measurement.metric,
                "summary": b.summary.get(b.measurement.metric),
                "commit": b.commit,
                "path": str(path),
            }
        )
    return out


# ------------------------------------------------------------------ the rest of the API, one import away
def compare(baseline: Baseline, measurement: Measurement, **options: Any) -> Any:
    """perfpack.bench.comparison.with_baseline: like with like, or NotComparable (exit 2)."""
    from perfpack.bench.comparison import with_baseline

    return with_baseline(baseline, measurement, **options)


def history(root: Path, name: str, **options: Any) -> Any:
    """perfpack.bench.history.read_history: every saved run of NAME with its trend and change points."""
    from perfpack.bench.history import read_history

    return read_history(root, name, **options)
