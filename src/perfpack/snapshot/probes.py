"""The snapshot's probes: host, git, languages and suites, containers, baselines, memory insights.

Each probe takes (project root or None, Skips) and returns a JSON-able value, or None when it has
nothing to say; it records what it could not look at in Skips. Slow calls carry their own timeouts.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

GIT_TIMEOUT_S = 2.0
MAX_FILES = 4000  # files visited when detecting languages and suites: bounded on huge trees
MAX_DEPTH = 6
SKIP_DIRS = {
    ".git",
    "node_modules",
    ".venv",
    "venv",
    "env",
    "__pycache__",
    ".tox",
    ".nox",
    "target",
    "dist",
    "build",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "vendor",
    ".idea",
    ".gradle",
    ".next",
    "site-packages",
    ".cache",
    ".hg",
    ".svn",
    "coverage",
    "htmlcov",
    ".claude",
}
LANGUAGES = {
    ".py": "Python",
    ".pyx": "Python",
    ".js": "JavaScript",
    ".mjs": "JavaScript",
    ".cjs": "JavaScript",
    ".jsx": "JavaScript",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".go": "Go",
    ".rs": "Rust",
    ".java": "Java",
    ".kt": "Kotlin",
    ".scala": "Scala",
    ".rb": "Ruby",
    ".php": "PHP",
    ".cs": "C#",
    ".c": "C",
    ".h": "C/C++",
    ".cc": "C++",
    ".cpp": "C++",
    ".hpp": "C++",
    ".swift": "Swift",
    ".ex": "Elixir",
    ".exs": "Elixir",
    ".sql": "SQL",
    ".sh": "Shell",
    ".lua": "Lua",
    ".dart": "Dart",
    ".vue": "Vue",
    ".svelte": "Svelte",
    ".zig": "Zig",
    ".r": "R",
    ".jl": "Julia",
}
MANIFESTS = {
    "pyproject.toml": "Python",
    "setup.py": "Python",
    "requirements.txt": "Python",
    "Pipfile": "Python",
    "package.json": "JavaScript",
    "go.mod": "Go",
    "Cargo.toml": "Rust",
    "pom.xml": "Java",
    "build.gradle": "Java",
    "build.gradle.kts": "Kotlin",
    "Gemfile": "Ruby",
    "composer.json": "PHP",
    "mix.exs": "Elixir",
    "CMakeLists.txt": "C/C++",
    "Package.swift": "Swift",
}
BENCH_DIRS = {"benchmarks", "benchmark", "bench", "benches", "perf", "load-tests", "loadtests", "k6"}


class Skips:
    """What a probe could not look at, and why (shown in the snapshot's Skipped section)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, what: str, why: str) -> None:
        self.items.append((what, why))


# ---------------------------------------------------------------- host
def host(root: Path | None, skips: Skips) -> dict[str, Any]:
    try:
        import psutil
    except ImportError:
        skips.add("host CPU % and top processes", "psutil is not installed")
        return _host_without_psutil(root)
    info: dict[str, Any] = {"cpus": os.cpu_count()}
    try:
        info["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        skips.add("load average", "not available on this platform")
    procs = []
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "name", "memory_info"]):
        if proc.pid == me:
            continue  # the snapshot itself is not the machine's load
        try:
            proc.cpu_percent(None)  # first call primes the counter
            procs.append(proc)
        except (psutil.Error, OSError):
            continue
    psutil.cpu_percent(None)
    time.sleep(0.1)  # one short window for machine and per-process CPU; load average gives the long view
    info["cpu_percent"] = psutil.cpu_percent(None)
    rows = []
    for proc in procs:
        try:
            cpu = proc.cpu_percent(None)
            mem = proc.info.get("memory_info")
            rows.append(
                {
                    "pid": proc.pid,
                    "name": proc.info.get("name") or "?",
                    "cpu_percent": round(cpu, 1),
                    "rss_mb": round(mem.rss / 2**20, 1) if mem else 0.0,
                }
            )
        except (psutil.Error, OSError):
            continue
    vm = psutil.virtual_memory()
    info["memory"] = {
        "total_gb": round(vm.total / 2**30, 2),
        "available_gb": round(vm.available / 2**30, 2),
        "percent": vm.percent,
    }
    info["disk"] = _disk(root, skips)
    info["top_cpu"] = sorted(rows, key=lambda r: (-r["cpu_percent"], -r["rss_mb"]))[:5]
    info["top_memory"] = sorted(rows, key=lambda r: -r["rss_mb"])[:5]
    return info


