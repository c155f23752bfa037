"""Where the pack's own files (agents, commands, hooks, schemas) are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def pack_root() -> Path:
    """The folder holding agents/, commands/, hooks/, schemas/ and .claude-plugin/.

    A wheel carries a copy under perfpack/data/pack (see setup.py); an editable install or a
    checkout uses the repository root, the single source of truth.
    """
    bundled = _PACKAGE_DIR / "data" / "pack"
    if (bundled / "agents").is_dir():
        return bundled
    return _PACKAGE_DIR.parent.parent


def schema_path(name: str) -> Path:
    """Path of a JSON Schema shipped with perfpack, e.g. schema_path("agent")."""
    return pack_root() / "schemas" / f"{name}.schema.json"
