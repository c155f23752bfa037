"""Plan and run `perfpack install` / `perfpack uninstall`: plain functions that return typed results.

A plan is computed in memory first (invalid input changes nothing), then applied as one journaled
transaction (perfpack.install.txn): a failure or a SIGKILL at any point leaves a state that the next
install or uninstall rolls back. The record (.claude/perfpack/install.json) lists exactly what was
written, with hashes, so uninstall removes that and nothing else; every path it names is resolved and
kept inside the Claude folder.

Nothing machine-specific goes into committed files: the hooks in settings.json and /optimize reach
perfpack through .claude/perfpack/local/ (git-ignored; a launcher, two links and a PATH line that a
SessionStart hook hands to Claude Code's Bash tool). A clone without perfpack finds no launcher: the
hooks exit 0 silently.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfpack.errors import PerfpackError
from perfpack.exitcodes import ExitCode
from perfpack.install import settings as st
from perfpack.install.txn import (
    ABSENT,
    BACK,
    DIR,
    FILE,
    FORWARD,
    LINK,
    Outcome,
    State,
    Step,
    Transaction,
    read_state,
    temp_files,
)

if TYPE_CHECKING:
    from perfpack.report import Report

MANIFEST_NAME = "install.json"
MANIFEST_VERSION = 2
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
PACK_KINDS = ("agents", "commands")
PACK_METADATA = "perfpack.toml"  # agents/perfpack.toml: the agents' perfpack-only metadata (triggers, ...)
LOCAL = "local"  # .claude/perfpack/local/: this machine's launcher and links, git-ignored
LOCAL_FILES = ("python", "hook.py", "env.sh", "bin/perfpack")
RUNTIME_FILES = ("routes.cache", "route-sessions.txt", "hook.log")  # the hooks regenerate these
GITIGNORE_LINE = ".claude/memory/"
# Agent memory, this machine's launcher folder, and the files the hooks regenerate (noise in `git status`).
GITIGNORE_LINES = (
    GITIGNORE_LINE,
    ".claude/perfpack/local/",
    ".claude/perfpack/routes.cache",
    ".claude/perfpack/route-sessions.txt",
    ".claude/perfpack/hook.log",
)
# The interpreter's options for the hooks: -S skips `site` (and its `os` import, .pth files, the
# setuptools distutils shim), ~25 % of a bare start; hook.py finds the package beside itself and
# needs nothing from site-packages. -X utf8 reads and writes UTF-8 (what Claude Code sends, whatever the
# locale) and skips the locale's codec lookup: 5 % fewer instructions than `python -S -c pass`.
# The plugin's hooks/hooks.json spells the same.
HOOK_PYTHON_FLAGS = ("-S", "-X", "utf8")
# Claude Code event -> hook.py's event argument, for every handler of ours that runs hook.py.
HOOK_EVENTS = {"UserPromptSubmit": "user-prompt-submit", "PreToolUse": "pre-tool-use",
               "SubagentStop": "subagent-stop", "Stop": "stop"}
_BACKUP = re.compile(r"settings\.json\.perfpack-backup-[0-9A-Za-z_.-]+")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# What the folders perfpack leaves behind hold, for uninstall's "stays" lines.
_KNOWN = {
    "memory": "agent memory (perfpack memory)",
    "agent-memory": "the agents' memory digests",
    "perfpack/baselines": "your saved baselines",
    "perfpack/config.toml": "your perfpack configuration",
    "perfpack/history": "your baselines' history",
    "perfpack/comparisons": "your saved comparisons (perfpack report)",
    "perfpack/profiles": "your profiles (perfpack profile)",
    "perfpack/explain": "perfpack explain's details",
    "perfpack/ledger.jsonl": "the measurement ledger (perfpack evidence)",
    "perfpack/ledger.index": "the measurement ledger's index",
    "perfpack/.gitignore": "keeps the ledger out of git",
}


# ------------------------------------------------------------------------------------------ target
@dataclass
class Target:
    """Where to install: a project's .claude/ folder, or the user's Claude config folder (project None).

    Every path perfpack writes is inside `root` (the folder holding the Claude folder) and is named
    relative to it ("/"-separated), e.g. ".claude/agents/x.md", ".gitignore".
    """

    claude_dir: Path
    project: Path | None

    @property
    def root(self) -> Path:
        return self.claude_dir.parent

    @property
    def prefix(self) -> str:
        return self.claude_dir.name

    def rel(self, *parts: str) -> str:
        return "/".join((self.prefix, *parts))

    def path(self, rel: str) -> Path:
        return self.root / rel

    @property
    def manifest(self) -> Path:
        return self.claude_dir / "perfpack" / MANIFEST_NAME

    @property
    def routes(self) -> Path:
        return self.claude_dir / "perfpack" / "routes.json"

    @property
    def settings(self) -> Path:
        return self.claude_dir / "settings.json"

    @property
    def local(self) -> Path:
        return self.claude_dir / "perfpack" / LOCAL

    @property
    def journal(self) -> Path:
        return self.root / f".{self.prefix.lstrip('.')}-perfpack-journal.json"

    def transaction(self) -> Transaction:
        return Transaction(self.root, self.journal, self.manages)

    def manages(self, rel: str) -> bool:
        """Is `rel` a path install writes or uninstall removes (and so may appear in a journal)?

        Also the leftovers of killed writes of those: `.NAME.<12 hex>.tmp` beside NAME."""
        folder, _, name = rel.rpartition("/")
        leftover = re.fullmatch(r"\.(.+)\.[0-9a-f]{12}\.tmp", name)
        if leftover and not leftover[1].endswith(".tmp"):
            rel = f"{folder}/{leftover[1]}" if folder else leftover[1]
        if self.project is not None and rel in (".gitignore", "CLAUDE.md"):
            return True
        head, _, rest = rel.partition("/")
        if head != self.prefix:
            return False
        if rest in ("", "agents", "commands", "perfpack", "settings.json", f"perfpack/{LOCAL}",
                    f"perfpack/{LOCAL}/bin", f"perfpack/{MANIFEST_NAME}", "perfpack/routes.json"):
            return True
        if _BACKUP.fullmatch(rest) or _managed_pack_file(rest):
            return True
        folder, _, name = rest.rpartition("/")
        if folder == "perfpack" and name in RUNTIME_FILES:
            return True
        return rest in {f"perfpack/{LOCAL}/{name}" for name in LOCAL_FILES}


def _managed_pack_file(key: str) -> bool:
    """agents/NAME.md, agents/perfpack.toml or commands/NAME.md, one plain file name (what install.json's
    "files" may hold)."""
    kind, _, name = key.partition("/")
    if key == f"agents/{PACK_METADATA}":
        return True
    return kind in PACK_KINDS and bool(re.fullmatch(r"[^/\\\0]+\.md", name)) and name not in (".md", "..md")


def resolve_target(project: str | None, user: bool) -> Target:
    if project and user:
        raise PerfpackError("--project and --user are exclusive", hint="pick one")
    if user:
        config = os.environ.get("CLAUDE_CONFIG_DIR")
        claude_dir = Path(config).expanduser() if config else Path.home() / ".claude"
        claude_dir = Path(os.path.realpath(claude_dir))
        if not claude_dir.parent.is_dir():
            raise PerfpackError(f"{claude_dir.parent}: no such directory")
        return Target(claude_dir, None)
    if project:
        root = Path(project).expanduser()
        if not root.is_dir():
            raise PerfpackError(f"{project}: no such directory", hint="create the project folder first")
        root = Path(os.path.realpath(root))
    else:
        from perfpack.project import find_project_root

        root = Path(os.path.realpath(find_project_root(Path.cwd())))
    return Target(root / ".claude", root)


# ------------------------------------------------------------------------------------------ plan
@dataclass
class Change:
    """One line of the plan. op: add | update | restore | remove | keep | skip | stays.

    `after` is what the transaction makes the path hold (None: nothing is written for this line).
    """

    op: str
    rel: str
    detail: str
    after: State | None = None
    follow: bool = False
    if_empty: bool = False


@dataclass
class Plan:
    action: str
    target: Target
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    conflicts: int = 0
    installed: bool = True  # uninstall: False when there was nothing to remove
    manifest: dict[str, Any] | None = None

    def add(self, op: str, rel: str, detail: str, after: State | None = None, **kw: bool) -> Change:
        change = Change(op, rel, detail, after, **kw)
        self.changes.append(change)
        return change

    def steps(self) -> list[Step]:
        return [Step(c.rel, c.after, follow=c.follow, if_empty=c.if_empty)
                for c in self.changes if c.after is not None]


@dataclass
class Result:
    """What install/uninstall did (or, with dry_run, would do), and its exit code."""

    plan: Plan
    dry_run: bool
    recovered: str | None = None
    left_alone: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return ExitCode.FINDINGS if self.plan.conflicts else ExitCode.OK


def sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _peek(path: Path) -> State | None:
    """The state at `path` without following a final symlink; None for a FIFO, socket or device."""
    try:
        return read_state(path)
    except PerfpackError:
        return None


def hook_script() -> Path:
    import perfpack

    return Path(perfpack.__file__).resolve().parent / "hook.py"


def launcher_text() -> str:
    """.claude/perfpack/local/bin/perfpack: runs the perfpack that installed it (this machine only)."""
    beside = Path(sys.executable).parent / "perfpack"
    if beside.is_file() and os.access(beside, os.X_OK):
        argv = [str(beside.absolute())]
    else:
        argv = [str(Path(sys.executable).absolute()), "-m", "perfpack"]
    program = shlex.quote(argv[0])
    rest = "".join(" " + shlex.quote(a) for a in argv[1:])
    return (
        "#!/bin/sh\n"
        "# perfpack for this project on this machine; written by `perfpack install`, git-ignored.\n"
        f"perfpack={program}\n"
        '[ -x "$perfpack" ] || { echo "perfpack: $perfpack is gone; install perfpack again, then run'
        ' \\`perfpack install\\` in this project" >&2; exit 127; }\n'
        f'exec "$perfpack"{rest} "$@"\n'
    )


def _local_ref(target: Target, name: str) -> str:
    """A shell word for .claude/perfpack/local/NAME in a hook command: "$CLAUDE_PROJECT_DIR"-relative
    for a project (nothing machine-specific in a committed file), absolute and quoted for --user."""
    if target.project is not None:
        return f'"$CLAUDE_PROJECT_DIR/{target.prefix}/perfpack/{LOCAL}/{name}"'
    return shlex.quote(str(target.local / name))


def hook_commands(target: Target) -> dict[str, str]:
    """event -> shell command of our handler. Each starts nothing but the shell's own `[` test when
    .claude/perfpack/local/ is missing (a clone without perfpack): exit 0, no output."""
    python, hook, env = (_local_ref(target, n) for n in ("python", "hook.py", "env.sh"))
    flags = " ".join(HOOK_PYTHON_FLAGS)
    rules = "" if target.project is not None else " --rules " + shlex.quote(str(target.routes))
    return {
        "SessionStart": f'[ -z "$CLAUDE_ENV_FILE" ] || [ ! -f {env} ] || cat {env} >> "$CLAUDE_ENV_FILE"',
        "UserPromptSubmit": f"[ ! -x {python} ] || exec {python} {flags} {hook} user-prompt-submit{rules}",
        "PreToolUse": f"[ ! -x {python} ] || exec {python} {flags} {hook} pre-tool-use",
        "SubagentStop": f"[ ! -x {python} ] || exec {python} {flags} {hook} subagent-stop",
        "Stop": f"[ ! -x {python} ] || exec {python} {flags} {hook} stop",
    }


def hook_argv(target: Target, event: str) -> list[str]:
    """What our handler for `event` executes once .claude/perfpack/local/ is in place (benchmarks)."""
    local = target.local
    argv = [str(local / "python"), *HOOK_PYTHON_FLAGS, str(local / "hook.py"),
            HOOK_EVENTS[event]]
    if target.project is None and event == "UserPromptSubmit":
        argv += ["--rules", str(target.routes)]
    return argv


def hook_specs(target: Target) -> dict[str, st.HookSpec]:
    """Our handlers, shaped like the plugin's hooks/hooks.json (matcher, `if` filter, timeout: one
    source for both routes), with commands that go through .claude/perfpack/local/."""
    from perfpack.resources import pack_root
    from perfpack.safeio import read_json_file

    commands = hook_commands(target)
    events = {name: event for event, name in HOOK_EVENTS.items()}
    path = pack_root() / "hooks" / "hooks.json"
    specs = {"SessionStart": st.HookSpec.command("SessionStart", commands["SessionStart"])}
    try:
        data = read_json_file(path, what="the pack's hooks file")
        for event, groups in data["hooks"].items():
            for group in groups:
                for handler in group["hooks"]:
                    found = re.search(r"hook\.py['\"]?\s+([a-z-]+)", str(handler.get("command", "")))
                    if found and events.get(found[1]) == event:
                        ours = {k: (commands[event] if k == "command" else v) for k, v in handler.items()}
                        specs[event] = st.HookSpec(ours, {k: v for k, v in group.items() if k != "hooks"})
    except (KeyError, TypeError, AttributeError, FileNotFoundError):
        raise PerfpackError(f"{path}: the pack's hooks file is missing or damaged",
                            hint="reinstall perfpack") from None
    missing = [e for e in events.values() if e not in specs]
    if missing:
        raise PerfpackError(f"{path}: no perfpack handler for {', '.join(missing)}",
                            hint="reinstall perfpack")
    return specs


def env_text(target: Target) -> str | None:
    """local/env.sh: the PATH line a SessionStart hook hands to Claude Code's Bash tool (CLAUDE_ENV_FILE),
    so the agents' and /optimize's `perfpack ...` run this launcher. None when the folder holds a `:`."""
    folder = str(target.local / "bin")
    if ":" in folder:
        return None
    return (
        "# perfpack's launcher folder first on PATH for Claude Code's Bash tool (this machine only)\n"
        f'export PATH={shlex.quote(folder)}:"$PATH"\n'
    )


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
        "files": {},
        "dirs": [],
    }
    # Folders we create are removed again by uninstall when empty.
    created_dirs = list((old or {}).get("dirs", []))
    for key in (".", *PACK_KINDS, "perfpack", f"perfpack/{LOCAL}", f"perfpack/{LOCAL}/bin"):
        rel = target.prefix if key == "." else target.rel(key)
        state = _peek(target.path(rel))
        if state is not None and state.kind == DIR:
            continue
        if state is not None and state.kind == LINK:
            raise PerfpackError(f"{target.path(rel)} is a symbolic link; perfpack does not install "
                                "through it, nothing changed",
                                hint="make it a real folder, or use --project on its target")
        if state is not None and state.kind != ABSENT:
            raise PerfpackError(f"{target.path(rel)} is in the way (not a folder); nothing changed",
                                hint="move it aside and run `perfpack install` again")
        plan.add("add", rel, "new folder", State(DIR))
        if key not in created_dirs and not key.startswith(f"perfpack/{LOCAL}"):
            created_dirs.append(key)
    manifest["dirs"] = created_dirs

    for kind in PACK_KINDS:
        folder = pack / kind
        sources = sorted(folder.glob("*.md")) if folder.is_dir() else []
        if not sources:
            raise PerfpackError(f"no {kind}/*.md in the pack at {pack}", hint="reinstall perfpack")
        if kind == "agents" and (folder / PACK_METADATA).is_file():
            sources.append(folder / PACK_METADATA)  # travels with the agents (route --compile, validate)
        for src in sources:
            try:
                data = src.read_bytes()
            except OSError as exc:
                raise PerfpackError(f"{src}: cannot read the pack file: {exc.strerror or exc}") from None
            key = f"{kind}/{src.name}"
            if _plan_pack_file(plan, key, data, old_files):
                manifest["files"][key] = sha256(data)

    _plan_routes(plan, pack, manifest, old)
    _plan_local(plan)
    _plan_settings(plan, manifest, old)
    if target.project is not None:
        _plan_gitignore(plan, manifest, old)
    _plan_temp_leftovers(plan, manifest)
    plan.manifest = manifest
    data = (_dump_json(manifest) + "\n").encode("utf-8")
    current = _peek(target.manifest)
    plan.add("update" if current and current.kind == FILE else "add", target.rel("perfpack", MANIFEST_NAME),
             "the record of what install wrote", State(FILE, data=data))
    return plan


def _plan_pack_file(plan: Plan, key: str, data: bytes, old_files: dict[str, str]) -> bool:
    """Plan one agent/command file; True when it is (or stays) ours and goes into the record."""
    rel = plan.target.rel(key)
    current = _peek(plan.target.path(rel))
    if current is None or current.kind not in (ABSENT, FILE):
        plan.add("skip", rel, "not a regular file; left alone")
        plan.warnings.append(f"{rel}: not a regular file; not installed")
        plan.conflicts += 1
        return False
    if current.kind == ABSENT:
        plan.add("add", rel, "add", State(FILE, data=data))
        return True
    digest = current.digest()
    if digest == sha256(data):
        if key in old_files:
            plan.add("keep", rel, "up to date")
            return True
        plan.add("keep", rel, "identical file already there; not ours to remove")
        return False
    if old_files.get(key) == digest:
        plan.add("update", rel, "upgrade", State(FILE, data=data, mode=current.mode))
        return True
    if key in old_files:
        plan.add("skip", rel, "changed since perfpack installed it; kept (yours now)")
        plan.warnings.append(f"{rel}: modified by you; not overwritten")
        return False
    plan.add("skip", rel, "a different file of yours has this name; left alone")
    plan.warnings.append(f"{rel}: your own file has this name; not installed")
    plan.conflicts += 1
    return False


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
    rel = plan.target.rel("perfpack", "routes.json")
    current = _peek(plan.target.routes)
    digest = current.digest() if current is not None and current.kind == FILE else None
    if current is None or current.kind not in (ABSENT, FILE) or (
        digest is not None and digest != sha256(data) and digest != (old or {}).get("routes")
    ):
        plan.add("skip", rel, "a routes.json not written by perfpack; left alone")
        plan.warnings.append(f"{rel}: not written by this install; kept")
        return
    if digest == sha256(data):
        plan.add("keep", rel, "up to date")
    else:
        plan.add("update" if digest else "add", rel, "compile routing rules", State(FILE, data=data))
    manifest["routes"] = sha256(data)


def _plan_local(plan: Plan) -> None:
    """This machine's launcher folder (git-ignored): links to the interpreter and hook.py, the
    `perfpack` launcher, and the PATH line for Claude Code's Bash tool."""
    target = plan.target
    wanted: dict[str, State] = {
        "python": State(LINK, link=os.path.realpath(sys.executable)),
        "hook.py": State(LINK, link=str(hook_script())),
        "bin/perfpack": State(FILE, data=launcher_text().encode("utf-8"), mode=0o755),
    }
    env = env_text(target)
    if env is None:
        plan.warnings.append(f"{target.local / 'bin'} holds a `:`, which PATH cannot carry: subagents find "
                             "`perfpack` only if it is on PATH")
    else:
        wanted["env.sh"] = State(FILE, data=env.encode("utf-8"), mode=0o644)
    for name, state in wanted.items():
        rel = target.rel("perfpack", LOCAL, name)
        current = _peek(target.path(rel))
        if current is None or current.kind == DIR:
            raise PerfpackError(f"{target.path(rel)} is in the way; nothing changed",
                                hint="remove it (perfpack's own folder) and run `perfpack install` again")
        if current.same_as(state) and (state.mode is None or current.mode == state.mode):
            plan.add("keep", rel, "up to date")
        else:
            what = {"python": "link to this interpreter", "hook.py": "link to perfpack's hook",
                    "bin/perfpack": "launcher", "env.sh": "PATH line for Claude Code's Bash tool"}[name]
            plan.add("update" if current.kind != ABSENT else "add", rel, what + " (this machine only)", state)


