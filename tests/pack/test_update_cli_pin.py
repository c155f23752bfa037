"""scripts/update_cli_pin.py: one command moves the e2e tests' newest-CLI pin; CI's check never fails."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "update_cli_pin.py"


def _load():
    spec = importlib.util.spec_from_file_location("update_cli_pin", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_npm(folder: Path, body: str) -> dict[str, str]:
    """A PATH whose only `npm` is a script standing in for the registry (the registry itself is not ours)."""
    folder.mkdir()
    npm = folder / "npm"
    npm.write_text(f"#!/bin/sh\n{body}\n")
    npm.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:/usr/bin:/bin"}


def _check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--check"], check=False, capture_output=True,
                          text=True, env=env, timeout=60)


def test_the_pin_is_the_harness_constant():
    sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))
    try:
        import e2e_harness
    finally:
        sys.path.pop(0)
    assert _load().pinned() == e2e_harness.NEWEST_CLI
    assert e2e_harness.CLI_VERSIONS == (e2e_harness.OLDEST_CLI, e2e_harness.NEWEST_CLI)


def test_check_prints_a_notice_when_the_registry_is_ahead(tmp_path):
    proc = _check(_fake_npm(tmp_path / "bin", "echo 99.0.0"))
    assert proc.returncode == 0
    assert "::notice" in proc.stdout and "99.0.0" in proc.stdout and _load().pinned() in proc.stdout


@pytest.mark.parametrize("body", ["echo 2.0.0", "exit 1", "echo 'npm ERR! network'; exit 1", "echo garbage"])
def test_check_is_silent_and_green_when_not_ahead_or_offline(tmp_path, body):
    proc = _check(_fake_npm(tmp_path / "bin", body))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_check_without_npm_is_silent(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = _check({**os.environ, "PATH": str(tmp_path / "empty")})
    assert (proc.returncode, proc.stdout) == (0, "")


def test_set_pin_rewrites_only_the_constant(tmp_path, monkeypatch):
    module = _load()
    copy = tmp_path / "e2e_harness.py"
    original = (REPO_ROOT / "tests" / "e2e" / "e2e_harness.py").read_text()
    copy.write_text(original)
    monkeypatch.setattr(module, "HARNESS", copy)
    assert module.main(["--to", "2.9.1"]) == 0
    assert module.pinned() == "2.9.1"
    lines = zip(original.splitlines(), copy.read_text().splitlines(), strict=True)
    changed = [(a, b) for a, b in lines if a != b]
    assert len(changed) == 1 and changed[0][1] == 'NEWEST_CLI = "2.9.1"'
    assert module.main(["--to", "not-a-version"]) == 2
    assert module.pinned() == "2.9.1"


def test_a_pin_older_than_the_oldest_supported_cli_is_refused(tmp_path, monkeypatch, capsys):
    module = _load()
    copy = tmp_path / "e2e_harness.py"
    copy.write_text((REPO_ROOT / "tests" / "e2e" / "e2e_harness.py").read_text())
    monkeypatch.setattr(module, "HARNESS", copy)
    before = module.pinned()
    assert module.main(["--to", "2.0.1"]) == 2
    assert "older than the oldest supported" in capsys.readouterr().err
    assert module.pinned() == before
