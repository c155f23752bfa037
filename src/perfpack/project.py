"""Finding the project a command works on, and reading perfpack's configuration for it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError

_MARKERS = (".claude", ".git", "pyproject.toml", ".claude-plugin")


def find_project_root(start: Path | str | None = None) -> Path:
    """The nearest folder at or above `start` (default: $CLAUDE_PROJECT_DIR or the cwd) with a marker.

    Markers: .claude/, .git, pyproject.toml, .claude-plugin/. Falls back to `start` itself.
    """
    if start is None:
        start = os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd()
    here = Path(start).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        if any((folder / marker).exists() for marker in _MARKERS):
            return folder
    return here


def perfpack_dir(root: Path) -> Path:
    """The folder where perfpack keeps its project state: ROOT/.claude/perfpack."""
    return root / ".claude" / "perfpack"


def load_config(root: Path | str, section: str | None = None) -> dict[str, Any]:
    """perfpack's configuration for a project, optionally one section (e.g. "commits").

    Read from `[tool.perfpack]` in ROOT/pyproject.toml, then ROOT/.claude/perfpack/config.toml (same
    keys, without the `tool.perfpack` prefix) layered on top. A file that does not parse is an error
    naming the file, never silently ignored.
    """
    root = Path(root)
    merged: dict[str, Any] = {}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        merged = _deep_merge(merged, _read_toml(pyproject).get("tool", {}).get("perfpack", {}))
    own = perfpack_dir(root) / "config.toml"
    if own.is_file():
        merged = _deep_merge(merged, _read_toml(own))
    if section is None:
        return merged
    value = merged.get(section, {})
    if not isinstance(value, dict):
        raise PerfpackError(f"configuration: [tool.perfpack.{section}] must be a table, not {type(value).__name__}")
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when a config file exists: keeps find_project_root() cheap on hot paths

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise PerfpackError(f"{path}: invalid TOML: {exc}", hint="fix the file or remove perfpack's section") from None
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