def _settings_follow(target: Target) -> bool:
    """settings.json may be a symlink (dotfiles): changed where it points, which must be inside root."""
    path = target.settings
    if not path.is_symlink():
        return False
    from perfpack.safeio import is_inside

    real = os.path.realpath(path)
    if not is_inside(target.root, real):
        raise PerfpackError(f"{path} is a symbolic link to {real}, outside {target.root}; perfpack writes "
                            "only inside it, so nothing changed",
                            hint="add perfpack's hooks by hand (docs/install.md), or make it a file")
    return True


def _plan_settings(plan: Plan, manifest: dict[str, Any], old: dict[str, Any] | None) -> None:
    target = plan.target
    path = target.settings
    follow = _settings_follow(target)
    current = st.read_settings(path)
    old_settings = (old or {}).get("settings") or {}
    merged = st.merge_hooks(current.data, hook_specs(target))
    merged, attribution = st.merge_attribution(merged, _commit_attribution(), old_settings.get("attribution"))
    new = st.render_settings(current, merged)
    if old and current.raw is not None and sha256(current.raw) == old_settings.get("written"):
        # Re-run on our own unchanged output: the pre-install original is still the one to restore.
        original = old_settings.get("original")
    elif old:
        original = None  # changed since our last write: uninstall removes our entries structurally
    else:
        original = None if current.raw is None else current.raw.decode("utf-8", "surrogateescape")
    hooks_key, events = st.created_by_merge(current.data)
    if old and old_settings.get("created"):
        made = old_settings["created"]
        hooks_key = bool(made["hooks"]) or hooks_key
        events = list(dict.fromkeys([*made["events"], *events]))
    record: dict[str, Any] = {
        "existed": old_settings.get("existed", current.raw is not None) if old else current.raw is not None,
        "original": original,
        "written": sha256(new),
        "created": {"hooks": hooks_key, "events": events},
        "attribution": attribution,
        "backups": list(old_settings.get("backups", [])),
    }
    manifest["settings"] = record
    rel = target.rel("settings.json")
    if current.raw == new:
        plan.add("keep", rel, "perfpack hooks already present")
        return
    if current.raw is not None and sha256(current.raw) != old_settings.get("written"):
        # A backup of the user's content; our own unchanged output needs none (the record has the original).
        backup = _backup_name(path)
        plan.add("add", target.rel(backup), "backup of your settings before the change",
                 State(FILE, data=current.raw, mode=0o600))
        record["backups"].append(backup)
    had_ours = st.remove_hooks(current.data) != current.data
    what = "update perfpack hooks" if had_ours else "add perfpack hooks"
    if attribution and (current.data.get("attribution") or {}).get("commit") != attribution["commit"]:
        what = f"{what} and the commit attribution"
    mode = _mode_of(path) if current.raw is not None else None
    plan.add("update" if current.raw is not None else "add", rel,
             what + " (SessionStart, UserPromptSubmit, PreToolUse Bash, SubagentStop, Stop)",
             State(FILE, data=new, mode=mode),
             follow=follow)


