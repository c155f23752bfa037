"""`perfpack validate` and scripts/validate_agents.py as a user runs them: exit codes, formats, config."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from validate_helpers import FIXTURES, REPO_ROOT, write_pack

BROKEN = "---\nname: fast-agent\ndescription: Use when slow.\nmodel: thinking\n---\nBody\n"
WARN_ONLY = "---\nname: fast-agent\ndescription: Use when slow.\nmodle: sonnet\n---\nBody\n"


def test_exit_codes_and_text_output(tmp_path, perfpack):
    write_pack(tmp_path, {"agents/fast-agent.md": BROKEN})
    result = perfpack("validate", str(tmp_path))
    assert result.returncode == 1
    out = result.stdout.replace(str(tmp_path) + "/", "")
    assert "agents/fast-agent.md:4:8: error: PP205(invalid-model)" in out
    assert "fix: use sonnet" in result.stdout


def test_warnings_fail_only_with_strict(tmp_path, perfpack):
    write_pack(tmp_path, {"agents/fast-agent.md": WARN_ONLY})
    assert perfpack("validate", str(tmp_path)).returncode == 0
    assert perfpack("validate", "--strict", str(tmp_path)).returncode == 1


def test_json_github_sarif_formats(tmp_path, perfpack):
    write_pack(tmp_path, {"agents/fast-agent.md": BROKEN})
    payload = json.loads(perfpack("validate", "--format", "json", str(tmp_path)).stdout)
    assert [f["rule"] for f in payload["findings"]] == ["PP205"] and payload["summary"]["checked"] == 1
    github = perfpack("validate", "--format", "github", str(tmp_path)).stdout
    assert github.startswith("::error file=") and ",line=4,col=8,title=PP205::" in github
    sarif = json.loads(perfpack("validate", "--format", "sarif", str(tmp_path)).stdout)
    assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 4


def test_usage_errors_exit_2_with_one_line(tmp_path, perfpack):
    for args in (["validate", str(tmp_path / "missing")], ["validate", "--select", "PP999", str(tmp_path)],
                 ["validate", "--format", "xml"], ["validate", "a" * 5000]):
        result = perfpack(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and result.stderr.strip()


def test_config_from_pyproject_and_broken_config(tmp_path, perfpack):
    write_pack(tmp_path, {
        "agents/fast-agent.md": "---\nname: fast-agent\ndescription: " + "x" * 300
                                + "\n---\nDelegate to db-tuner.\n",
        "pyproject.toml": '[tool.perfpack.validate]\nexternal-agents = ["db-tuner"]\nmax-description = 200\n'
                          'ignore = ["home-path"]\n'})
    result = perfpack("validate", "--format", "json", cwd=tmp_path)
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == ["PP112"]
    assert perfpack("validate", "--max-description", "400", cwd=tmp_path).returncode == 0
    (tmp_path / "pyproject.toml").write_text("[tool.perfpack.validate\n")
    broken = perfpack("validate", cwd=tmp_path)
    assert broken.returncode == 2 and "invalid TOML" in broken.stderr
    (tmp_path / "pyproject.toml").write_text("[tool.perfpack.validate]\nselect = 5\n")
    wrong_type = perfpack("validate", cwd=tmp_path)
    assert wrong_type.returncode == 2 and "validate.select must be a list" in wrong_type.stderr
    assert "Traceback" not in wrong_type.stderr


def test_no_path_validates_the_current_project(tmp_path, perfpack):
    write_pack(tmp_path, {".claude/agents/fast-agent.md": BROKEN, ".git/HEAD": "ref: refs/heads/main\n"})
    result = perfpack("validate", cwd=tmp_path / ".claude" / "agents")
    assert result.returncode == 1 and "PP205" in result.stdout


def test_script_runs_from_checkout_without_install(tmp_path):
    write_pack(tmp_path, {"agents/fast-agent.md": BROKEN})
    script = REPO_ROOT / "scripts" / "validate_agents.py"
    env = {"PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"}
    # -S would drop site-packages (yaml, click); -I keeps them but ignores PYTHONPATH and the cwd
    proc = subprocess.run([sys.executable, "-I", str(script), "--format", "json", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert [f["rule"] for f in json.loads(proc.stdout)["findings"]] == ["PP205"]
    # a copy: inside the repository the repository's own [tool.perfpack.validate] would apply
    shutil.copytree(FIXTURES / "thirdparty", tmp_path / "thirdparty")
    clean = subprocess.run([sys.executable, "-I", str(script), str(tmp_path / "thirdparty")],
                           capture_output=True, text=True, env=env, timeout=60)
    # the one finding is true: TodoWrite is not given to subagents (a warning, so the exit stays 0)
    assert clean.returncode == 0 and "0 error(s), 1 warning(s)" in clean.stdout and "PP207" in clean.stdout


def test_repository_itself_validates_strict(perfpack):
    # PP110/PP207: the pack's own agents still carry perfpack keys and TodoWrite until issue 15 lands
    # (the pack engineer moves them out); drop this --ignore then.
    result = perfpack("validate", "--strict", "--ignore", "PP110,PP207", str(REPO_ROOT))
    assert result.returncode == 0, result.stdout


def test_list_rules(perfpack):
    out = perfpack("validate", "--list-rules").stdout
    assert "PP301" in out and "bang-not-allowed" in out


def test_an_ordinary_project_has_nothing_to_validate(tmp_path, perfpack):
    """README, CONTRIBUTING and docs Markdown are never agents (issue 16): exit 0, one line on stderr."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "README.md").write_text("# app\n")
    (tmp_path / "CONTRIBUTING.md").write_text("How to contribute: open a pull request.\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("name: not an agent\n")
    for args in (["validate"], ["validate", str(tmp_path)], ["validate", str(tmp_path / "docs")]):
        result = perfpack(*args, cwd=tmp_path)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        assert "nothing to validate" in result.stderr and result.stdout == ""


def test_list_rules_says_why_fix_and_how_each_cli_version_behaves() -> None:
    import json as _json
    import subprocess as _sp
    import sys as _sys

    from perfpack.validate.rules import RULES

    assert all(r.why and r.fix for r in RULES.values())
    run = _sp.run([_sys.executable, "-m", "perfpack", "validate", "--list-rules", "--format", "json"],
                  capture_output=True, text=True, check=True, timeout=60)
    listed = {r["id"]: r for r in _json.loads(run.stdout)["rules"]}
    assert set(listed) == set(RULES)
    assert "2.1.197" in listed["PP213"]["versions"] and "2.1.332" in listed["PP214"]["versions"]
    text = _sp.run([_sys.executable, "-m", "perfpack", "validate", "--list-rules"], capture_output=True,
                   text=True, check=True, timeout=60).stdout
    assert "versions: 2.1.197: spawned with no tools; 2.1.332: the spawn is refused." in text