def _host_without_psutil(root: Path | None) -> dict[str, Any]:
    """CPUs, load, memory and disk from the standard library; no CPU % or process lists."""
    info: dict[str, Any] = {"cpus": os.cpu_count()}
    try:
        info["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        pass
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        total = os.sysconf("SC_PHYS_PAGES") * page
        available = _meminfo_available() or os.sysconf("SC_AVPHYS_PAGES") * page
        info["memory"] = {"total_gb": round(total / 2**30, 2), "available_gb": round(available / 2**30, 2),
                          "percent": round(100.0 * (total - available) / total, 1) if total else 0.0}
    except (OSError, ValueError, AttributeError):
        pass
    info["disk"] = _disk(root, Skips()) if root is not None else None
    return info


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _disk(root: Path | None, skips: Skips) -> dict[str, Any] | None:
    import shutil

    if root is None:  # no usable project: its disk is unknown, and the current folder is not it
        skips.add("disk", "no project folder to look at")
        return None
    try:
        where = root
        usage = shutil.disk_usage(where)
    except OSError as exc:
        skips.add("disk", f"cannot stat {root}: {exc.strerror or exc}")
        return None
    return {
        "path": str(where),
        "total_gb": round(usage.total / 2**30, 1),
        "free_gb": round(usage.free / 2**30, 1),
        "percent": round(100.0 * usage.used / usage.total, 1) if usage.total else 0.0,
    }


# ---------------------------------------------------------------- git
def git(root: Path | None, skips: Skips) -> dict[str, Any] | None:
    if root is None:
        return None
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", LC_ALL="C", GIT_TERMINAL_PROMPT="0")
    try:
        done = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "status",
                "--porcelain=v2",
                "--branch",
                "-z",
                "--untracked-files=normal",
            ],
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        skips.add("git", "git is not installed")
        return None
    except subprocess.TimeoutExpired:
        skips.add("git", f"`git status` took longer than {GIT_TIMEOUT_S:.0f} s")
        return None
    except OSError as exc:
        skips.add("git", f"cannot run git: {exc.strerror or exc}")
        return None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = message[0] if message else f"git status exited {done.returncode}"
        if "not a git repository" in reason:
            reason = "not a git repository"
        skips.add("git", reason[:200])
        return None
    info: dict[str, Any] = {"branch": None, "commit": None, "dirty_files": 0, "untracked_files": 0}
    for entry in _status_entries(done.stdout):
        if entry.startswith("# branch.head "):
            head = entry[len("# branch.head ") :]
            info["branch"] = None if head == "(detached)" else head
            info["detached"] = head == "(detached)"
        elif entry.startswith("# branch.oid "):
            oid = entry[len("# branch.oid ") :]
            info["commit"] = None if oid == "(initial)" else oid[:12]
        elif entry.startswith("# branch.ab "):
            ahead, behind = entry[len("# branch.ab ") :].split()
            info["ahead"], info["behind"] = int(ahead), -int(behind)
        elif entry.startswith("? "):
            info["untracked_files"] += 1
        elif entry[:2] in ("1 ", "2 ", "u "):
            info["dirty_files"] += 1
    info["shallow"] = _is_shallow(root)
    if info["commit"]:
        subject = _git_subject(root, env)
        if subject:
            info["subject"] = subject
    return info


def _status_entries(raw: bytes) -> list[str]:
    """Split `git status -z` v2 output; a rename entry ("2 ...") is followed by its original path."""
    parts = raw.decode("utf-8", "replace").split("\0")
    entries, skip_next = [], False
    for part in parts:
        if skip_next:
            skip_next = False
            continue
        if part:
            entries.append(part)
            skip_next = part.startswith("2 ")
    return entries


def _is_shallow(root: Path) -> bool:
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return (dot_git / "shallow").exists()
        if dot_git.is_file():
            return False  # a worktree or submodule: not worth resolving here
    return False


def _git_subject(root: Path, env: dict[str, str]) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%s"],
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace").strip()[:100] or None


