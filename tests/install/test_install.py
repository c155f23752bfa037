"""`perfpack install` / `uninstall` on real project folders: merge, idempotency, exact inverse, bad input."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perfpack.install.core import GITIGNORE_LINES
from perfpack.resources import pack_root

PACK = pack_root()
# the agents and their perfpack-only metadata (agents/perfpack.toml: triggers, delegation), if any
AGENTS = sorted(p.name for p in (PACK / "agents").glob("*") if p.suffix in (".md", ".toml"))
COMMANDS = sorted(p.name for p in (PACK / "commands").glob("*.md"))

IGNORED = "".join(line + "\n" for line in GITIGNORE_LINES)

USER_SETTINGS = """{
    "$schema": "https://json.schemastore.org/claude-code-settings.json",
    "permissions": {"allow": ["Bash(npm test:*)"], "deny": []},
    "zzz_last": 1,
    "env": {"FOO": "bär"},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Write|Edit", "hooks": [{"type": "command", "command": "./fmt.sh", "timeout": 5}]},
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "audit-bash"}]}
        ],
        "UserPromptSubmit": [{"hooks": [{"type": "command", "command": "echo remember"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]
    },
    "model": "opus"
}
"""


def perfpack(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfpack", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def tree(root: Path) -> dict[str, str]:
    """Every file under root (except .git) -> sha256, to compare before/after exactly."""
    out = {}
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "my app"  # a space in the path: quoting must hold
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def install(root: Path, *extra: str) -> subprocess.CompletedProcess:
    return perfpack("install", "--project", str(root), *extra)


def uninstall(root: Path, *extra: str) -> subprocess.CompletedProcess:
    return perfpack("uninstall", "--project", str(root), *extra)


def without_backups(files: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in files.items() if ".perfpack-backup-" not in k}


def test_fresh_install_puts_everything_in_place(project: Path) -> None:
    proc = install(project)
    assert proc.returncode == 0, proc.stderr
    claude = project / ".claude"
    for name in AGENTS:
        assert (claude / "agents" / name).read_bytes() == (PACK / "agents" / name).read_bytes()
    for name in COMMANDS:  # /optimize is the pack's file: no path of this machine is pasted into it
        assert (claude / "commands" / name).read_bytes() == (PACK / "commands" / name).read_bytes()
    assert (project / ".gitignore").read_text() == IGNORED
    settings = json.loads((claude / "settings.json").read_text())
    ups = settings["hooks"]["UserPromptSubmit"][0]["hooks"][0]
    local = '"$CLAUDE_PROJECT_DIR/.claude/perfpack/local/'
    assert ups["command"] == (
        f'[ ! -x {local}python" ] || exec {local}python" -S -X utf8 {local}hook.py" user-prompt-submit'
    )
    assert ups["timeout"] == 10
    pre = settings["hooks"]["PreToolUse"][0]
    assert pre["matcher"] == "Bash" and pre["hooks"][0]["command"].endswith('hook.py" pre-tool-use')
    start = settings["hooks"]["SessionStart"][0]["hooks"][0]["command"]
    assert f'cat {local}env.sh" >> "$CLAUDE_ENV_FILE"' in start
    local_dir = claude / "perfpack" / "local"
    assert os.readlink(local_dir / "python") == os.path.realpath(sys.executable)
    assert Path(os.readlink(local_dir / "hook.py")).samefile(
        Path(__file__).parents[2] / "src/perfpack/hook.py"
    )
    assert os.access(local_dir / "bin" / "perfpack", os.X_OK)
    manifest = json.loads((claude / "perfpack" / "install.json").read_text())
    assert set(manifest["files"]) == {f"agents/{n}" for n in AGENTS} | {f"commands/{n}" for n in COMMANDS}


def test_committed_files_hold_no_path_of_this_machine(project: Path) -> None:
    """Issue 15 item 5: settings.json, agents, commands and the record are the same on every machine."""
    assert install(project).returncode == 0
    machine = {
        str(project),
        os.path.realpath(project),
        sys.prefix,
        os.path.realpath(sys.executable),
        str(Path(__file__).parents[2]),
        str(Path.home()),
    }
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".claude/perfpack/local/bin/perfpack"], cwd=project, check=False
    )
    assert ignored.returncode == 0, "the machine-specific launcher folder must be git-ignored"
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "-z"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    committed = [name for name in listed if name]
    assert ".claude/settings.json" in committed and ".claude/perfpack/install.json" in committed
    assert not any(name.startswith(".claude/perfpack/local/") for name in committed)
    for name in committed:
        text = (project / name).read_text(encoding="utf-8", errors="replace")
        for path in machine:
            assert path not in text, f"{name} holds {path}"


def test_a_clone_without_perfpack_stays_silent(project: Path, tmp_path: Path) -> None:
    """The installed project committed and cloned where perfpack is missing: every hook exits 0 with
    no output (no launcher folder in the clone), and nothing is written."""
    assert install(project).returncode == 0
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "install perfpack"], cwd=project, check=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    assert not (clone / ".claude" / "perfpack" / "local").exists()
    settings = json.loads((clone / ".claude" / "settings.json").read_text())
    env_file = tmp_path / "session.env"
    env_file.write_text("")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CLAUDE_PROJECT_DIR": str(clone),
        "CLAUDE_ENV_FILE": str(env_file),
    }
    payload = json.dumps(
        {
            "prompt": "the checkout page is slow",
            "hook_event_name": "UserPromptSubmit",
            "session_id": "s",
            "cwd": str(clone),
            "tool_name": "Bash",
            "tool_input": {"command": "git commit -m x"},
        }
    )
    for event, groups in settings["hooks"].items():
        command = groups[-1]["hooks"][0]["command"]
        done = subprocess.run(
            ["sh", "-c", command],
            input=payload,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            cwd=clone,
            check=False,
        )
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), (event, done)
    assert env_file.read_text() == ""
    assert (
        subprocess.run(
            ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True
        ).stdout
        == ""
    )


def test_installed_hook_command_really_runs(project: Path) -> None:
    assert install(project).returncode == 0
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    command = settings["hooks"]["UserPromptSubmit"][0]["hooks"][0]["command"]
    payload = json.dumps(
        {
            "prompt": "the checkout endpoint is slow, p95 is 2 s",
            "session_id": "s1",
            "hook_event_name": "UserPromptSubmit",
            "cwd": str(project),
        }
    )
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(project)}
    for name in ("PERFPACK_HOOKS", "PERFPACK_ROUTE"):
        env.pop(name, None)
    done = subprocess.run(
        command, shell=True, input=payload, capture_output=True, text=True, timeout=30, env=env, check=False
    )
    assert done.returncode == 0, done.stderr  # the quoted paths survive a real shell
    assert "additionalContext" in done.stdout, done.stdout


def test_launcher_runs_perfpack_from_the_bash_tools_path(project: Path, tmp_path: Path) -> None:
    """What the SessionStart hook hands Claude Code's Bash tool puts this install's perfpack on PATH."""
    assert install(project).returncode == 0
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    env_file = tmp_path / "session.env"
    env_file.write_text("")
    start = subprocess.run(
        ["sh", "-c", settings["hooks"]["SessionStart"][0]["hooks"][0]["command"]],
        env={"PATH": "/usr/bin:/bin", "CLAUDE_PROJECT_DIR": str(project), "CLAUDE_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert start.returncode == 0 and start.stdout == start.stderr == ""
    done = subprocess.run(
        ["bash", "-c", f". {shlex.quote(str(env_file))}; perfpack snapshot --format json"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)


def test_user_settings_survive_install_and_uninstall_byte_for_byte(project: Path) -> None:
    claude = project / ".claude"
    claude.mkdir()
    (claude / "settings.json").write_text(USER_SETTINGS, encoding="utf-8")
    (project / ".gitignore").write_bytes(b"node_modules\n*.log")  # no final newline
    (claude / "agents").mkdir()
    (claude / "agents" / "mine.md").write_text("---\nname: mine\ndescription: x\n---\nhi\n")
    before = tree(project)
    assert install(project).returncode == 0
    merged = json.loads((claude / "settings.json").read_text(encoding="utf-8"))
    original = json.loads(USER_SETTINGS)
    # key order kept; at top level only the pack's commit attribution is added (agents/perfpack.toml)
    assert [key for key in merged if key != "attribution"] == list(original)
    for key in original:
        if key != "hooks":
            assert merged[key] == original[key]
    assert list(merged["hooks"]) == ["PreToolUse", "UserPromptSubmit", "Stop", "SessionStart", "SubagentStop"]
    assert merged["hooks"]["PreToolUse"][:2] == original["hooks"]["PreToolUse"]
    assert merged["hooks"]["UserPromptSubmit"][0] == original["hooks"]["UserPromptSubmit"][0]
    # the user's Stop handler first, then the evidence check's
    assert merged["hooks"]["Stop"][:1] == original["hooks"]["Stop"]
    assert [g["hooks"][0]["command"].rsplit(" ", 1)[-1] for g in merged["hooks"]["Stop"][1:]] == ["stop"]
    assert (claude / "settings.json").read_text().startswith('{\n    "$schema"')  # 4-space indent kept
    assert (project / ".gitignore").read_bytes() == b"node_modules\n*.log\n" + IGNORED.encode()
    assert list(claude.glob("settings.json.perfpack-backup-*"))
    assert uninstall(project).returncode == 0
    assert without_backups(tree(project)) == before
    assert (claude / "settings.json").read_text(encoding="utf-8") == USER_SETTINGS


def test_fresh_install_uninstall_leaves_nothing(project: Path) -> None:
    assert install(project).returncode == 0
    assert uninstall(project).returncode == 0
    assert tree(project) == {}
    assert not (project / ".claude").exists()


def test_reinstall_is_idempotent(project: Path) -> None:
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.json").write_text(USER_SETTINGS)
    assert install(project).returncode == 0
    first = without_backups(tree(project))
    manifest_before = json.loads((project / ".claude" / "perfpack" / "install.json").read_text())
    proc = install(project)
    assert proc.returncode == 0
    assert "+ " not in proc.stdout  # nothing written the second time
    after = without_backups(tree(project))
    after.pop(".claude/perfpack/install.json"), first.pop(".claude/perfpack/install.json")
    assert after == first
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    ours = [
        h
        for groups in settings["hooks"].values()
        for g in groups
        for h in g["hooks"]
        if "hook.py" in h["command"]
    ]
    assert len(ours) == 4  # UserPromptSubmit, PreToolUse, SubagentStop, Stop
    manifest = json.loads((project / ".claude" / "perfpack" / "install.json").read_text())
    assert manifest["settings"]["original"] == manifest_before["settings"]["original"] == USER_SETTINGS
    assert uninstall(project).returncode == 0
    assert (project / ".claude" / "settings.json").read_text() == USER_SETTINGS


def test_reinstall_upgrades_our_entry_in_place(project: Path) -> None:
    claude = project / ".claude"
    claude.mkdir()
    old = {
        "hooks": {
            "UserPromptSubmit": [
                {
                    "hooks": [
                        {
                            "type": "command",
                            "command": "/old/python /old/src/perfpack/hook.py user-prompt-submit",
                        }
                    ]
                },
                {"hooks": [{"type": "command", "command": "echo mine"}]},
            ]
        }
    }
    (claude / "settings.json").write_text(json.dumps(old, indent=2))
    assert install(project).returncode == 0
    groups = json.loads((claude / "settings.json").read_text())["hooks"]["UserPromptSubmit"]
    assert len(groups) == 2 and groups[1]["hooks"][0]["command"] == "echo mine"
    assert "perfpack/local/hook.py" in groups[0]["hooks"][0]["command"]  # the old absolute entry, updated


def test_reinstall_gives_our_subagent_stop_group_the_packs_matcher(project: Path) -> None:
    """An install from before the SubagentStop matcher: re-install adds it to the group that holds only our
    handler (other subagents' stops then start no process); a group shared with a user's handler keeps
    its own matcher."""
    claude = project / ".claude"
    claude.mkdir()
    local = '"$CLAUDE_PROJECT_DIR/.claude/perfpack/local'
    ours = {"type": "command", "command": f'{local}/python" -S {local}/hook.py" subagent-stop'}
    our_stop = {**ours, "command": ours["command"].removesuffix("subagent-stop") + "stop"}
    shared = {"matcher": "mine", "hooks": [{"type": "command", "command": "beep"}, our_stop]}
    old = {"hooks": {"SubagentStop": [{"hooks": [ours]}], "Stop": [shared]}}
    (claude / "settings.json").write_text(json.dumps(old, indent=2))
    assert install(project).returncode == 0
    hooks = json.loads((claude / "settings.json").read_text())["hooks"]
    pack_hooks = json.loads((PACK / "hooks" / "hooks.json").read_text())["hooks"]
    packs = pack_hooks["SubagentStop"][0]["matcher"]
    assert [list(group) for group in hooks["SubagentStop"]] == [["matcher", "hooks"]]
    assert hooks["SubagentStop"][0]["matcher"] == packs
    assert hooks["Stop"][0]["matcher"] == "mine" and len(hooks["Stop"]) == 1


def test_settings_changed_after_install_keeps_user_changes(project: Path) -> None:
    claude = project / ".claude"
    claude.mkdir()
    (claude / "settings.json").write_text(USER_SETTINGS)
    assert install(project).returncode == 0
    data = json.loads((claude / "settings.json").read_text())
    data["newKey"] = True
    data["hooks"]["Stop"].append({"hooks": [{"type": "command", "command": "beep"}]})
    (claude / "settings.json").write_text(json.dumps(data, indent=4) + "\n")
    assert uninstall(project).returncode == 0
    result = json.loads((claude / "settings.json").read_text())
    expected = json.loads(USER_SETTINGS)
    expected["newKey"] = True
    expected["hooks"]["Stop"].append({"hooks": [{"type": "command", "command": "beep"}]})
    assert result == expected and list(result) == list(expected)


def test_user_modified_agent_is_kept_on_uninstall(project: Path) -> None:
    assert install(project).returncode == 0
    changed = project / ".claude" / "agents" / AGENTS[0]
    changed.write_text(changed.read_text() + "\nmy notes\n")
    proc = uninstall(project)
    assert proc.returncode == 0
    assert changed.exists() and "modified since install" in proc.stdout
    assert not (project / ".claude" / "agents" / AGENTS[1]).exists()


def test_users_own_file_with_same_name_is_not_overwritten(project: Path) -> None:
    mine = project / ".claude" / "commands" / "optimize.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("my own optimize\n")
    proc = install(project)
    assert proc.returncode == 1 and "your own file" in proc.stdout
    assert mine.read_text() == "my own optimize\n"
    assert uninstall(project).returncode == 0
    assert mine.read_text() == "my own optimize\n"


def test_dry_run_writes_nothing(project: Path) -> None:
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.json").write_text(USER_SETTINGS)
    before = tree(project)
    proc = install(project, "--dry-run")
    assert proc.returncode == 0 and "dry run" in proc.stdout and "settings.json" in proc.stdout
    assert tree(project) == before and not (project / ".claude" / "agents").exists()
    assert install(project).returncode == 0
    installed = tree(project)
    assert uninstall(project, "--dry-run").returncode == 0
    assert tree(project) == installed


def test_json_output(project: Path) -> None:
    proc = install(project, "--format", "json")
    data = json.loads(proc.stdout)
    assert data["action"] == "install" and data["dry_run"] is False
    assert {"op": "add", "path": ".gitignore", "detail": "ignore " + ", ".join(GITIGNORE_LINES)} in data[
        "changes"
    ]
    assert ".gitignore" in data["changed"] and data["removed"] == []


@pytest.mark.parametrize(
    "content",
    [
        b'{"hooks": {',
        b"[1, 2]",
        b"\xff\xfe{\x00}",
        b'{"a": 1, "a": 2}',
        b'{"hooks": []}',
        b'{"hooks": {"PreToolUse": {}}}',
        b"\x00\x01\x02binary",
    ],
)
def test_bad_settings_is_a_clear_error_and_changes_nothing(project: Path, content: bytes) -> None:
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.json").write_bytes(content)
    before = tree(project)
    proc = install(project)
    assert proc.returncode == 2
    assert proc.stderr.startswith("perfpack: error: ") and "Traceback" not in proc.stderr
    assert "settings.json" in proc.stderr
    assert tree(project) == before


def test_settings_that_is_a_directory(project: Path) -> None:
    (project / ".claude" / "settings.json").mkdir(parents=True)
    proc = install(project)
    assert proc.returncode == 2 and "is a folder" in proc.stderr
    assert not (project / ".claude" / "agents").exists()


def test_empty_and_one_line_settings(project: Path) -> None:
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    for content in ("", '{"model": "opus"}'):
        settings.write_text(content)
        assert install(project).returncode == 0
        if content:
            assert "\n" not in settings.read_text().rstrip("\n")  # one-line stays one line
        assert uninstall(project).returncode == 0
        assert settings.read_text() == content


def _as_unprivileged() -> list[str] | None:
    """Root ignores folder permissions: run the command as `nobody` through setpriv when we are root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] if setpriv else None


@pytest.mark.skipif(_as_unprivileged() is None, reason="running as root without setpriv")
def test_read_only_folder_rolls_back() -> None:
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="perfpack-ro-"))  # pytest's tmp folders are private to root
    base.chmod(0o755)
    try:
        _read_only_case(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _read_only_case(tmp_path: Path) -> None:
    project = tmp_path / "ro"
    claude = project / ".claude"
    claude.mkdir(parents=True)
    (claude / "settings.json").write_text("{}\n")
    (project / ".gitignore").write_text("x\n")
    if os.geteuid() == 0:
        os.chown(project / ".gitignore", 65534, 65534)  # writable for the install, the rest is not
        os.chown(project, 65534, 65534)
    claude.chmod(0o555)
    before = tree(project)
    try:
        proc = subprocess.run(
            [*_as_unprivileged(), sys.executable, "-m", "perfpack", "install", "--project", str(project)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HOME": str(tmp_path)},
        )
    finally:
        claude.chmod(0o755)
    assert proc.returncode == 2 and "nothing changed" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert tree(project) == before


def test_unreadable_project_is_a_clear_error() -> None:
    import tempfile

    prefix = _as_unprivileged()
    if prefix is None:
        pytest.skip("running as root without setpriv")
    base = Path(tempfile.mkdtemp(prefix="perfpack-private-"))
    base.chmod(0o700 if prefix else 0o000)
    try:
        proc = subprocess.run(
            [*prefix, sys.executable, "-m", "perfpack", "install", "--project", str(base / "x")],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        base.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)
    assert (
        proc.returncode == 2
        and proc.stderr.startswith("perfpack: error: ")
        and "Traceback" not in proc.stderr
    )


def test_routes_json_that_is_a_folder_is_left_alone(project: Path) -> None:
    (project / ".claude" / "perfpack" / "routes.json").mkdir(parents=True)
    proc = install(project)
    assert proc.returncode == 0 and "routes.json: not written by this install" in proc.stdout
    assert (project / ".claude" / "perfpack" / "routes.json").is_dir()
    assert uninstall(project).returncode == 0
    assert (project / ".claude" / "perfpack" / "routes.json").is_dir()


def test_uninstall_dry_run_matches_the_real_run(project: Path) -> None:
    """Issue 17: the dry run lists what goes AND what stays, and the real run then does exactly that."""
    claude = project / ".claude"
    claude.mkdir()
    (claude / "settings.json").write_text(USER_SETTINGS)
    (claude / "settings.local.json").write_text("{}\n")
    assert install(project).returncode == 0
    (claude / "perfpack" / "baselines").mkdir()
    (claude / "perfpack" / "baselines" / "checkout.json").write_text("{}\n")
    (claude / "perfpack" / "config.toml").write_text("[bench]\n")
    (claude / "memory").mkdir()
    (claude / "memory" / "memory.db").write_bytes(b"sqlite")
    (claude / "agents" / "mine.md").write_text("---\nname: mine\ndescription: x\n---\n")
    (claude / "perfpack" / "hook.log").write_text("x\n")
    (claude / "perfpack" / "ledger.jsonl").write_text("{}\n")
    before = entries(project)
    dry = json.loads(uninstall(project, "--dry-run", "--format", "json").stdout)
    # perfpack's own measurement ledger is named as such, not as a file of the user's
    assert {s["path"]: s["detail"] for s in dry["stays"]}[".claude/perfpack/ledger.jsonl"].startswith(
        "the measurement ledger")
    assert entries(project) == before
    assert uninstall(project).returncode == 0
    after = entries(project)
    assert set(before) - set(after) == set(dry["removed"])
    assert {p for p in before if p in after and before[p] != after[p]} == set(dry["changed"])
    assert not set(after) - set(before)  # nothing new (a settings.json left untouched needs no backup)
    stays = {s["path"].rstrip("/") for s in dry["stays"]}
    for path in after:  # everything left in .claude is named by a "stays" line, is inside one, or holds one
        if path.startswith(".claude/") and path not in dry["changed"]:
            assert any(path == s or path.startswith(s + "/") for s in stays) or (
                after[path] == "dir" and any(s.startswith(path + "/") for s in stays)
            ), path
    assert {
        ".claude/perfpack/baselines",
        ".claude/memory",
        ".claude/agents/mine.md",
        ".claude/perfpack/config.toml",
        ".claude/settings.local.json",
    } <= stays
    # perfpack's .gitignore line for the memory it leaves behind stays, and the output says so.
    assert ".claude/memory/" in (project / ".gitignore").read_text().splitlines()
    assert ".claude/perfpack/local/" not in (project / ".gitignore").read_text()
    assert any(s["path"] == ".gitignore" and ".claude/memory/" in s["detail"] for s in dry["stays"])


def entries(root: Path) -> dict[str, str]:
    """Files, folders and links under root (except .git), each with its content hash or kind."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if rel == ".git" or rel.startswith(".git/"):
            continue
        if path.is_symlink():
            out[rel] = "link:" + os.readlink(path)
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_user_install_respects_claude_config_dir(tmp_path: Path) -> None:
    config = tmp_path / "cfg"
    env = {"CLAUDE_CONFIG_DIR": str(config), "HOME": str(tmp_path / "home")}
    proc = perfpack("install", "--user", env=env)
    assert proc.returncode == 0, proc.stderr
    assert (config / "agents" / AGENTS[0]).is_file() and (config / "settings.json").is_file()
    assert not (tmp_path / "home").exists()
    command = json.loads((config / "settings.json").read_text())["hooks"]["UserPromptSubmit"][0]["hooks"][0]
    assert str(config / "perfpack" / "routes.json") in command["command"]
    assert perfpack("uninstall", "--user", env=env).returncode == 0
    assert not config.exists() or tree(config) == {}


def test_usage_errors(project: Path, tmp_path: Path) -> None:
    proc = perfpack("install", "--project", str(tmp_path / "missing"))
    assert proc.returncode == 2 and "no such directory" in proc.stderr
    proc = perfpack("install", "--project", str(project), "--user")
    assert proc.returncode == 2 and "exclusive" in proc.stderr
    proc = uninstall(project)  # nothing to remove is not a failure: it says so, exit 0
    assert proc.returncode == 0 and "not installed" in proc.stdout and not proc.stderr


def test_corrupt_manifest_is_a_clear_error(project: Path) -> None:
    assert install(project).returncode == 0
    (project / ".claude" / "perfpack" / "install.json").write_bytes(b"\xff not json")
    before = tree(project)
    proc = uninstall(project)
    assert proc.returncode == 2 and "install record" in proc.stderr and "UTF-8" in proc.stderr
    assert tree(project) == before


@pytest.mark.parametrize(
    "key, value", [("settings", [1]), ("gitignore", "x"), ("dirs", [1]), ("files", {"a": 1})]
)
def test_wrong_typed_manifest_section_is_a_clear_error(project: Path, key: str, value: object) -> None:
    assert install(project).returncode == 0
    record = project / ".claude" / "perfpack" / "install.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), key: value}))
    before = tree(project)
    for proc in (uninstall(project), install(project)):
        assert proc.returncode == 2 and "install record is damaged" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    assert tree(project) == before


def test_gitignore_lines_added_once_and_existing_kept(project: Path) -> None:
    (project / ".gitignore").write_text("dist/\n/.claude/memory\n")
    assert install(project).returncode == 0
    expected = "dist/\n/.claude/memory\n" + "".join(line + "\n" for line in GITIGNORE_LINES[1:])
    assert (project / ".gitignore").read_text() == expected
    assert install(project).returncode == 0
    assert (project / ".gitignore").read_text() == expected  # not twice
    assert uninstall(project).returncode == 0
    assert (project / ".gitignore").read_text() == "dist/\n/.claude/memory\n"


def test_gitignore_edited_after_install_loses_only_our_lines(project: Path) -> None:
    (project / ".gitignore").write_text("dist/\n")
    assert install(project).returncode == 0
    with (project / ".gitignore").open("a") as handle:
        handle.write("coverage/\n")
    assert uninstall(project).returncode == 0
    assert (project / ".gitignore").read_text() == "dist/\ncoverage/\n"


@pytest.mark.parametrize(
    "raw",
    [
        b'{\n\t"model": "opus",\n\t"hooks": {\n\t\t"Stop": []\n\t}\n}',  # tabs, no final newline
        b'\xef\xbb\xbf{\r\n  "model": "opus",\r\n  "env": {"A": "\\u00e9"}\r\n}\r\n',  # BOM, CRLF, escapes
        b'{"model":"opus","hooks":{"UserPromptSubmit":[]}}\n',  # one line
    ],
)
def test_formatting_styles_kept_and_restored(project: Path, raw: bytes) -> None:
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_bytes(raw)
    assert install(project).returncode == 0, install(project).stderr
    written = settings.read_bytes()
    assert written.startswith(b"\xef\xbb\xbf") == raw.startswith(b"\xef\xbb\xbf")
    assert (b"\r\n" in written) == (b"\r\n" in raw)
    assert (b'\n\t"model"' in written) == (b'\n\t"model"' in raw)
    assert written.count(b"\n") > 2 or raw.count(b"\n") == 1
    assert uninstall(project).returncode == 0
    assert settings.read_bytes() == raw


def test_non_utf8_gitignore_kept_byte_for_byte(project: Path) -> None:
    raw = b"caf\xe9/\n\xff\xfe binary-ish line"
    (project / ".gitignore").write_bytes(raw)
    assert install(project).returncode == 0
    assert (project / ".gitignore").read_bytes() == raw + b"\n" + IGNORED.encode()
    assert uninstall(project).returncode == 0
    assert (project / ".gitignore").read_bytes() == raw


def test_gitignore_that_is_a_folder_is_a_warning_not_a_failure(project: Path) -> None:
    (project / ".gitignore").mkdir()
    proc = install(project)
    assert proc.returncode == 0 and "not git-ignored" in proc.stdout
    assert uninstall(project).returncode == 0
    assert (project / ".gitignore").is_dir()


def test_installed_pack_passes_the_validator(project: Path) -> None:
    assert install(project).returncode == 0
    proc = perfpack("validate", "--strict", str(project / ".claude"))
    if "No such command" in proc.stderr:
        pytest.skip("validator not available")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_uninstall_takes_the_hooks_runtime_files_but_not_baselines(project: Path) -> None:
    assert install(project).returncode == 0
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    command = settings["hooks"]["UserPromptSubmit"][0]["hooks"][0]["command"]
    payload = json.dumps(
        {
            "session_id": "s1",
            "prompt": "the checkout page is slow, p95 is 2 s",
            "hook_event_name": "UserPromptSubmit",
            "cwd": str(project),
        }
    )
    for _ in range(2):  # the real hook, twice: it may write its rules cache and session state
        subprocess.run(
            command,
            shell=True,
            input=payload,
            capture_output=True,
            text=True,
            timeout=30,
            cwd=project,
            env={**os.environ, "CLAUDE_PROJECT_DIR": str(project)},
        )
    written = {p.name for p in (project / ".claude" / "perfpack").iterdir()}
    assert written - {"install.json", "routes.json"}, "the hook wrote no runtime file: test proves nothing"
    baseline = project / ".claude" / "perfpack" / "baselines" / "checkout.json"
    baseline.parent.mkdir()
    baseline.write_text("{}\n")
    assert uninstall(project).returncode == 0
    assert tree(project) == {
        ".claude/perfpack/baselines/checkout.json": tree(project)[".claude/perfpack/baselines/checkout.json"]
    }


def test_commit_attribution_merged_and_removed(project: Path) -> None:
    """Issue 15 item 9: the pack's commit convention goes into settings.json's attribution.commit (which
    Claude Code uses in place of its Co-Authored-By line); a value of the user's own wins."""
    packmeta = pytest.importorskip("perfpack.packmeta")
    line = packmeta.read_pack_meta(PACK / "agents").commit_attribution
    if not line:
        pytest.skip("the pack sets no commit attribution")
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(USER_SETTINGS)
    assert install(project).returncode == 0
    assert json.loads(settings.read_text())["attribution"] == {"commit": line}
    assert uninstall(project).returncode == 0
    assert settings.read_text() == USER_SETTINGS
    own = json.dumps({"attribution": {"commit": "Reviewed-by: me"}}, indent=2) + "\n"
    settings.write_text(own)
    assert install(project).returncode == 0
    assert json.loads(settings.read_text())["attribution"] == {"commit": "Reviewed-by: me"}
    data = json.loads(settings.read_text())
    data["model"] = "opus"  # changed after install: uninstall goes the structural way
    settings.write_text(json.dumps(data, indent=2) + "\n")
    assert uninstall(project).returncode == 0
    assert json.loads(settings.read_text()) == {"attribution": {"commit": "Reviewed-by: me"}, "model": "opus"}


def test_install_ends_with_what_to_do_next_and_a_dry_run_does_not(project: Path) -> None:
    dry = install(project, "--dry-run")
    assert dry.returncode == 0 and "next:" not in dry.stdout
    proc = install(project)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("next: commit .claude/ and .gitignore") and "/optimize" in last
    assert f"cd {shlex.quote(str(project))} && claude" in last  # "my app": quoted, ready to paste
    assert "next:" not in uninstall(project).stdout
