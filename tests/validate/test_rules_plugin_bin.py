"""PP411 plugin-bin-files: `claude plugin validate` 2.1.337+ warns that claude.ai's plugin directory refuses a
plugin with files in bin/ (Claude Code loads it). Which shapes warn was read from the real CLI (tests/e2e/
test_e2e_pack.py compares with it on every pinned version)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from validate_helpers import run, write_pack

MANIFEST = {".claude-plugin/plugin.json": '{"name": "p", "author": {"name": "a"}}'}


def bin_findings(root: Path, version: str) -> list:
    return [f for f in run(root, cli_version=version) if f.rule == "PP411"]


@pytest.mark.parametrize(("files", "path"), [
    ({"bin/tool": "#!/bin/sh\n"}, "bin/tool"),
    ({"bin/.gitkeep": ""}, "bin/.gitkeep"),
    ({"bin/sub/tool": "x"}, "bin/sub/tool"),
    ({"bin/b": "", "bin/a": ""}, "bin/a"),  # one finding per plugin, on the first file
])
def test_files_in_bin_warn_on_2_1_337(tmp_path: Path, files: dict[str, str], path: str) -> None:
    root = write_pack(tmp_path, {**MANIFEST, **files})
    (hit,) = bin_findings(root, "2.1.337")
    assert (hit.path, hit.line, hit.severity) == (path, 1, "warning")
    assert "claude.ai" in hit.message and "Claude Code loads it" in hit.message and "libexec" in hit.fix
    assert bin_findings(root, "2.1.332") == [] and bin_findings(root, "2.1.197") == []


def test_an_empty_bin_a_file_named_bin_or_libexec_do_not(tmp_path: Path) -> None:
    empty = write_pack(tmp_path / "empty", MANIFEST)
    (empty / "bin").mkdir()
    named = write_pack(tmp_path / "named", {**MANIFEST, "bin": "not a folder\n"})
    libexec = write_pack(tmp_path / "libexec", {**MANIFEST, "libexec/perfpack": "#!/bin/sh\n"})
    for root in (empty, named, libexec):
        assert bin_findings(root, "2.1.337") == [], root.name


def test_a_linked_bin_is_not_followed_but_counts(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("x")
    root = write_pack(tmp_path / "plugin", MANIFEST)
    os.symlink(outside, root / "bin")
    (hit,) = bin_findings(root, "2.1.337")
    assert hit.path == "bin" and "secret" not in hit.message


def test_the_repository_itself_has_no_bin_files() -> None:
    root = Path(__file__).resolve().parents[2]
    assert bin_findings(root, "2.1.337") == []