def _commit_attribution() -> str | None:
    """The pack's commit convention (agents/perfpack.toml [commits] attribution), if it has one."""
    try:
        from perfpack.packmeta import read_pack_meta
    except ImportError:
        return None
    from perfpack.resources import pack_root

    return read_pack_meta(pack_root() / "agents").commit_attribution


def _mode_of(path: Path) -> int | None:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


def _backup_name(path: Path) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{path.name}.perfpack-backup-{stamp}"
    counter = 1
    while os.path.lexists(path.with_name(name)):
        name = f"{path.name}.perfpack-backup-{stamp}-{counter}"
        counter += 1
    return name


def _read_optional(path: Path, what: str) -> tuple[bytes | None, str | None]:
    """(bytes, None) of a regular file (a symlink inside the project followed), (None, None) when absent,
    (None, reason) when it cannot be used."""
    from perfpack.safeio import is_inside, read_user_bytes

    if path.is_symlink() and not is_inside(path.parent, os.path.realpath(path)):
        return None, "a symbolic link out of the project"
    try:
        return read_user_bytes(path, what=what, max_bytes=st.MAX_SETTINGS_BYTES), None
    except FileNotFoundError:
        if path.is_symlink():
            return None, "a symbolic link to a missing file"
        return None, None
    except PerfpackError as exc:
        return None, exc.message


