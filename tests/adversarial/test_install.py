"""Hostile input for `perfpack install` / `uninstall` (issue 13: items 1, 8-12, 16, 19).

Each case is a reproduction of a defect found by an attack run; every one failed on the code before
the fix. Real files, real subprocesses, real syscall-level kills (strace), a real full filesystem.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from perfpack.resources import pack_root
from tests.hostile import make_hostile

PACK = pack_root()
JOURNAL = ".claude-perfpack-journal.json"
USER_SETTINGS = (
    b'{\n  "model": "opus",\n  "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "true"}]}]}\n}\n'
)


def perfpack(
    *args: str,
    cwd: Path | None = None,
    python: str = sys.executable,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, "-m", "perfpack", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
    )


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under root (except .git): kind, mode and content hash or link target."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                out[rel] = "link:" + os.readlink(path)
            elif stat.S_ISDIR(info.st_mode):
                out[rel] = "dir"
            elif not stat.S_ISREG(info.st_mode):
                out[rel] = "special"  # a FIFO: never opened
            else:
                out[rel] = f"{stat.S_IMODE(info.st_mode):o}:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def assert_one_line_error(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert lines and lines[0].startswith("perfpack: error: "), proc.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("  hint: ")), proc.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    (root / ".claude").mkdir(parents=True)
    (root / ".claude" / "settings.json").write_bytes(USER_SETTINGS)
    (root / ".gitignore").write_bytes(b"node_modules/\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def installed(project: Path) -> Path:
    proc = perfpack("install", "--project", str(project))
    assert proc.returncode == 0, proc.stderr
    return project


# ------------------------------------------------------------------------------------------ item 1
def _record(project: Path) -> dict:
    return json.loads((project / ".claude" / "perfpack" / "install.json").read_text())


def _write_record(project: Path, record: dict) -> None:
    (project / ".claude" / "perfpack" / "install.json").write_text(json.dumps(record))


@pytest.mark.parametrize("key", ["ABSOLUTE", "../../victim.txt", "agents/../../../victim.txt", "victim.txt"])
def test_uninstall_never_deletes_a_file_the_record_names_outside_the_project(project: Path, key: str) -> None:
    installed(project)
    victim = project.parent / "victim.txt"
    victim.write_text("precious\n")
    record = _record(project)
    record["files"][str(victim) if key == "ABSOLUTE" else key] = hashlib.sha256(b"precious\n").hexdigest()
    _write_record(project, record)
    before = snapshot(project)
    proc = perfpack("uninstall", "--project", str(project))
    assert_one_line_error(proc)
    assert victim.read_text() == "precious\n"
    assert snapshot(project) == before  # refused whole: nothing changed


def test_uninstall_never_removes_a_folder_the_record_names_outside_the_project(project: Path) -> None:
    installed(project)
    victim = project.parent / "victim-dir"
    victim.mkdir()
    record = _record(project)
    record["dirs"].append("../../victim-dir")
    _write_record(project, record)
    proc = perfpack("uninstall", "--project", str(project))
    assert_one_line_error(proc)
    assert victim.is_dir()


def test_uninstall_never_deletes_through_a_symlinked_folder(project: Path) -> None:
    """A committed `.claude/agents` symlink to a folder elsewhere holding a copy of an agent file."""
    installed(project)
    elsewhere = project.parent / "elsewhere"
    elsewhere.mkdir()
    agents = project / ".claude" / "agents"
    names = sorted(path.name for path in agents.iterdir())
    for name in names:
        shutil.copy(agents / name, elsewhere / name)
    shutil.rmtree(agents)
    agents.symlink_to(elsewhere)
    proc = perfpack("uninstall", "--project", str(project))
    assert_one_line_error(proc)
    assert sorted(p.name for p in elsewhere.iterdir()) == names


def test_a_planted_journal_cannot_write_outside_the_project(project: Path) -> None:
    """A journal committed to a repository: every path in it is contained and managed, or refused."""
    victim = project.parent / "victim.txt"
    victim.write_text("precious\n")
    import base64

    step = {
        "path": "../victim.txt",
        "follow": False,
        "before": {
            "kind": "file",
            "mode": 420,
            "sha256": hashlib.sha256(b"evil\n").hexdigest(),
            "data": base64.b64encode(b"evil\n").decode(),
        },
        "after": {"kind": "file", "mode": 420, "sha256": hashlib.sha256(b"precious\n").hexdigest()},
    }
    (project / JOURNAL).write_text(
        json.dumps({"version": 1, "action": "install", "started": "x", "steps": [step]})
    )
    for action in ("install", "uninstall"):
        proc = perfpack(action, "--project", str(project))
        assert_one_line_error(proc)
    assert victim.read_text() == "precious\n"


# ------------------------------------------------------------------------------------------ item 9
def test_symlinked_settings_stays_a_symlink_after_install_and_uninstall(project: Path) -> None:
    settings = project / ".claude" / "settings.json"
    real = project / "config" / "claude-settings.json"
    real.parent.mkdir()
    settings.rename(real)
    settings.symlink_to(Path("..") / "config" / "claude-settings.json")
    before = snapshot(project)
    installed(project)
    assert settings.is_symlink()
    assert "user-prompt-submit" in real.read_text()  # written where the link points
    proc = perfpack("uninstall", "--project", str(project))
    assert proc.returncode == 0, proc.stderr
    assert settings.is_symlink() and real.read_bytes() == USER_SETTINGS
    assert snapshot(project) == before


def test_settings_symlinked_out_of_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    settings = project / ".claude" / "settings.json"
    assert settings.read_bytes() == USER_SETTINGS
    settings.unlink()
    outside = tmp_path / "dotfiles-settings.json"
    make_hostile(settings, "symlink", USER_SETTINGS, target=outside)
    before = snapshot(project)
    proc = perfpack("install", "--project", str(project))
    assert_one_line_error(proc)
    assert snapshot(project) == before and outside.read_bytes() == USER_SETTINGS


# ------------------------------------------------------------------------------------------ items 10, 11
@pytest.mark.parametrize(
    "content",
    [
        b'{"x": 1e400}',
        b'{"x": -1e400}',
        b'{"x": NaN}',
        b'{"x": Infinity}',
        b'{"x": [1, -Infinity]}',
        b"[" * 1000 + b"]" * 1000,
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        b'{"x": ' + b"9" * 5000 + b"}",
        b'{"x": 1.' + b"5" * 5000 + b"}",
        b'{"x": "\\ud800"}',
        b'{"\\udfff": 1}',
    ],
)
def test_hostile_settings_json_is_refused_in_one_line(project: Path, content: bytes) -> None:
    (project / ".claude" / "settings.json").write_bytes(content)
    before = snapshot(project)
    proc = perfpack("install", "--project", str(project))
    assert_one_line_error(proc)
    assert snapshot(project) == before  # nothing written, not even a backup


@pytest.mark.parametrize(
    "damage",
    [
        {"settings": {"created": {"hooks": 1, "events": "UserPromptSubmit"}}},
        {"settings": {"created": {"hooks": True, "events": [5]}}},
        {"settings": {"backups": [5]}},
        {"settings": {"backups": ["../../../etc/passwd"]}},
        {"settings": {"original": 7}},
        {"settings": {"existed": "yes"}},
        {"settings": []},
        {"gitignore": {"lines": "abc"}},
        {"gitignore": {"lines": [1, 2]}},
        {"gitignore": {"blocks": "2"}},
        {"gitignore": {"added": 3}},
        # a record that names the user's own lines would make uninstall un-ignore them (secrets.env...)
        {"gitignore": {"lines": [".claude/memory/", "node_modules/"]}},
        {"gitignore": {"added": "node_modules/\n", "created": True}},
        {"files": {"agents/x.md": 5}},
        {"files": ["agents/x.md"]},
        {"dirs": "agents"},
        {"dirs": [3]},
        {"routes": 12},
        {"version": 99},
    ],
)
def test_damaged_install_record_is_one_line_and_changes_nothing(project: Path, damage: dict) -> None:
    installed(project)
    record = _record(project)
    for key, value in damage.items():
        if isinstance(value, dict) and isinstance(record.get(key), dict):
            record[key].update(value)
        else:
            record[key] = value
    _write_record(project, record)
    before = snapshot(project)
    for action in ("uninstall", "install"):
        proc = perfpack(action, "--project", str(project))
        assert_one_line_error(proc)
        assert snapshot(project) == before


@pytest.mark.parametrize(
    "content",
    [b'{"files": {}, "x": 1e400}', b"[" * 5000 + b"]" * 5000, b'{"files": {"\\ud800": "x"}}', b"\xff\xfe{}"],
)
def test_hostile_install_record_json_is_one_line(project: Path, content: bytes) -> None:
    installed(project)
    (project / ".claude" / "perfpack" / "install.json").write_bytes(content)
    before = snapshot(project)
    proc = perfpack("uninstall", "--project", str(project))
    assert_one_line_error(proc)
    assert snapshot(project) == before


# ------------------------------------------------------------------------------------------ item 12
@pytest.mark.parametrize("where", [".claude/settings.json", ".claude/perfpack/install.json", JOURNAL])
def test_a_fifo_never_hangs_install_or_uninstall(project: Path, where: str) -> None:
    installed(project)
    path = project / where
    path.unlink(missing_ok=True)
    make_hostile(path, "fifo")
    before = snapshot(project)
    for action in ("install", "uninstall"):
        proc = perfpack(action, "--project", str(project), timeout=30)  # a hang fails here
        assert_one_line_error(proc)
        assert snapshot(project) == before


# ------------------------------------------------------------------------------------------ item 16
HOSTILE = "v;a $b \"c' d\ne`f`"


def _hostile_python(base: Path) -> str:
    """This test environment's interpreter, seen at a path full of shell metacharacters (a venv there)."""
    venv = Path(sys.prefix)
    home = base / HOSTILE
    (home / "bin").mkdir(parents=True)
    shutil.copy(venv / "pyvenv.cfg", home / "pyvenv.cfg")
    (home / "lib").symlink_to(venv / "lib")
    (home / "bin" / "python").symlink_to(os.path.realpath(sys.executable))
    if (venv / "bin" / "perfpack").exists():
        (home / "bin" / "perfpack").symlink_to(venv / "bin" / "perfpack")
    return str(home / "bin" / "python")