# ---------------------------------------------------------------- languages and suites
def stack(root: Path | None, skips: Skips) -> dict[str, Any] | None:
    if root is None:
        return None
    counts: dict[str, int] = {}
    manifests: list[str] = []
    bench_dirs: list[str] = []
    test_dirs: list[str] = []
    k6_candidates: list[Path] = []
    go_tests = 0
    py_bench_files = 0
    visited = 0
    truncated = False
    # Breadth-first so a huge tree still shows its top levels within the bound.
    queue: list[tuple[Path, int]] = [(root, 0)]
    while queue:
        folder, depth = queue.pop(0)
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            rel = os.path.relpath(entry.path, root)
            if is_dir:
                if name in SKIP_DIRS or name.startswith(".") and name not in (".github",):
                    continue
                lower = name.lower()
                if lower in BENCH_DIRS and depth <= 1 and _holds_code(entry.path):
                    bench_dirs.append(rel)
                if lower in ("tests", "test", "__tests__", "spec"):
                    test_dirs.append(rel)
                if depth + 1 <= MAX_DEPTH:
                    queue.append((Path(entry.path), depth + 1))
                continue
            visited += 1
            if visited > MAX_FILES:
                truncated = True
                queue.clear()
                break
            if depth == 0 and name in MANIFESTS:
                manifests.append(name)
            suffix = os.path.splitext(name)[1].lower()
            language = LANGUAGES.get(suffix)
            if language:
                counts[language] = counts.get(language, 0) + 1
            if suffix == ".go" and name.endswith("_test.go"):
                go_tests += 1
            if suffix == ".py" and (
                name.startswith(("bench_", "test_bench")) or name.endswith("_bench.py")
            ):
                py_bench_files += 1
            if (
                suffix in (".js", ".ts")
                and ("k6" in name.lower() or "k6" in rel.lower().split(os.sep) or "load" in rel.lower())
                and len(k6_candidates) < 50
            ):
                k6_candidates.append(Path(entry.path))
    if truncated:
        skips.add("languages", f"stopped after {MAX_FILES} files; counts cover part of the tree")
    total = sum(counts.values()) or 1
    languages = [
        {"language": lang, "files": n, "share": round(100.0 * n / total)}
        for lang, n in sorted(counts.items(), key=lambda kv: -kv[1])
    ][:8]
    suites = _suites(root, manifests, test_dirs, bench_dirs, go_tests, py_bench_files, k6_candidates, skips)
    return {
        "languages": languages,
        "manifests": sorted(manifests),
        "files_scanned": min(visited, MAX_FILES),
        "truncated": truncated,
        "tests": suites["tests"],
        "benchmarks": suites["benchmarks"],
    }


# A benchmark suite is code that runs: a folder of reports (`perfpack report --out perf/report.md` writes
# Markdown and SVG there) or of results is not one.
CODE_SUFFIXES = {".py", ".js", ".mjs", ".ts", ".go", ".rs", ".rb", ".java", ".kt", ".scala", ".cs", ".c",
                 ".cc", ".cpp", ".php", ".lua", ".sh", ".bash", ".ex", ".exs", ".swift", ".jl", ".r", ".R"}


def _holds_code(folder: str, limit: int = 200) -> bool:
    """True when `folder` (or a folder inside it, one level down) holds a source file; bounded."""
    seen = 0
    todo = [(folder, 0)]
    while todo:
        here, depth = todo.pop()
        try:
            with os.scandir(here) as listing:
                for entry in listing:
                    seen += 1
                    if seen > limit:
                        return False
                    if entry.is_dir(follow_symlinks=False):
                        if depth < 1 and not entry.name.startswith("."):
                            todo.append((entry.path, depth + 1))
                    elif os.path.splitext(entry.name)[1] in CODE_SUFFIXES:
                        return True
        except OSError:
            continue
    return False


def _read_small(path: Path, limit: int = 256 * 1024) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""