def _plan_gitignore(plan: Plan, manifest: dict[str, Any], old: dict[str, Any] | None) -> None:
    project = plan.target.root
    path = project / ".gitignore"
    raw, problem = _read_optional(path, ".gitignore")
    if problem:
        plan.warnings.append(f"{path}: {problem}; perfpack's paths not git-ignored")
        return
    previous = (old or {}).get("gitignore") or {}
    present = {line.strip().lstrip("/").rstrip("/") for line in _lines(raw)}
    missing = [line for line in GITIGNORE_LINES if line.rstrip("/") not in present]
    if not missing:
        if previous:
            manifest["gitignore"] = previous
        plan.add("keep", ".gitignore", "perfpack's paths already ignored")
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
    plan.add("update" if raw is not None else "add", ".gitignore", "ignore " + ", ".join(missing),
             State(FILE, data=(raw or b"") + added.encode(), mode=_mode_of(path)), follow=path.is_symlink())


def _lines(raw: bytes | None) -> list[str]:
    return (raw or b"").decode("utf-8", "surrogateescape").splitlines()


def _managed_files(target: Target, manifest: dict[str, Any] | None) -> list[str]:
    """Every file install writes (rel), for the leftovers of killed writes beside them."""
    rels = [target.rel("settings.json"), target.rel("perfpack", MANIFEST_NAME),
            target.rel("perfpack", "routes.json")]
    rels += [target.rel("perfpack", name) for name in RUNTIME_FILES]
    rels += [target.rel("perfpack", LOCAL, name) for name in LOCAL_FILES]
    rels += [target.rel(key) for key in (manifest or {}).get("files", {})]
    if target.project is not None:
        rels.append(".gitignore")
    return rels


