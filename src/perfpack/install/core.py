"""Plan and apply an install or uninstall as a list of file changes, recorded in a manifest.

Everything is computed in memory first (so invalid input changes nothing); the writes are then applied
in order and rolled back if one fails. The manifest (.claude/perfpack/install.json) records exactly
what was written, with hashes, so uninstall removes that and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.install import settings as st

MANIFEST_NAME = "install.json"
GITIGNORE_LINE = ".claude/memory/"
# Agent memory, plus the files the hooks regenerate beside routes.json (noise in `git status`).
GITIGNORE_LINES = (
    GITIGNORE_LINE,
    ".claude/perfpack/routes.cache",
    ".claude/perfpack/route-sessions.txt",
    ".claude/perfpack/hook.log",
)
MANIFEST_VERSION = 1


@dataclass
class Target:
    """Where to install: a project's .claude/ folder, or the user's Claude config folder."""

    claude_dir: Path
    project: Path | None  # None for --user

    @property
    def manifest(self) -> Path:
        return self.claude_dir / "perfpack" / MANIFEST_NAME

    @property
    def routes(self) -> Path:
        return self.claude_dir / "perfpack" / "routes.json"

    @property
    def settings(self) -> Path:
        return self.claude_dir / "settings.json"


@dataclass
class Change:
    op: str  # write | delete | skip | keep | rmdir
    path: Path
    detail: str
    data: bytes | None = None  # new content for "write"
    backup: bool = False  # back the old file up before writing


@dataclass
class Plan:
    action: str
    target: Target
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None  # written last (install) or removed (uninstall)
    conflicts: int = 0

    def to_dict(self, root: Path, dry_run: bool, backups: list[str]) -> dict[str, Any]:
        return {
            "action": self.action,
            "dry_run": dry_run,
            "target": str(self.target.claude_dir),
            "changes": [{"op": c.op, "path": _rel(c.path, root), "detail": c.detail} for c in self.changes],
            "warnings": self.warnings,
            "backups": backups,
            "conflicts": self.conflicts,
        }


def resolve_target(project: str | None, user: bool) -> Target:
    if project and user:
        raise PerfpackError("--project and --user are exclusive", hint="pick one")
    if user:
        config = os.environ.get("CLAUDE_CONFIG_DIR")
        claude_dir = Path(config).expanduser() if config else Path.home() / ".claude"
        return Target(claude_dir.resolve(), None)
    if project:
        root = Path(project).expanduser()
        if not root.is_dir():
            raise PerfpackError(f"{project}: no such directory", hint="create the project folder first")
        root = root.resolve()
    else:
        from perfpack.project import find_project_root

        root = find_project_root(Path.cwd())
    return Target(root / ".claude", root)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_hash(path: Path) -> str | None:
    try:
        return sha256(path.read_bytes()) if path.is_file() else None
    except OSError:
        return None


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def perfpack_executable() -> str | None:
    """The running install's `perfpack` script (absolute), for `!` lines run where PATH lacks the venv."""
    beside = Path(sys.executable).parent / "perfpack"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside.absolute())
    found = shutil.which("perfpack")
    return str(Path(found).absolute()) if found else None


def hook_script() -> Path:
    import perfpack

    return Path(perfpack.__file__).resolve().parent / "hook.py"


# The interpreter's options for the hooks: -S skips `site` (and its `os` import, .pth files, the
# setuptools distutils shim), ~25 % of a bare start; hook.py finds the package beside itself and
# needs nothing from site-packages. The plugin's hooks/hooks.json spells the same.
HOOK_PYTHON_FLAGS = ("-S",)


def hook_commands(target: Target) -> dict[str, str]:
    interpreter = str(Path(sys.executable).absolute())
    python = " ".join(shlex.quote(part) for part in (interpreter, *HOOK_PYTHON_FLAGS))
    script = shlex.quote(str(hook_script()))
    routes = shlex.quote(str(target.routes))
    return {
        "UserPromptSubmit": f"{python} {script} user-prompt-submit --rules {routes}",
        "PreToolUse": f"{python} {script} pre-tool-use",
    }


_BANG_INLINE = re.compile(r"(^|\s)!`perfpack(?=[\s`])", re.MULTILINE)
_ALLOWED = re.compile(r"Bash\(perfpack(?=[\s:)])")


