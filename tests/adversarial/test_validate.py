"""Hostile input for `perfpack validate` (issue 16 item 4; the brief's bad-input standard).

Each case runs the real command in a subprocess with a timeout: one finding (or one line), the documented exit
code, no traceback, no hang, bounded memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile import make_hostile

ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def _validate(*args: str | Path, cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "perfpack", "validate", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=ENV, check=False)


def _agent(root: Path, name: str, text: str | bytes) -> Path:
    path = root / ".claude" / "agents" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _plugin(root: Path, manifest: str) -> Path:
    (root / ".claude-plugin").mkdir(parents=True)
    (root / ".claude-plugin" / "plugin.json").write_text(manifest)
    return root


def _no_traceback(run: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in run.stdout + run.stderr, run.stderr[-2000:]
    assert run.returncode in (0, 1), (run.returncode, run.stderr[-500:])


def _findings(run: subprocess.CompletedProcess[str]) -> list[dict]:
    return json.loads(run.stdout)["findings"]


def test_a_yaml_alias_bomb_is_one_finding_in_bounded_time(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    _agent(tmp_path, "bomb.md", "---\nname: bomb\n" + "\n".join(lines) + "\ndescription: *a9\n---\nBody.\n")
    started = time.monotonic()
    run = _validate("--format", "json", cwd=tmp_path)
    assert time.monotonic() - started < 20
    _no_traceback(run)
    findings = _findings(run)
    assert run.returncode == 1 and [f["rule"] for f in findings if f["severity"] == "error"] == ["PP113"]


@pytest.mark.parametrize("where", ["plugin", "hooks"])
def test_json_nested_1000_deep_is_one_finding(tmp_path: Path, where: str) -> None:
    deep = "[" * 1000 + "]" * 1000
    if where == "plugin":
        _plugin(tmp_path, '{"name": "p", "keywords": ' + deep + "}")
    else:
        _plugin(tmp_path, '{"name": "p"}')
        (tmp_path / "hooks").mkdir()
        (tmp_path / "hooks" / "hooks.json").write_text('{"hooks": {"PreToolUse": ' + deep + "}}")
    run = _validate("--format", "json", tmp_path, cwd=tmp_path)
    _no_traceback(run)
    findings = [f for f in _findings(run) if f["rule"] == "PP401"]
    assert len(findings) == 1 and "deeper" in findings[0]["message"]


def test_a_5000_digit_number_is_one_finding(tmp_path: Path) -> None:
    _plugin(tmp_path, '{"name": "p", "version": "1.0.0", "x-size": ' + "9" * 5000 + "}")
    started = time.monotonic()
    run = _validate("--format", "json", tmp_path, cwd=tmp_path)
    assert time.monotonic() - started < 20
    _no_traceback(run)
    findings = [f for f in _findings(run) if f["rule"] == "PP401"]
    assert len(findings) == 1 and len(findings[0]["message"]) < 300


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_newline_and_escape_in_a_name_cannot_forge_output_lines(tmp_path: Path, fmt: str) -> None:
    forged = "x\\n::error file=forged.md,line=1::forged\\n\\e[2J"  # YAML double-quoted escapes
    _agent(tmp_path, "evil.md", f'---\nname: "{forged}"\ndescription: "Does x: y"\ntools: Nope\n---\nBody.\n')
    run = _validate("--format", fmt, cwd=tmp_path)
    _no_traceback(run)
    assert "\x1b" not in run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert not any(line.startswith("::error file=forged.md") for line in lines)
    if fmt == "github":  # one annotation a finding, each on its own line
        assert all(line.startswith("::") for line in lines if line.strip())


def test_a_fifo_named_like_an_agent_never_blocks(tmp_path: Path) -> None:
    folder = tmp_path / ".claude" / "agents"
    folder.mkdir(parents=True)
    make_hostile(folder / "pipe.md", "fifo")
    _agent(tmp_path, "ok.md", "---\nname: ok\ndescription: Fine\n---\nBody.\n")
    run = _validate("--format", "json", cwd=tmp_path, timeout=20)
    _no_traceback(run)
    mine = [f for f in _findings(run) if f["path"].endswith("pipe.md")]
    # discovery takes regular files only (so does the CLI); if one is ever read, it is one PP101
    assert mine == [] or (len(mine) == 1 and mine[0]["rule"] == "PP101")
    assert json.loads(run.stdout)["summary"]["checked"] >= 1


def test_a_fifo_plugin_manifest_never_blocks(tmp_path: Path) -> None:
    (tmp_path / ".claude-plugin").mkdir()
    make_hostile(tmp_path / ".claude-plugin" / "plugin.json", "fifo")
    run = _validate("--format", "json", tmp_path, cwd=tmp_path, timeout=20)
    _no_traceback(run)
    assert len((run.stdout + run.stderr).strip().splitlines()) == 1 or \
        [f["rule"] for f in _findings(run)] == ["PP101"]


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_a_fifo_pack_metadata_is_one_finding_not_skipped(tmp_path: Path, kind: str) -> None:
    """agents/perfpack.toml is perfpack's own file: `route --compile` refuses a FIFO there (exit 2), so
    validate says so in one PP212 finding, as for an unreadable one (an agent .md FIFO is skipped: the CLI
    takes regular agent files only)."""
    _agent(tmp_path, "ok.md", "---\nname: ok\ndescription: Fine\n---\nBody.\n")
    meta = tmp_path / ".claude" / "agents" / "perfpack.toml"
    make_hostile(meta, kind)
    run = _validate("--format", "json", cwd=tmp_path, timeout=20)
    _no_traceback(run)
    findings = _findings(run)
    what = "a FIFO (named pipe)" if kind == "fifo" else "a folder"
    assert [(f["path"], f["rule"], f["message"]) for f in findings] == \
        [(".claude/agents/perfpack.toml", "PP212", f"is {what}, not a regular file")]
    assert "regular UTF-8 TOML file" in findings[0]["fix"]
    assert _validate("--strict", cwd=tmp_path, timeout=20).returncode == 1


def test_the_readers_refuse_a_fifo_without_blocking(tmp_path: Path) -> None:
    from perfpack.frontmatter import read_frontmatter
    from perfpack.validate.discover import PLUGIN, Target
    from perfpack.validate.jsonfiles import read_json

    make_hostile(tmp_path / "pipe", "fifo")
    assert "not a regular file" in (read_frontmatter(tmp_path / "pipe").unreadable or "")
    findings = read_json(Target(tmp_path / "pipe", PLUGIN, tmp_path), "pipe")[2]
    assert [f.rule for f in findings] == ["PP101"] and "not a regular file" in findings[0].message


def test_a_non_utf8_agent_is_one_finding(tmp_path: Path) -> None:
    _agent(tmp_path, "latin.md", "---\nname: caf\xe9\ndescription: x\n---\n".encode("latin-1"))
    run = _validate("--format", "json", cwd=tmp_path)
    _no_traceback(run)
    findings = _findings(run)
    assert len(findings) == 1 and findings[0]["rule"] == "PP101" and "UTF-8" in findings[0]["message"]


def test_symlinks_dangling_looping_or_outside_are_one_finding_or_checked(tmp_path: Path) -> None:
    folder = tmp_path / "proj" / ".claude" / "agents"
    folder.mkdir(parents=True)
    linked = b"---\nname: linked\ndescription: Linked from outside\n---\nBody.\n"
    make_hostile(folder / "linked.md", "symlink", linked, target=tmp_path / "elsewhere.md")
    make_hostile(folder / "dangling.md", "dangling symlink", target=tmp_path / "missing.md")
    (folder / "loop.md").symlink_to(folder / "loop.md")
    run = _validate("--format", "json", cwd=tmp_path / "proj")
    _no_traceback(run)
    by_file: dict[str, list[str]] = {}
    for finding in _findings(run):
        by_file.setdefault(Path(finding["path"]).name, []).append(finding["rule"])
    assert "linked.md" not in by_file  # a symlinked agent is read like the CLI reads it
    for name in ("dangling.md", "loop.md"):
        assert by_file.get(name, ["PP101"]) == ["PP101"], by_file