def _plan_temp_leftovers(plan: Plan, manifest: dict[str, Any] | None) -> None:
    """`.NAME.<12 hex>.tmp` beside a file perfpack writes: left by a write that was killed (by an older
    perfpack, or another program using perfpack.fsutil). Removed; the journal covers new ones."""
    target = plan.target
    seen = {c.rel for c in plan.changes}
    for rel in _managed_files(target, manifest):
        path = target.path(rel)
        if not path.parent.is_dir() or path.parent.is_symlink():
            continue
        for leftover in temp_files(path.parent, path.name):
            leftover_rel = f"{rel.rpartition('/')[0]}/{leftover.name}" if "/" in rel else leftover.name
            if leftover_rel not in seen and _temp_allowed(target, leftover_rel):
                plan.add("remove", leftover_rel, "leftover of an interrupted write", State(ABSENT))
                seen.add(leftover_rel)


def _temp_allowed(target: Target, rel: str) -> bool:
    return target.manages(rel)


def _dump_json(data: Any) -> str:
    import json

    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)


# ------------------------------------------------------------------------------------------ record
_EVENTS = ("SessionStart", *HOOK_EVENTS)


def read_manifest(target: Target) -> dict[str, Any] | None:
    """install.json, validated: every path it names is one install manages, inside the Claude folder."""
    from perfpack.safeio import contained, loads_json_strict, read_user_bytes

    path = target.manifest
    what = "perfpack's install record"
    try:
        raw = read_user_bytes(path, what=what, max_bytes=MAX_MANIFEST_BYTES, follow_symlinks=False)
    except FileNotFoundError:
        return None
    data = loads_json_strict(raw, what=f"{what} {path}")
    try:
        _check_manifest(data)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise PerfpackError(f"{path}: {what} is damaged ({exc}); nothing changed",
                            hint="restore it from git, or remove perfpack's files by hand") from None
    for key in data["files"]:
        contained(target.root, target.rel(key), what=f"{what}: file")
    return data


