"""Builds packs in temp folders and runs the validator on them."""

from __future__ import annotations

from pathlib import Path

from perfpack.validate.engine import Options, validate_paths

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO_ROOT = Path(__file__).resolve().parents[2]


def write_pack(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return root


def run(paths: list[Path] | Path, **options) -> list:
    paths = paths if isinstance(paths, list) else [paths]
    return validate_paths(paths, Options(**options),
                          cwd=paths[0] if paths[0].is_dir() else paths[0].parent).findings


def rules_of(findings) -> list[str]:
    return sorted(f.rule for f in findings)
