"""Finding the project a command works on, and reading perfpack's configuration for it."""

from __future__ import annotations

import errno
import os

from perfpack.errors import PerfpackError

# pathlib (urllib.parse + ipaddress) and typing are not imported at the top: `perfpack memory` finds the
# project root on its per-action path, which works on os.path strings (find_project_root_str).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path
    from typing import Any

_MARKERS = (".claude", ".git", "pyproject.toml", ".claude-plugin")


def find_project_root(start: Path | str | None = None) -> Path:
    """The nearest folder at or above `start` (default: $CLAUDE_PROJECT_DIR or the cwd) with a marker.

    Markers: .claude/, .git, pyproject.toml, .claude-plugin/. Falls back to `start` itself.
    """
    from pathlib import Path

    return Path(find_project_root_str(start))


def find_project_root_str(start: Path | str | None = None) -> str:
    """find_project_root() as an absolute path string, without importing pathlib (for hot paths)."""
    if start is None:
        start = os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd()
    here = os.path.realpath(os.fspath(start) or ".")
    if os.path.isfile(here):
        here = os.path.dirname(here)
    folder = here
    while True:
        if any(_exists(os.path.join(folder, marker)) for marker in _MARKERS):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return here
        folder = parent


def project_from_option(project: str | None) -> Path:
    """The project a command works on: the folder `--project` names (it must exist: a typo is a one-line
    error, never a new folder tree outside the project), else the one found from the current directory."""
    from perfpack.terminal import one_line

    if project is None:
        return find_project_root()
    if not os.path.isdir(project):
        raise PerfpackError(f"--project {one_line(project)}: not a folder",
                            hint="give the project's folder, or leave --project out to use the current one")
    return find_project_root(project)


def _exists(path: str) -> bool:
    """Path.exists(): False when missing, but a permission error is raised, not hidden."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        # pathlib treats EBADF/ELOOP as "does not exist"; a name too long cannot exist either
        if exc.errno in (errno.EBADF, errno.ELOOP, errno.ENAMETOOLONG):
            return False
        raise
    except ValueError:
        return False
    return True


def perfpack_dir(root: Path) -> Path:
    """The folder where perfpack keeps its project state: ROOT/.claude/perfpack."""
    return root / ".claude" / "perfpack"


def state_dir(root: Path, *parts: str) -> Path:
    """ROOT/.claude/perfpack/PARTS, where perfpack writes its state (baselines, history, comparisons,
    explain details), or a PerfpackError when a symbolic link on the way leads out of the project: a
    repository can commit `.claude/perfpack/baselines -> ~/somewhere`, and nothing is written through it."""
    from perfpack.safeio import is_inside

    path = perfpack_dir(root).joinpath(*parts)
    if not is_inside(root, path):
        raise PerfpackError(f"{path}: a symbolic link leads out of the project {root}; perfpack does not "
                            "write through it", hint="remove the link (or make it a folder)")
    return path


def load_config(root: Path | str, section: str | None = None) -> dict[str, Any]:
    """perfpack's configuration for a project, optionally one section (e.g. "commits").

    Read from `[tool.perfpack]` in ROOT/pyproject.toml, then ROOT/.claude/perfpack/config.toml (same
    keys, without the `tool.perfpack` prefix) layered on top. A file that does not parse is an error
    naming the file, never silently ignored.
    """
    from pathlib import Path

    root = Path(root)
    merged: dict[str, Any] = {}
    pyproject = root / "pyproject.toml"
    if os.path.isfile(pyproject):  # False, not an error, for a name too long to exist
        merged = _deep_merge(merged, _read_toml(pyproject).get("tool", {}).get("perfpack", {}))
    own = perfpack_dir(root) / "config.toml"
    if os.path.isfile(own):
        merged = _deep_merge(merged, _read_toml(own))
    if section is None:
        return merged
    value = merged.get(section, {})
    if not isinstance(value, dict):
        raise PerfpackError(f"configuration: [tool.perfpack.{section}] must be a table, "
                            f"not {type(value).__name__}")
    return value


def check_config_keys(section: str, config: dict[str, Any], known: Iterable[str],
                      aliases: dict[str, str] | None = None) -> dict[str, Any]:
    """`config` with every key in its dashed spelling (`max_files` -> `max-files`, aliases applied).

    An unknown key, or one given twice under two spellings, is a one-line error naming the section and
    the known keys: a typo must never be silently ignored.
    """
    names = set(known)
    aliases = aliases or {}
    result: dict[str, Any] = {}
    for key, value in config.items():
        name = str(key).replace("_", "-")
        name = aliases.get(name, name)
        if name not in names:
            raise PerfpackError(f"configuration [{section}]: unknown key {key!r}",
                                hint="known keys: " + ", ".join(sorted(names | set(aliases))))
        if name in result:
            raise PerfpackError(f"configuration [{section}]: {name!r} is given twice (as {key!r} too)")
        result[name] = value
    return result


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when a config file exists: keeps find_project_root() cheap on hot paths

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise PerfpackError(f"{path}: invalid TOML: {exc}",
                            hint="fix the file or remove perfpack's section") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PerfpackError(f"{path}: cannot read: {exc}") from None


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result