def _check_manifest(data: Any) -> None:
    def need(ok: bool, why: str) -> None:
        if not ok:
            raise ValueError(why)

    def text_or_none(value: Any) -> bool:
        return value is None or isinstance(value, str)

    need(isinstance(data, dict), "not a JSON object")
    need(data.get("version", 1) in (1, MANIFEST_VERSION), f"unknown version {data.get('version')!r}")
    files = data.get("files")
    need(isinstance(files, dict), '"files" is not an object')
    for key, digest in files.items():
        need(_managed_pack_file(key), f'"files" names {key!r}, which is not an agents/ or commands/ file '
             "inside the Claude folder; refused")
        need(isinstance(digest, str) and bool(_HEX64.fullmatch(digest)),
             f"the hash of {key!r} is not a SHA-256")
    dirs = data.get("dirs", [])
    need(isinstance(dirs, list), '"dirs" is not a list')
    for key in dirs:
        need(key in (".", *PACK_KINDS, "perfpack"),
             f'"dirs" names {key!r}, not a folder install creates; refused')
    routes = data.get("routes")
    need(routes is None or (isinstance(routes, str) and bool(_HEX64.fullmatch(routes))),
         '"routes" is not a SHA-256')
    record = data.get("settings")
    if record is not None:
        need(isinstance(record, dict), '"settings" is not an object')
        need(isinstance(record.get("existed", False), bool), '"settings.existed" is not true/false')
        need(text_or_none(record.get("original")), '"settings.original" is not text')
        need(text_or_none(record.get("written")), '"settings.written" is not text')
        made = record.get("created")
        if made is not None:
            need(isinstance(made, dict) and isinstance(made.get("hooks"), bool)
                 and isinstance(made.get("events"), list) and all(e in _EVENTS for e in made["events"]),
                 '"settings.created" is not {"hooks": true/false, "events": [...]}')
        mine = record.get("attribution")
        need(mine is None or (isinstance(mine, dict) and isinstance(mine.get("commit"), str)
                              and isinstance(mine.get("key", False), bool)),
             '"settings.attribution" is not {"commit": "...", "key": true/false}')
        backups = record.get("backups", [])
        need(isinstance(backups, list) and all(isinstance(b, str) and _BACKUP.fullmatch(b) for b in backups),
             '"settings.backups" names something that is not a settings backup; refused')
    ignore = data.get("gitignore")
    if ignore is not None:
        need(isinstance(ignore, dict), '"gitignore" is not an object')
        need(isinstance(ignore.get("added", ""), str), '"gitignore.added" is not text')
        lines = ignore.get("lines", [])
        need(isinstance(lines, list) and all(isinstance(x, str) and "\n" not in x for x in lines),
             '"gitignore.lines" is not a list of lines')
        # Only lines perfpack writes: a record naming `secrets.env` would make uninstall un-ignore it.
        need(all(x in GITIGNORE_LINES for x in lines), '"gitignore.lines" names a line perfpack never '
             "writes; refused")
        need(all(not x.strip() or x in GITIGNORE_LINES for x in str(ignore.get("added", "")).split("\n")),
             '"gitignore.added" holds a line perfpack never writes; refused')
        need(isinstance(ignore.get("created", False), bool), '"gitignore.created" is not true/false')
        blocks = ignore.get("blocks", 1)
        need(isinstance(blocks, int) and not isinstance(blocks, bool) and blocks >= 0,
             '"gitignore.blocks" is not a count')


# ------------------------------------------------------------------------------------------ uninstall
def plan_uninstall(target: Target) -> Plan:
    plan = Plan("uninstall", target)
    manifest = read_manifest(target)
    if manifest is None:
        plan.installed = False
        return plan
    removed: set[str] = set()

    def remove(rel: str, detail: str) -> None:
        plan.add("remove", rel, detail, State(ABSENT))
        removed.add(rel)

    for key, digest in manifest["files"].items():
        rel = target.rel(key)
        current = _peek(target.path(rel))
        if current is None or current.kind not in (ABSENT, FILE):
            plan.add("stays", rel, "not a regular file now; left alone")
        elif current.kind == ABSENT:
            continue
        elif current.digest() == digest:
            remove(rel, "remove")
        else:
            plan.add("stays", rel, "modified since install; kept")
            plan.warnings.append(f"{rel}: modified since install; kept")
    if manifest.get("routes"):
        rel = target.rel("perfpack", "routes.json")
        current = _peek(target.routes)
        if current is not None and current.kind == FILE:
            if current.digest() == manifest["routes"]:
                remove(rel, "remove compiled routes")
            else:
                plan.add("stays", rel, "modified since install; kept")
    for name in RUNTIME_FILES:
        rel = target.rel("perfpack", name)
        current = _peek(target.path(rel))
        if current is not None and current.kind in (FILE, LINK):
            remove(rel, "remove perfpack's runtime file (the hooks regenerate it)")
    for name in LOCAL_FILES:
        rel = target.rel("perfpack", LOCAL, name)
        current = _peek(target.path(rel))
        if current is not None and current.kind in (FILE, LINK):
            remove(rel, "remove this machine's launcher")
    _plan_temp_leftovers(plan, manifest)
    removed.update(c.rel for c in plan.changes if c.op == "remove")
    _plan_settings_removal(plan, manifest.get("settings") or {}, removed)
    remove(target.rel("perfpack", MANIFEST_NAME), "remove install record")
    folders = [target.rel("perfpack", LOCAL, "bin"), target.rel("perfpack", LOCAL)]
    folders += [target.prefix if k == "." else target.rel(k)
                for k in sorted(manifest.get("dirs", []), key=lambda k: -len(Path(k).parts))]
    for rel in sorted(dict.fromkeys(folders), key=lambda r: -r.count("/")):
        path = target.path(rel)
        if path.is_symlink() or not path.is_dir():
            continue
        if _will_be_empty(path, rel, removed) and not _gets_new_files(plan, rel):
            plan.add("remove", rel, "folder, empty", State(ABSENT), if_empty=True)
            removed.add(rel)
    if target.project is not None and manifest.get("gitignore"):
        _plan_gitignore_removal(plan, manifest["gitignore"], removed)
    _plan_stays(plan, removed)
    plan.manifest = manifest
    return plan