def _suites(
    root: Path,
    manifests: list[str],
    test_dirs: list[str],
    bench_dirs: list[str],
    go_tests: int,
    py_bench_files: int,
    k6_candidates: list[Path],
    skips: Skips,
) -> dict[str, list[str]]:
    tests: list[str] = []
    benches: list[str] = []
    py_text = ""
    for name in (
        "pyproject.toml",
        "setup.cfg",
        "requirements.txt",
        "requirements-dev.txt",
        "tox.ini",
        "pytest.ini",
    ):
        if (root / name).is_file():
            py_text += _read_small(root / name)
    if (
        (root / "pytest.ini").is_file()
        or "[tool.pytest" in py_text
        or "[pytest]" in py_text
        or (root / "conftest.py").is_file()
        or ("pyproject.toml" in manifests and test_dirs)
    ):
        tests.append("pytest (" + (", ".join(d for d in test_dirs[:3]) or ".") + ")")
    elif test_dirs and not any(m in manifests for m in ("package.json", "go.mod", "Cargo.toml")):
        tests.append("test folders: " + ", ".join(test_dirs[:3]))
    if "pytest-benchmark" in py_text or "pytest_benchmark" in py_text:
        benches.append("pytest-benchmark")
    if "asv" in py_text.split() or (root / "asv.conf.json").is_file():
        benches.append("asv (airspeed velocity)")
    if py_bench_files:
        benches.append(f"{py_bench_files} Python bench_* file(s)")
    if "package.json" in manifests:
        try:
            package = json.loads(_read_small(root / "package.json"))
            scripts = package.get("scripts") if isinstance(package, dict) else None
        except ValueError:
            skips.add("package.json", "invalid JSON; its scripts were not read")
            scripts = None
        if isinstance(scripts, dict):
            for key in scripts:
                if key == "test" or key.startswith("test:"):
                    tests.append(f"npm run {key}")
                elif "bench" in key or key.startswith(("perf", "load")):
                    benches.append(f"npm run {key}")
    if go_tests:
        tests.append(f"go test ./... ({go_tests} _test.go file(s) seen)")
        benches.append("go test -bench (if Benchmark* functions exist)")
    if "Cargo.toml" in manifests:
        tests.append("cargo test")
        cargo = _read_small(root / "Cargo.toml")
        if (root / "benches").is_dir() or "[[bench]]" in cargo or "criterion" in cargo:
            benches.append("cargo bench" + (" (criterion)" if "criterion" in cargo else ""))
    if (root / "locustfile.py").is_file():
        benches.append("locust (locustfile.py)")
    k6 = [p for p in k6_candidates if "k6" in _read_small(p, 4096)]
    if k6:
        benches.append("k6: " + ", ".join(os.path.relpath(p, root) for p in k6[:3]))
    for folder in bench_dirs[:3]:
        benches.append(f"folder {folder}/")
    return {"tests": tests[:8], "benchmarks": benches[:8]}


# ---------------------------------------------------------------- containers
def containers(root: Path | None, skips: Skips) -> dict[str, Any] | None:
    host_spec = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        if host_spec.startswith("unix://"):
            path = host_spec[len("unix://") :]
            if not os.path.exists(path):
                skips.add("containers", f"no Docker daemon (no socket at {path})")
                return None
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(0.5)
            sock.connect(path)
        elif host_spec.startswith("tcp://"):
            hostport = host_spec[len("tcp://") :].rstrip("/")
            hostname, _, port = hostport.rpartition(":")
            sock = socket.create_connection((hostname or "127.0.0.1", int(port or 2375)), timeout=0.5)
        else:
            skips.add("containers", f"DOCKER_HOST scheme not supported: {host_spec}")
            return None
    except (OSError, ValueError) as exc:
        skips.add("containers", f"no Docker daemon ({_why(exc)})")
        return None
    try:
        sock.settimeout(1.0)
        sock.sendall(b"GET /containers/json HTTP/1.0\r\nHost: docker\r\n\r\n")
        chunks, size = [], 0
        while size < 4 * 2**20:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        skips.add("containers", f"Docker daemon did not answer ({_why(exc)})")
        return None
    finally:
        sock.close()
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        skips.add("containers", "Docker daemon answered with an error")
        return None
    try:
        listing = json.loads(body)
    except ValueError:
        skips.add("containers", "Docker daemon answered something that is not JSON")
        return None
    rows = []
    for item in listing[:20] if isinstance(listing, list) else []:
        names = item.get("Names") or ["?"]
        rows.append(
            {"name": str(names[0]).lstrip("/"), "image": item.get("Image"), "status": item.get("Status")}
        )
    return {"running": len(listing) if isinstance(listing, list) else 0, "containers": rows}


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


# ---------------------------------------------------------------- baselines and memory
def baselines(root: Path | None, skips: Skips) -> list[dict[str, Any]] | None:
    if root is None:
        return None
    try:
        from perfpack.bench.baseline import list_baselines
    except ImportError:
        skips.add("baselines", "perfpack.bench.baseline is not available in this install")
        return None
    items = list_baselines(root, validate=False)
    if not items:
        return []
    items = sorted(items, key=lambda b: str(b.get("saved_at") or ""), reverse=True)[:5]
    return [{key: item.get(key) for key in ("name", "command", "saved_at", "summary")} for item in items]


def insights(root: Path | None, skips: Skips) -> list[dict[str, Any]] | None:
    if root is None:
        return None
    try:
        from perfpack.memory import top_insights
    except ImportError:
        skips.add("insights", "perfpack.memory is not available in this install")
        return None
    return list(top_insights(root, 5))


def memory(root: Path | None, skips: Skips) -> dict[str, Any] | None:
    """The memory database in use: SQLite version, record counts, search mode (perfpack.memory's own)."""
    if root is None:
        return None
    from perfpack.memory import memory_status

    return memory_status(root)