def rewrite_command_text(text: str, exe: str | None) -> tuple[str, str | None]:
    """Point `!` lines and Bash(perfpack ...) patterns at the absolute perfpack executable.

    Returns (text, warning). Left unchanged when there is no executable, or when its path has a space
    (shell and permission patterns would split it) and `perfpack` is on PATH anyway."""
    if not exe:
        return text, "perfpack executable not found; /optimize keeps calling `perfpack` from PATH"
    if any(ch.isspace() for ch in exe) or any(ch in exe for ch in "()`$\"'\\"):
        if shutil.which("perfpack"):
            return text, None
        return text, f"perfpack's path {exe!r} has spaces or quotes; /optimize needs `perfpack` on PATH"
    out_lines = []
    in_bang_block = False
    frontmatter = text.startswith("---")
    fm_done = not frontmatter
    for index, line in enumerate(text.splitlines(keepends=True)):
        if not fm_done:
            if index > 0 and line.strip() == "---":
                fm_done = True
            elif line.lstrip().startswith("allowed-tools") or line.startswith((" ", "\t", "-")):
                line = _ALLOWED.sub(f"Bash({exe}", line)
            out_lines.append(line)
            continue
        stripped = line.strip()
        if stripped.startswith("```"):
            in_bang_block = stripped.startswith("```!") and not in_bang_block
            out_lines.append(line)
            continue
        if in_bang_block and re.match(r"\s*perfpack\b", line):
            line = re.sub(r"^(\s*)perfpack\b", lambda m: m.group(1) + exe, line, count=1)
        else:
            line = _BANG_INLINE.sub(lambda m: m.group(1) + "!`" + exe, line)
        out_lines.append(line)
    return "".join(out_lines), None


# ------------------------------------------------------------------------------------------ install
def plan_install(target: Target) -> Plan:
    from perfpack import __version__
    from perfpack.resources import pack_root

    plan = Plan("install", target)
    old = read_manifest(target)
    old_files: dict[str, str] = (old or {}).get("files", {})
    pack = pack_root()
    manifest: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "perfpack_version": __version__,
        "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "claude_dir": str(target.claude_dir),
        "files": {},
        "dirs": [],
    }
    # Folders we create are removed again by uninstall when empty.
    created_dirs = list((old or {}).get("dirs", []))
    for folder in (
        target.claude_dir,
        target.claude_dir / "agents",
        target.claude_dir / "commands",
        target.claude_dir / "perfpack",
    ):
        key = _rel(folder, target.claude_dir)
        if not folder.exists() and key not in created_dirs:
            created_dirs.append(key)
    manifest["dirs"] = created_dirs

    exe = perfpack_executable()
    sources: list[tuple[Path, Path]] = []
    for kind in ("agents", "commands"):
        folder = pack / kind
        files = sorted(folder.glob("*.md")) if folder.is_dir() else []
        if not files:
            raise PerfpackError(f"no {kind}/*.md in the pack at {pack}", hint="reinstall perfpack")
        sources += [(src, target.claude_dir / kind / src.name) for src in files]
    for src, dest in sources:
        key = _rel(dest, target.claude_dir)
        try:
            data = src.read_bytes()
        except OSError as exc:
            raise PerfpackError(f"{src}: cannot read the pack file: {exc.strerror or exc}") from None
        if src.parent.name == "commands":
            try:
                text, warning = rewrite_command_text(data.decode("utf-8"), exe)
            except UnicodeDecodeError:
                raise PerfpackError(f"{src}: the pack file is not UTF-8") from None
            data = text.encode("utf-8")
            if warning and src.name == "optimize.md":
                plan.warnings.append(warning)
        current = _file_hash(dest)
        if dest.exists() and not dest.is_file():
            plan.changes.append(Change("skip", dest, "not a regular file; left alone"))
            plan.conflicts += 1
            continue
        if current is None:
            plan.changes.append(Change("write", dest, "add", data))
        elif current == sha256(data):
            if key in old_files:
                plan.changes.append(Change("keep", dest, "up to date"))
            else:
                plan.changes.append(Change("keep", dest, "identical file already there; not ours to remove"))
                continue
        elif key in old_files and old_files[key] == current:
            plan.changes.append(Change("write", dest, "upgrade", data))
        elif key in old_files:
            plan.changes.append(Change("skip", dest, "changed since perfpack installed it; kept (yours now)"))
            plan.warnings.append(f"{_rel(dest, target.claude_dir)}: modified by you; not overwritten")
            continue
        else:
            plan.changes.append(Change("skip", dest, "a different file of yours has this name; left alone"))
            plan.warnings.append(
                f"{_rel(dest, target.claude_dir)}: your own file has this name; not installed"
            )
            plan.conflicts += 1
            continue
        manifest["files"][key] = sha256(data)

    _plan_routes(plan, pack, manifest, old)
    _plan_settings(plan, manifest, old)
    if target.project is not None:
        _plan_gitignore(plan, target.project, manifest, old)
    plan.manifest = manifest
    return plan