def _will_be_empty(path: Path, rel: str, removed: set[str]) -> bool:
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return all(f"{rel}/{name}" in removed for name in names)


def _gets_new_files(plan: Plan, folder: str) -> bool:
    """Does the plan create something inside `folder` (a backup of settings.json)?"""
    return any(c.rel.startswith(folder + "/") and c.after is not None and c.after.kind != ABSENT
               for c in plan.changes)


def _plan_settings_removal(plan: Plan, record: dict[str, Any], removed: set[str]) -> None:
    target = plan.target
    path = target.settings
    rel = target.rel("settings.json")
    if not os.path.lexists(path):
        return
    follow = _settings_follow(target)
    current = st.read_settings(path)
    raw = current.raw or b""
    if sha256(raw) == record.get("written"):
        # Untouched since we wrote it (so no backup needed: it is ours): put the user's exact bytes
        # back, or remove the file we created; install's backups identical to that go too.
        if not record.get("existed") and not follow:
            plan.add("remove", rel, "remove (created by perfpack)", State(ABSENT))
            removed.add(rel)
            return
        if record.get("original") is not None:
            original = record["original"].encode("utf-8", "surrogateescape")
            plan.add("restore", rel, "restore the exact pre-install content",
                     State(FILE, data=original, mode=_mode_of(path)), follow=follow)
            for name in record.get("backups", []):
                state = _peek(path.with_name(name))
                if state is not None and state.kind == FILE and state.data == original:
                    plan.add("remove", target.rel(name), "install's backup (same as the restored file)",
                             State(ABSENT))
                    removed.add(target.rel(name))
            return
    made = record.get("created")
    cleaned = st.remove_hooks(current.data, (bool(made["hooks"]), list(made["events"])) if made else None)
    cleaned = st.remove_attribution(cleaned, record.get("attribution"))
    if cleaned == current.data:
        plan.add("stays", rel, "no perfpack hooks found; kept")
        return
    backup = _backup_name(path)
    plan.add("add", target.rel(backup), "backup of your settings before the change",
             State(FILE, data=raw, mode=0o600))
    if not cleaned and not record.get("existed") and not follow:
        plan.add("remove", rel, "remove (held only perfpack hooks)", State(ABSENT))
        removed.add(rel)
        return
    plan.add("update", rel, "remove perfpack's hooks and attribution (the rest of your settings kept)",
             State(FILE, data=st.render_settings(current, cleaned), mode=_mode_of(path)), follow=follow)


def _plan_gitignore_removal(plan: Plan, record: dict[str, Any], removed: set[str]) -> None:
    """Drop the lines install added, except those for paths that stay (memory perfpack leaves behind
    must not show up in `git status`)."""
    target = plan.target
    path = target.root / ".gitignore"
    raw, _ = _read_optional(path, ".gitignore")
    if raw is None:
        return
    ours = [line for line in record.get("lines", [GITIGNORE_LINE])]
    keep = [line for line in ours if _still_there(target, line, removed)]
    drop = [line for line in ours if line not in keep]
    added = record.get("added", GITIGNORE_LINE + "\n").encode("utf-8", "surrogateescape")
    if not keep and record.get("blocks", 1) == 1 and raw.endswith(added):
        rest = raw[: -len(added)]  # the exact bytes we appended, so the file comes back byte-for-byte
    else:
        lines = raw.split(b"\n")
        for line in drop:
            stripped = [item.strip() for item in lines]
            if line.encode() in stripped:
                del lines[stripped.index(line.encode())]
        rest = b"\n".join(lines)
    for line in keep:
        plan.add("stays", ".gitignore", f"keeps `{line}`: {line} stays (perfpack's data, still ignored)")
    if rest == raw:
        return
    follow = path.is_symlink()
    if not rest and record.get("created") and not follow:
        plan.add("remove", ".gitignore", "remove (created by perfpack)", State(ABSENT))
        removed.add(".gitignore")
    else:
        plan.add("update", ".gitignore", "remove perfpack's lines: " + ", ".join(drop),
                 State(FILE, data=rest, mode=_mode_of(path)), follow=follow)


def _still_there(target: Target, line: str, removed: set[str]) -> bool:
    """Does the path a .gitignore line names exist after the planned removals?"""
    rel = line.strip().strip("/")
    path = target.root / rel
    if rel in removed or not os.path.lexists(path):
        return False
    if path.is_dir() and not path.is_symlink():
        return not _will_be_empty(path, rel, removed)
    return True


def _plan_stays(plan: Plan, removed: set[str]) -> None:
    """What uninstall leaves in the Claude folder: baselines, memory, your own files and folders."""
    target = plan.target
    listed = {c.rel for c in plan.changes if c.op in ("stays", "update", "restore", "add")}
    if target.prefix in removed or not target.claude_dir.is_dir():
        return

    def describe(rel: str, path: Path) -> None:
        if rel in removed or rel in listed:
            return
        inner = rel[len(target.prefix) + 1:]
        if path.is_dir() and not path.is_symlink():
            count = _count_files(path, rel, removed)
            label = _KNOWN.get(inner, "yours")
            plan.add("stays", rel + "/", f"{label}: {count} file{'s' if count != 1 else ''}")
        else:
            plan.add("stays", rel, _KNOWN.get(inner, "yours"))

    for name in sorted(os.listdir(target.claude_dir)):
        rel = target.rel(name)
        path = target.claude_dir / name
        ours = name in ("perfpack", *PACK_KINDS) and path.is_dir() and not path.is_symlink()
        if ours and rel not in removed:
            for inner in sorted(os.listdir(path)):
                describe(f"{rel}/{inner}", path / inner)
            continue
        describe(rel, path)


