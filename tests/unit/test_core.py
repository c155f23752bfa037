import json
import os
from pathlib import Path

import pytest

from perfpack.errors import PerfpackError
from perfpack.findings import Finding
from perfpack.fsutil import atomic_write_text, backup_file
from perfpack.project import find_project_root, load_config
from perfpack.report import Report, render


def test_findings_render_in_every_format():
    findings = [Finding("a.md", 3, 1, "PP101", "error", "YAML does not parse", "quote it",
                        name="yaml-syntax")]

    def format_findings(findings, fmt, checked=None):
        return render(Report("validate", findings, checked=checked), fmt)

    text = format_findings(findings, "text", checked=1)
    assert "a.md:3:1: error: PP101(yaml-syntax): YAML does not parse" in text and "fix: quote it" in text
    assert json.loads(format_findings(findings, "json"))["summary"]["error"] == 1
    assert format_findings(findings, "github").startswith("::error file=a.md,line=3,col=1,title=PP101::")
    sarif = json.loads(format_findings(findings, "sarif"))
    assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 3


def test_atomic_write_and_backup(tmp_path: Path):
    target = tmp_path / "settings.json"
    atomic_write_text(target, "old")
    os.chmod(target, 0o600)
    backup = backup_file(target)
    atomic_write_text(target, "new")
    assert target.read_text() == "new" and backup.read_text() == "old"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert backup_file(tmp_path / "absent") is None


def test_config_layers_and_errors(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.perfpack.commits]\nmax-files = 7\nmax-lines = 100\n')
    own = tmp_path / ".claude" / "perfpack" / "config.toml"
    own.parent.mkdir(parents=True)
    own.write_text("[commits]\nmax-lines = 900\n")
    assert load_config(tmp_path, "commits") == {"max-files": 7, "max-lines": 900}
    assert find_project_root(tmp_path / ".claude" / "perfpack") == tmp_path
    own.write_text("[commits\n")
    with pytest.raises(PerfpackError, match="invalid TOML"):
        load_config(tmp_path)


def test_cli_help_lists_commands_without_importing_them(perfpack):
    result = perfpack("--help")
    assert result.returncode == 0
    for name in ("validate", "install", "route", "snapshot", "bench", "memory", "commits"):
        assert name in result.stdout
    assert perfpack("no-such-command").returncode == 2


def test_project_root_of_an_overlong_path_is_not_a_traceback(tmp_path: Path):
    start = tmp_path / ("x" * 300) / "y"
    assert find_project_root(start) == start