def _plan_routes(plan: Plan, pack: Path, manifest: dict[str, Any], old: dict[str, Any] | None) -> None:
    try:
        from perfpack.route.compile import compile_agents, render_routes
    except ImportError:
        plan.warnings.append("routing compiler not available; prompt routing rules were not compiled")
        return
    try:
        data = render_routes(compile_agents(pack / "agents")).encode("utf-8")
    except PerfpackError as exc:
        plan.warnings.append(f"routing rules not compiled: {exc}")
        return
    dest = plan.target.routes
    current = _file_hash(dest)
    previous = (old or {}).get("routes")
    if current is not None and current != sha256(data) and previous != current:
        plan.changes.append(Change("skip", dest, "a routes.json not written by perfpack; left alone"))
        plan.warnings.append(f"{dest}: not written by this install; kept")
        return
    plan.changes.append(
        Change(
            "keep" if current == sha256(data) else "write",
            dest,
            "up to date" if current == sha256(data) else "compile routing rules",
            data,
        )
    )
    manifest["routes"] = sha256(data)


def _plan_settings(plan: Plan, manifest: dict[str, Any], old: dict[str, Any] | None) -> None:
    path = plan.target.settings
    current = st.read_settings(path)
    merged = st.merge_hooks(current.data, hook_commands(plan.target))
    new = st.render_settings(current, merged)
    old_settings = (old or {}).get("settings") or {}
    if old and current.raw is not None and sha256(current.raw) == old_settings.get("written"):
        # Re-run on our own unchanged output: the pre-install original is still the one to restore.
        original = old_settings.get("original")
    elif old:
        original = None  # changed since our last write: uninstall removes our entries structurally
    else:
        original = None if current.raw is None else current.raw.decode("utf-8", "surrogateescape")
    if old and "created" in old_settings:
        created = old_settings["created"]
    else:
        hooks_key, events = st.created_by_merge(current.data)
        created = {"hooks": hooks_key, "events": events}
    manifest["settings"] = {
        "existed": old_settings.get("existed", current.raw is not None) if old else current.raw is not None,
        "original": original,
        "written": sha256(new),
        "created": created,
    }
    if current.raw == new:
        plan.changes.append(Change("keep", path, "perfpack hooks already present"))
        return
    had_ours = st.remove_hooks(current.data) != current.data
    what = "update perfpack hooks" if had_ours else "add perfpack hooks"
    plan.changes.append(
        Change(
            "write", path, what + " (UserPromptSubmit, PreToolUse Bash)", new, backup=current.raw is not None
        )
    )


def _plan_gitignore(plan: Plan, project: Path, manifest: dict[str, Any], old: dict[str, Any] | None) -> None:
    path = project / ".gitignore"
    if path.exists() and not path.is_file():
        plan.warnings.append(f"{path} is not a regular file; .claude/memory/ not git-ignored")
        return
    try:
        raw = path.read_bytes() if path.exists() else None
    except OSError as exc:
        plan.warnings.append(f"{path}: cannot read ({exc.strerror}); .claude/memory/ not git-ignored")
        return
    previous = (old or {}).get("gitignore") or {}
    present = {line.strip().lstrip("/").rstrip("/") for line in _lines(raw)}
    missing = [line for line in GITIGNORE_LINES if line.rstrip("/") not in present]
    if not missing:
        if previous:
            manifest["gitignore"] = previous
        plan.changes.append(Change("keep", path, "perfpack's paths already ignored"))
        return
    added = "".join(line + "\n" for line in missing)
    if raw and not raw.endswith(b"\n"):
        added = "\n" + added
    manifest["gitignore"] = {
        "added": added,
        "lines": list(previous.get("lines", [])) + missing,
        "created": previous.get("created", raw is None) if previous else raw is None,
        "blocks": int(previous.get("blocks", 1 if previous else 0)) + 1,
    }
    plan.changes.append(Change("write", path, "ignore " + ", ".join(missing), (raw or b"") + added.encode()))