def _count_files(path: Path, rel: str, removed: set[str], limit: int = 100_000) -> int:
    count = 0
    for folder, _dirs, files in os.walk(path):
        base = rel + folder[len(str(path)):].replace(os.sep, "/")
        count += sum(1 for f in files if f"{base}/{f}" not in removed)
        if count >= limit:
            break
    return count


# ------------------------------------------------------------------------------------------ run
def install(target: Target, *, dry_run: bool = False) -> Result:
    """Install (or upgrade) the pack into `target`; with dry_run, only plan."""
    return _run("install", target, dry_run)


def uninstall(target: Target, *, dry_run: bool = False) -> Result:
    """Remove exactly what install wrote; with dry_run, only plan (the same plan the real run applies)."""
    return _run("uninstall", target, dry_run)


def _run(action: str, target: Target, dry_run: bool) -> Result:
    planner = plan_install if action == "install" else plan_uninstall
    txn = target.transaction()
    if dry_run:
        pending = txn.pending()
        if pending is not None:
            raise PerfpackError(f"an interrupted {pending['action']} (started {pending['started']}) is "
                                f"pending in {target.root}; a dry run cannot show its effect",
                                hint=f"run `perfpack {action}` without --dry-run: it rolls that back first")
        return Result(planner(target), dry_run=True)
    if not target.root.is_dir():
        raise PerfpackError(f"{target.root}: no such directory")
    with txn.locked():
        recovered: Outcome = txn.recover()
        plan = planner(target)
        # An interrupted install is rolled back; an interrupted uninstall is completed (its journal
        # then holds only what it writes, so a full disk can still be cleaned up).
        outcome = txn.run(action, plan.steps(), BACK if action == "install" else FORWARD)
    for rel in outcome.kept_dirs:  # something of the user's appeared in a folder meanwhile
        for change in plan.changes:
            if change.rel == rel and change.op == "remove":
                change.op, change.detail = "stays", "not empty (something was added meanwhile)"
    return Result(plan, dry_run=False, recovered=recovered.recovered, left_alone=recovered.left_alone)


# ------------------------------------------------------------------------------------------ report
_SYMBOLS = {"add": "+", "update": "~", "restore": "~", "remove": "-", "keep": "=", "skip": "!"}
_MAX_STAYS_LINES = 25  # a summary an agent can read; --format json has every line


def report(result: Result) -> Report:
    """The Report the text and json reporters print: every change, what stays, warnings."""
    from perfpack.report import Report
    from perfpack.terminal import one_line

    plan = result.plan
    target = plan.target
    changes = [c for c in plan.changes if c.op != "stays"]
    stays = [c for c in plan.changes if c.op == "stays"]
    data: dict[str, Any] = {
        "action": plan.action,
        "dry_run": result.dry_run,
        "target": str(target.claude_dir),
        "installed": plan.installed,
        "recovered": result.recovered,
        "changes": [{"op": c.op, "path": c.rel, "detail": c.detail} for c in changes],
        "removed": [c.rel for c in changes if c.op == "remove"],
        "changed": [c.rel for c in changes if c.op in ("add", "update", "restore")],
        "stays": [{"path": c.rel, "detail": c.detail} for c in stays],
        "backups": [c.rel for c in changes if ".perfpack-backup-" in c.rel and c.op == "add"],
        "warnings": plan.warnings,
        "conflicts": plan.conflicts,
    }
    lines = []
    if result.recovered:
        lines.append(f"perfpack {result.recovered}")
    for rel in result.left_alone:
        lines.append(f"  warning: {one_line(rel)} changed after the interruption; left as it is")
    where = one_line(target.claude_dir)
    if not plan.installed:
        lines.append(f"perfpack is not installed in {where} (no {target.rel('perfpack', 'install.json')}); "
                     "nothing to remove")
    else:
        verb = ("would " + plan.action) if result.dry_run else plan.action
        note = " (dry run: nothing written)" if result.dry_run else ""
        lines.append(f"perfpack {verb} in {where}{note}")
        for c in changes:
            lines.append(f"  {_SYMBOLS.get(c.op, '?')} {one_line(c.rel)}: {one_line(c.detail)}")
        if stays:
            lines.append("stays" if result.dry_run else "left in place")
            for c in stays[:_MAX_STAYS_LINES]:
                lines.append(f"  {one_line(c.rel)}: {one_line(c.detail)}")
            if len(stays) > _MAX_STAYS_LINES:
                lines.append(f"  ... and {len(stays) - _MAX_STAYS_LINES} more (--format json lists them)")
    for warning in plan.warnings:
        lines.append(f"  warning: {one_line(warning)}")
    if plan.action == "install" and plan.installed and not result.dry_run:
        # what a first-time user does next (the README's quick start, in one line)
        if target.project is not None:
            folder = shlex.quote(one_line(target.root))
            lines.append(f"next: commit .claude/ and .gitignore, then `cd {folder} && claude` "
                         "and type /optimize <what is slow>")
        else:
            lines.append("next: run `claude` in any project and type /optimize <what is slow>")
    return Report(command=plan.action, data=data, text="\n".join(lines))