def test_shell_metacharacters_in_the_install_and_project_paths(tmp_path: Path) -> None:
    """`;`, spaces, quotes, `$`, backticks and a newline in where perfpack lives and in the project:
    /optimize's `!` line and every hook command still run, as a shell would run them."""
    python = _hostile_python(tmp_path / "tools")
    project = tmp_path / f"proj {HOSTILE}"
    project.mkdir()
    proc = perfpack("install", "--project", str(project), python=python)
    assert proc.returncode == 0, proc.stderr
    claude = project / ".claude"
    # /optimize is the pack's file, byte for byte: no path of this machine is pasted into its `!` line.
    assert (claude / "commands" / "optimize.md").read_bytes() == (
        PACK / "commands" / "optimize.md"
    ).read_bytes()
    settings = json.loads((claude / "settings.json").read_text())
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(project)}
    env.pop("PERFPACK_HOOKS", None)
    env.pop("PERFPACK_ROUTE", None)
    env_file = tmp_path / "session.env"
    env_file.write_text("")
    commands = {event: groups[-1]["hooks"][0]["command"] for event, groups in settings["hooks"].items()}
    start = subprocess.run(
        ["sh", "-c", commands["SessionStart"]],
        env={**env, "CLAUDE_ENV_FILE": str(env_file)},
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert start.returncode == 0 and not start.stdout and not start.stderr
    payload = json.dumps(
        {
            "prompt": "the checkout endpoint is slow, p99 latency is 3 seconds",
            "hook_event_name": "UserPromptSubmit",
            "session_id": "s1",
            "cwd": str(project),
        }
    )
    routed = subprocess.run(
        ["sh", "-c", commands["UserPromptSubmit"]],
        input=payload,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert routed.returncode == 0, routed.stderr
    assert "additionalContext" in routed.stdout  # the hook really ran (not just the missing-launcher exit)
    tool = json.dumps(
        {
            "tool_name": "Bash",
            "tool_input": {"command": "ls"},
            "hook_event_name": "PreToolUse",
            "session_id": "s1",
            "cwd": str(project),
        }
    )
    pre = subprocess.run(
        ["sh", "-c", commands["PreToolUse"]],
        input=tool,
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert pre.returncode == 0, pre.stderr
    # The Bash tool sources the env file: `perfpack` is then the project's launcher.
    bash = subprocess.run(
        ["bash", "-c", f". {_sh_quote(str(env_file))} && command -v perfpack && perfpack --version"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bash.returncode == 0, bash.stderr
    assert bash.stdout.startswith(str(claude / "perfpack" / "local" / "bin" / "perfpack") + "\n"), bash.stdout
    assert "perfpack" in bash.stdout.rsplit("\n", 2)[-2]  # --version ran through the launcher
    proc = perfpack("uninstall", "--project", str(project), python=python)
    assert proc.returncode == 0, proc.stderr
    assert not claude.exists()


def _sh_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


# ------------------------------------------------------------------------------------------ item 19
def test_leftovers_of_killed_writes_are_removed(project: Path) -> None:
    """`.NAME.<12 hex>.tmp` beside perfpack's files, as a write killed by an older perfpack left them."""
    before = snapshot(project)
    installed(project)
    leftovers = [
        project / ".claude" / ".settings.json.0123456789ab.tmp",
        project / ".claude" / "commands" / ".optimize.md.a1b2c3d4e5f6.tmp",
        project / ".claude" / "perfpack" / ".install.json.00ff00ff00ff.tmp",
        project / ".claude" / "perfpack" / ".routes.json.abcdefabcdef.tmp",
        project / ".gitignore.0123456789ab.tmp",
    ]
    leftovers[-1] = project / ".gitignore.0123456789ab.tmp"
    leftovers.append(project / "..gitignore.0123456789ab.tmp")
    for path in leftovers[:-2]:
        path.write_text("half")
    (project / "..gitignore.0123456789ab.tmp").write_text("half")  # `.` + ".gitignore" + suffix
    proc = perfpack("uninstall", "--project", str(project))
    assert proc.returncode == 0, proc.stderr
    assert snapshot(project) == before


def _mount_tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        check=False,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root (CI runs as root)")
def test_full_disk_install_changes_nothing_and_leaves_no_backup(tmp_path: Path) -> None:
    """On a real filesystem that fills up part-way, install either completes or changes nothing."""
    mount = tmp_path / "disk"
    _mount_tmpfs(mount, "1m")
    failures = set()
    try:
        for free_kib in range(0, 328, 8):  # fine enough to stop at every step of the install
            project = mount / "app"
            if project.exists():
                shutil.rmtree(project)
            for filler in mount.glob("filler*"):
                filler.unlink()
            (project / ".claude").mkdir(parents=True)
            (project / ".claude" / "settings.json").write_bytes(USER_SETTINGS)
            (project / ".gitignore").write_bytes(b"node_modules/\n")
            _fill(mount, free_kib * 1024)
            before = snapshot(project)
            proc = perfpack("install", "--project", str(project))
            if proc.returncode == 0:
                assert perfpack("uninstall", "--project", str(project)).returncode == 0
                assert snapshot(project) == before
                continue
            assert_one_line_error(proc)
            assert "nothing changed" in proc.stderr, proc.stderr
            after = snapshot(project)
            assert after == before, sorted(set(after.items()) ^ set(before.items()))
            failures.add(proc.stderr.splitlines()[0])
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)
    assert len(failures) >= 3, failures  # the disk filled up at several different steps


def _fill(mount: Path, leave: int) -> None:
    """Fill the filesystem until `leave` bytes are free."""
    usage = shutil.disk_usage(mount)
    size = max(usage.free - leave, 0)
    with open(mount / "filler", "wb") as handle:
        chunk = b"\0" * 65536
        while size > 0:
            try:
                size -= handle.write(chunk[: min(size, len(chunk))])
            except OSError:
                break


# ------------------------------------------------------------------------------------------ item 8
SYSCALLS = ("rename", "write", "unlink", "symlink", "mkdir", "rmdir")


def _count_syscalls(argv: list[str]) -> dict[str, int]:
    trace = subprocess.run(
        ["strace", "-f", "-qq", "-e", f"trace={','.join(SYSCALLS)}", "-o", "/dev/stderr", *argv],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert trace.returncode == 0, trace.stderr[-3000:]
    counts = dict.fromkeys(SYSCALLS, 0)
    for line in trace.stderr.splitlines():
        name = line.split("(", 1)[0].split()[-1] if "(" in line else ""
        if name in counts:
            counts[name] += 1
    return counts


def _killed_run(argv: list[str], syscall: str, n: int) -> int:
    done = subprocess.run(
        [
            "strace",
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            f"trace={syscall}",
            "-e",
            f"inject={syscall}:signal=KILL:when={n}",
            *argv,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return done.returncode


def _normalised(tree: dict[str, str], project: Path) -> dict[str, str]:
    """A tree without what differs between two good installs: the record's time, backup names."""
    out = {}
    for rel, value in tree.items():
        if ".perfpack-backup-" in rel:
            rel = rel.split(".perfpack-backup-")[0] + ".perfpack-backup-*"
        if rel.endswith("install.json"):
            record = json.loads((project / rel).read_text())
            record.pop("installed_at", None)
            record["settings"]["backups"] = ["*" for _ in record["settings"].get("backups", [])]
            value = json.dumps(record, sort_keys=True)
        out[rel] = value
    return out


def _kill_everywhere(
    tmp_path: Path, work: Path, start: Path, action: str, reference: dict[str, str], original: dict[str, str]
) -> int:
    """Kill `action` at every rename/write/unlink/symlink/mkdir/rmdir; then a later install must reach
    the reference install (which uninstalls to the original tree), and a later uninstall the original.

    Every case runs at the same path `work` (the launcher's PATH line holds it), copied from `start`."""
    from perfpack.install import core

    def fresh() -> None:
        if work.exists():
            shutil.rmtree(work)
        shutil.copytree(start, work, symlinks=True)

    argv = [sys.executable, "-m", "perfpack", action, "--project", str(work)]
    fresh()
    counts = _count_syscalls(argv)
    assert counts["rename"] >= 2 and counts["write"] >= 2, counts
    kills = 0
    for syscall, total in counts.items():
        for n in range(1, total + 1):
            fresh()
            code = _killed_run(argv, syscall, n)
            assert code in (0, -signal.SIGKILL, 128 + signal.SIGKILL), (syscall, n, code)
            kills += code != 0
            # A later uninstall rolls back or completes: the original tree, byte for byte.
            second = tmp_path / "second" / "app"
            if second.parent.exists():
                shutil.rmtree(second.parent)
            shutil.copytree(work, second, symlinks=True)
            core.uninstall(core.resolve_target(str(second), False))
            assert snapshot(second) == original, (syscall, n, "uninstall after the kill")
            # A later install reaches a good install, which uninstalls to the original tree.
            core.install(core.resolve_target(str(work), False))
            assert _normalised(snapshot(work), work) == reference, (syscall, n, "install after the kill")
            core.uninstall(core.resolve_target(str(work), False))
            assert snapshot(work) == original, (syscall, n, "install + uninstall after the kill")
    return kills


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace (installed by .ci/run)")
@pytest.mark.parametrize("action", ["install", "uninstall"])
def test_sigkill_at_every_write_is_rolled_back_or_completed(
    tmp_path: Path, project: Path, action: str
) -> None:
    """Issue 13 item 8: strace kills the process at the N-th call of each file-changing syscall, for
    every N. The later runs happen in this process: the same code, without an interpreter start each."""
    from perfpack.install import core

    (project / "CLAUDE.md").write_bytes(b"# app\n")
    original = snapshot(project)
    work = tmp_path / "work" / "app"
    shutil.copytree(project, work, symlinks=True)
    core.install(core.resolve_target(str(work), False))
    reference = _normalised(snapshot(work), work)
    start = tmp_path / "start" / "app"
    if action == "install":
        shutil.copytree(project, start, symlinks=True)
    else:
        shutil.copytree(work, start, symlinks=True)
    shutil.rmtree(work)
    kills = _kill_everywhere(tmp_path, work, start, action, reference, original)
    assert kills >= 10