def _lines(raw: bytes | None) -> list[str]:
    return (raw or b"").decode("utf-8", "surrogateescape").splitlines()


# ------------------------------------------------------------------------------------------ uninstall
def read_manifest(target: Target) -> dict[str, Any] | None:
    path = target.manifest
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PerfpackError(
            f"{path}: perfpack's install record is unreadable ({exc})",
            hint="restore it from git, or remove perfpack's files by hand",
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise PerfpackError(f"{path}: not a perfpack install record")
    # A hand-edited record with a wrong-typed section would otherwise crash install/uninstall mid-plan.
    for key, kind in _MANIFEST_SHAPE.items():
        if data.get(key) is not None and not isinstance(data[key], kind):
            raise PerfpackError(
                f"{path}: perfpack's install record is damaged ({key!r} is not a {kind.__name__})",
                hint="restore it from git, or remove perfpack's files by hand",
            )
    if not all(isinstance(v, str) for v in (*data["files"].values(), *(data.get("dirs") or ()))):
        raise PerfpackError(
            f"{path}: perfpack's install record is damaged (a file or folder entry is not text)",
            hint="restore it from git, or remove perfpack's files by hand",
        )
    return data


_MANIFEST_SHAPE: dict[str, type] = {"settings": dict, "gitignore": dict, "dirs": list, "routes": str}


def plan_uninstall(target: Target) -> Plan:
    plan = Plan("uninstall", target)
    manifest = read_manifest(target)
    if manifest is None:
        raise PerfpackError(
            f"perfpack is not installed in {target.claude_dir} (no {MANIFEST_NAME})", exit_code=1
        )
    for key, digest in manifest["files"].items():
        path = target.claude_dir / key
        current = _file_hash(path)
        if current is None:
            plan.changes.append(Change("keep", path, "already gone"))
        elif current == digest:
            plan.changes.append(Change("delete", path, "remove"))
        else:
            plan.changes.append(Change("skip", path, "modified since install; kept"))
            plan.warnings.append(f"{key}: modified since install; kept")
    if manifest.get("routes"):
        current = _file_hash(target.routes)
        if current == manifest["routes"]:
            plan.changes.append(Change("delete", target.routes, "remove compiled routes"))
        elif current is not None:
            plan.changes.append(Change("skip", target.routes, "modified since install; kept"))
    for name in _runtime_files():
        path = target.claude_dir / "perfpack" / name
        if path.is_file() and not path.is_symlink():
            plan.changes.append(Change("delete", path, "remove perfpack's runtime file (regenerated on use)"))
    _plan_settings_removal(plan, manifest.get("settings") or {})
    gitignore = manifest.get("gitignore")
    if gitignore and target.project is not None:
        _plan_gitignore_removal(plan, target.project / ".gitignore", gitignore)
    plan.changes.append(Change("delete", target.manifest, "remove install record"))
    for key in sorted(manifest.get("dirs", []), key=lambda k: -len(Path(k).parts)):
        folder = target.claude_dir if key == "." else target.claude_dir / key
        plan.changes.append(Change("rmdir", folder, "remove if empty"))
    plan.manifest = manifest
    return plan


def _runtime_files() -> list[str]:
    """Files perfpack's hooks write beside routes.json (caches, session state, debug log): derived data,
    so uninstall takes them too. Baselines and config.toml are the user's and stay."""
    names = ["hook.log"]
    try:
        from perfpack.route.engine import CACHE_NAME

        names.append(CACHE_NAME)
    except ImportError:
        pass
    try:
        from perfpack.route.hook import STATE_FILE

        names.append(STATE_FILE)
    except ImportError:
        pass
    return names


def _plan_settings_removal(plan: Plan, record: dict[str, Any]) -> None:
    path = plan.target.settings
    if not path.exists():
        return
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PerfpackError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if sha256(raw) == record.get("written"):
        # Untouched since we wrote it (so no backup needed: it is ours): put the user's exact bytes
        # back, or remove the file we created; install's backups identical to that go too.
        if not record.get("existed"):
            plan.changes.append(Change("delete", path, "remove (created by perfpack)"))
            return
        if record.get("original") is not None:
            original = record["original"].encode("utf-8", "surrogateescape")
            plan.changes.append(Change("write", path, "restore the exact pre-install content", original))
            for name in record.get("backups", []):
                backup = path.parent / name
                if Path(name).name == name and _file_hash(backup) == sha256(original):
                    plan.changes.append(
                        Change("delete", backup, "remove install's backup (same as restored)")
                    )
            return
    current = st.read_settings(path)
    made = record.get("created")
    cleaned = st.remove_hooks(current.data, (bool(made["hooks"]), list(made["events"])) if made else None)
    if cleaned == current.data:
        plan.changes.append(Change("keep", path, "no perfpack hooks found"))
        return
    if not cleaned and not record.get("existed"):
        plan.changes.append(Change("delete", path, "remove (held only perfpack hooks)", backup=True))
        return
    plan.changes.append(
        Change("write", path, "remove perfpack hooks", st.render_settings(current, cleaned), backup=True)
    )


def _plan_gitignore_removal(plan: Plan, path: Path, record: dict[str, Any]) -> None:
    try:
        raw = path.read_bytes()
    except OSError:
        return
    added = record.get("added", GITIGNORE_LINE + "\n").encode("utf-8", "surrogateescape")
    ours = [line.encode() for line in record.get("lines", [GITIGNORE_LINE])]
    if record.get("blocks", 1) == 1 and raw.endswith(added):
        rest = raw[: -len(added)]  # the exact bytes we appended, so the file comes back byte-for-byte
    else:
        lines = raw.split(b"\n")
        for line in ours:
            stripped = [item.strip() for item in lines]
            if line in stripped:
                del lines[stripped.index(line)]
        rest = b"\n".join(lines)
        if rest == raw:
            return
    if not rest and record.get("created"):
        plan.changes.append(Change("delete", path, "remove (created by perfpack)"))
    else:
        plan.changes.append(Change("write", path, "remove perfpack's lines", rest))


# ------------------------------------------------------------------------------------------ apply
def apply(plan: Plan) -> list[str]:
    """Apply the plan's writes in order; on a failure, put back what was already changed. Returns backups."""
    from perfpack.fsutil import atomic_write_bytes, backup_file

    undo: list[tuple[Path, bytes | None]] = []
    made_dirs: list[Path] = []
    backups: list[str] = []
    try:
        for change in plan.changes:
            path = change.path
            if change.op == "write":
                previous = path.read_bytes() if path.is_file() else None
                if change.backup and previous is not None:
                    saved = backup_file(path)
                    if saved:
                        backups.append(str(saved))
                for parent in reversed([p for p in (path.parent, *path.parent.parents) if not p.exists()]):
                    parent.mkdir()
                    made_dirs.append(parent)
                atomic_write_bytes(path, change.data or b"")
                undo.append((path, previous))
            elif change.op == "delete" and path.is_file():
                if change.backup:
                    saved = backup_file(path)
                    if saved:
                        backups.append(str(saved))
                previous = path.read_bytes()
                path.unlink()
                undo.append((path, previous))
            elif change.op == "rmdir" and path.is_dir():
                try:
                    path.rmdir()
                except OSError:
                    pass  # not empty: something of the user's lives there
        if plan.action == "install" and plan.manifest is not None:
            record = plan.manifest.get("settings")
            if record is not None:
                old_backups = (read_manifest(plan.target) or {}).get("settings", {}).get("backups", [])
                record["backups"] = list(old_backups) + [
                    Path(b).name for b in backups if Path(b).parent == plan.target.settings.parent
                ]
            data = (json.dumps(plan.manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
            previous = plan.target.manifest.read_bytes() if plan.target.manifest.is_file() else None
            atomic_write_bytes(plan.target.manifest, data)
            undo.append((plan.target.manifest, previous))
    except OSError as exc:
        for path, previous in reversed(undo):
            try:
                if previous is None:
                    path.unlink(missing_ok=True)
                else:
                    atomic_write_bytes(path, previous)
            except OSError:
                pass
        for folder in reversed(made_dirs):
            try:
                folder.rmdir()
            except OSError:
                pass
        where = getattr(exc, "filename", None) or ""
        raise PerfpackError(
            f"{plan.action} failed, nothing changed: {where}: {exc.strerror or exc}",
            hint="check the folder's permissions",
        ) from None
    return backups
