"""Finds what to validate under the given paths: agents, commands, skills, plugin.json, hooks, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

AGENT, COMMAND, PLUGIN, HOOKS, SETTINGS = "agent", "command", "plugin", "hooks", "settings"
_SKIP_NAMES = {"readme.md", "changelog.md", "license.md"}


@dataclass(frozen=True)
class Target:
    """One file to check, what kind it is, and the pack or project folder it belongs to."""

    path: Path
    kind: str
    root: Path  # plugin/pack root, or the project root for .claude/ files
    plugin: bool = False  # part of a plugin (has .claude-plugin/plugin.json): changes what a YAML error does


@dataclass
class Discovery:
    targets: list[Target] = field(default_factory=list)
    skills: dict[str, Path] = field(default_factory=dict)  # skill name -> SKILL.md
    roots: list[Path] = field(default_factory=list)


def _md_files(folder: Path, *, keep_readme: bool = False) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.rglob("*.md")
                   if p.is_file() and (keep_readme or p.name.lower() not in _SKIP_NAMES)),
                  key=lambda p: p.parts)  # the order of Path's own comparison, without its per-pair cost


def _read_manifest(path: Path) -> object:
    """A plugin.json or marketplace.json, read through safeio; None when unreadable (its check says why)."""
    from perfpack.errors import PerfpackError
    from perfpack.safeio import read_user_text
    from perfpack.validate.jsonfiles import MAX_JSON_BYTES, loads_strict

    try:  # a FIFO or device is refused without blocking
        return loads_strict(read_user_text(path, max_bytes=MAX_JSON_BYTES))
    except (OSError, PerfpackError):
        return None


def _manifest_paths(root: Path, key: str) -> list[Path]:
    """Extra files or folders plugin.json names under `key` (the CLI loads them); none if unreadable."""
    data = _read_manifest(root / ".claude-plugin" / "plugin.json")
    value = data.get(key) if isinstance(data, dict) else None
    out = []
    for entry in value if isinstance(value, list) else [value]:
        if isinstance(entry, str) and entry.startswith("./") and ".." not in entry.split("/"):
            path = root / entry
            if path.exists():
                out.append(path)
    return out


def marketplace_plugins(root: Path) -> list[Path]:
    """Plugin folders a `.claude-plugin/marketplace.json` names with a relative source, inside `root`.

    `source` is `./path` (or a bare name under `metadata.pluginRoot`); sources elsewhere (GitHub, URLs) are
    not on disk and are not followed.
    """
    data = _read_manifest(root / ".claude-plugin" / "marketplace.json")
    if not isinstance(data, dict) or not isinstance(data.get("plugins"), list):
        return []
    metadata = data.get("metadata")
    base_rel = metadata.get("pluginRoot") if isinstance(metadata, dict) else None
    base = root / base_rel if isinstance(base_rel, str) and ".." not in base_rel.split("/") else root
    out: list[Path] = []
    for entry in data["plugins"]:
        source = entry.get("source") if isinstance(entry, dict) else None
        if not isinstance(source, str) or not source or ".." in source.replace("\\", "/").split("/"):
            continue
        if "://" in source or source.startswith(("/", "~")):
            continue
        folder = (root / source) if source.startswith("./") else (base / source)
        try:
            folder = folder.resolve()
        except OSError:
            continue
        if folder.is_dir() and (folder == root.resolve() or folder.is_relative_to(root.resolve())) \
                and folder not in out:
            out.append(folder)
    return out


def _is_plugin(root: Path) -> bool:
    return (root / ".claude-plugin" / "plugin.json").is_file()


def _scan_root(root: Path, found: Discovery, in_marketplace: bool = False) -> None:
    """A pack/plugin root (agents/, commands/, skills/, hooks/, .claude-plugin/) and its .claude/ folder.

    A folder a marketplace names is a plugin even without its own plugin.json (the marketplace entry is its
    manifest), so its agents are namespaced like any plugin's.
    """
    has_manifest = _is_plugin(root)
    plugin = has_manifest or in_marketplace
    found.roots.append(root)
    # a plugin's agents/ loads every .md (a README.md there becomes an agent); a listed path loads too
    for path in _md_files(root / "agents", keep_readme=plugin):
        found.targets.append(Target(path, AGENT, root, plugin))
    for path in _md_files(root / "commands"):
        found.targets.append(Target(path, COMMAND, root, plugin))
    if has_manifest:
        for extra in _manifest_paths(root, "agents"):
            for path in ([extra] if extra.is_file() else _md_files(extra, keep_readme=True)):
                found.targets.append(Target(path, AGENT, root, plugin))
        for extra in _manifest_paths(root, "commands"):
            for path in ([extra] if extra.is_file() else _md_files(extra)):
                found.targets.append(Target(path, COMMAND, root, plugin))
    _scan_skills(root / "skills", found, root, plugin)
    if has_manifest:
        for extra in _manifest_paths(root, "skills"):  # a skill folder, or a folder of skill folders
            if (extra / "SKILL.md").is_file():
                found.skills.setdefault(extra.name, extra / "SKILL.md")
                found.targets.append(Target(extra / "SKILL.md", COMMAND, root, plugin))
            else:
                _scan_skills(extra, found, root, plugin)
        found.targets.append(Target(root / ".claude-plugin" / "plugin.json", PLUGIN, root, True))
    if (root / "hooks" / "hooks.json").is_file():
        found.targets.append(Target(root / "hooks" / "hooks.json", HOOKS, root, plugin))
    claude = root / ".claude"
    if claude.is_dir():
        _scan_claude(claude, root, found)
    # a marketplace root: each plugin it names with a relative source is scanned as the CLI installs it
    market = (root / ".claude-plugin" / "marketplace.json").is_file()
    for folder in marketplace_plugins(root) if market else []:
        if folder not in found.roots and folder != root.resolve():
            _scan_root(folder, found, in_marketplace=True)


def _scan_claude(claude: Path, project: Path, found: Discovery) -> None:
    for path in _md_files(claude / "agents"):
        found.targets.append(Target(path, AGENT, project))
    for path in _md_files(claude / "commands"):
        found.targets.append(Target(path, COMMAND, project))
    _scan_skills(claude / "skills", found, project)
    if (claude / "settings.json").is_file():
        found.targets.append(Target(claude / "settings.json", SETTINGS, project))


def _scan_skills(folder: Path, found: Discovery, root: Path | None = None, plugin: bool = False) -> None:
    """Skills: known by name (agents' `skills:`), and checked as commands (`/name`, `!` lines) in a tree."""
    if folder.is_dir():
        for skill in sorted(folder.glob("*/SKILL.md")):
            found.skills.setdefault(skill.parent.name, skill)
            if root is not None:
                found.targets.append(Target(skill, COMMAND, root, plugin))


def _add_tree_skills(root: Path, found: Discovery) -> None:
    """Skills of a lone file's or folder's own tree count as "the validated tree" (once per root)."""
    if root not in found.roots:
        found.roots.append(root)
        _scan_skills(root / "skills", found)
        _scan_skills(root / ".claude" / "skills", found)


def _root_of(path: Path) -> tuple[Path, bool]:
    """The pack or project root a single file belongs to (for ${CLAUDE_PLUGIN_ROOT}, skills, settings)."""
    for folder in path.parents:
        if folder.name == ".claude":
            return folder.parent, False
        if any((folder / marker).exists() for marker in (".claude-plugin", "agents", "commands", ".git")):
            return folder, _is_plugin(folder)
    return path.parent, False


def _kind_of_file(path: Path) -> str | None:
    name = path.name.lower()
    if name == "plugin.json":
        return PLUGIN
    if name == "hooks.json":
        return HOOKS
    if name in ("settings.json", "settings.local.json"):
        return SETTINGS
    if not name.endswith(".md"):
        return None
    if name == "skill.md":
        return "skill"
    parts = [p.lower() for p in path.parts[:-1]]
    if "commands" in parts and ("agents" not in parts
                               or parts[::-1].index("commands") < parts[::-1].index("agents")):
        return COMMAND
    return AGENT


def discover(paths: list[Path]) -> Discovery:
    """Expand PATHs (pack roots, .claude/ folders, agents/commands folders, single files) into targets."""
    found = Discovery()
    for path in paths:
        path = path.resolve()
        if path.is_file() and path.name == "marketplace.json" and path.parent.name == ".claude-plugin":
            _scan_root(path.parent.parent, found)
            continue
        if path.is_file():
            kind = _kind_of_file(path)
            root, plugin = _root_of(path)
            if kind == "skill":
                found.skills.setdefault(path.parent.name, path)
            elif kind is not None:
                found.targets.append(Target(path, kind, root, plugin or kind == PLUGIN))
            _add_tree_skills(root, found)
            continue
        if path.name == ".claude":
            found.roots.append(path.parent)
            _scan_claude(path, path.parent, found)
        elif path.name == ".claude-plugin":
            _scan_root(path.parent, found)
        elif path.name in ("agents", "commands") and not (path / "agents").is_dir():
            root, plugin = _root_of(path / "x.md")
            _add_tree_skills(root, found)
            kind = AGENT if path.name == "agents" else COMMAND
            found.targets.extend(Target(p, kind, root, plugin) for p in _md_files(path))
        elif path.name == "skills":
            _scan_skills(path, found)
        elif any((path / marker).exists()
                 for marker in ("agents", "commands", "skills", "hooks", ".claude-plugin", ".claude")):
            _scan_root(path, found)
        # any other folder (a project without .claude/, docs/, ...) holds nothing Claude Code loads:
        # its Markdown is never read as agents
    unique: dict[Path, Target] = {}
    for target in found.targets:
        unique.setdefault(target.path, target)
    found.targets = list(unique.values())
    return found
