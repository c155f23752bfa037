"""`perfpack commits msg` (commit-msg hook) and the Claude Code PreToolUse hook, with real git and stdin."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from commits_helpers import HOOK_ARGV, lines, ok_message, perfpack

from perfpack.commits.hook import parse_commands


def _staged(repo, n_files: int, n_lines: int = 1) -> None:
    repo.commit(ok_message("Start"), {"README": "x\n"})
    for i in range(n_files):
        repo.write(f"pkg/f{i}.py", lines(n_lines))
    repo.git("add", "-A")


# --- commit-msg ---------------------------------------------------------------------------------------

def test_msg_checks_message_and_staged_size(repo):
    _staged(repo, 6)
    message = repo.write(".git/COMMIT_EDITMSG", "Add x and y\n# Please enter the commit message\n")
    proc = perfpack(repo, "commits", "msg", str(message), "--format", "json")
    assert proc.returncode == 1
    found = {(f["rule"], f["line"], f["path"]) for f in json.loads(proc.stdout)["findings"]}
    assert found == {("PC101", 1, str(message)), ("PC201", 1, str(message)), ("PC301", 1, str(message))}
    assert perfpack(repo, "commits", "msg", "--no-size", str(message)).stdout.count("PC101") == 0


def test_msg_ignores_comments_and_scissors(repo):
    _staged(repo, 1)
    message = repo.write("msg.txt", "Tune the cache\n\nSigned-off-by: A <a@b>\n# and also various\n"
                                    "# ------------------------ >8 ------------------------\ndiff and also\n")
    assert perfpack(repo, "commits", "msg", str(message)).returncode == 0


def test_msg_skips_fixup_and_merge_messages(repo):
    _staged(repo, 9)
    for text in ("fixup! Add the cache\n", "Merge branch 'a' and 'b'\n"):
        message = repo.write("msg.txt", text)
        proc = perfpack(repo, "commits", "msg", str(message))
        assert proc.returncode == 0, proc.stdout


def test_msg_as_a_real_commit_msg_hook(repo):
    _staged(repo, 2)
    hook = repo.path / ".git" / "hooks" / "commit-msg"
    hook.write_text(f"#!/bin/sh\nexec {sys.executable} -m perfpack commits msg \"$1\"\n")
    hook.chmod(0o755)
    refused = subprocess.run(["git", "commit", "-q", "-m", "Add a and b"], cwd=repo.path, env=repo.env,
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "PC201" in refused.stdout + refused.stderr
    accepted = subprocess.run(["git", "commit", "-q", "-s", "-m", "Add two modules"], cwd=repo.path,
                              env=repo.env, capture_output=True, text=True)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


@pytest.mark.parametrize("content, expected", [
    (b"\x00\x01binary", "binary data"), (b"A" * (1024 * 1024 + 10), "larger than"),
])
def test_msg_bad_files_are_clear_errors(repo, content, expected):
    path = repo.write("msg.bin", content)
    proc = perfpack(repo, "commits", "msg", "--no-size", str(path))
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr


def test_msg_missing_empty_and_non_utf8(repo):
    assert perfpack(repo, "commits", "msg", "nope.txt").returncode == 2
    empty = repo.write("empty.txt", b"")
    assert "PC301" in perfpack(repo, "commits", "msg", "--no-size", str(empty)).stdout
    latin = repo.write("latin.txt", "Réparer le cache\n\nSigned-off-by: Zoë <z@b>\n".encode("latin-1"))
    proc = perfpack(repo, "commits", "msg", "--no-size", str(latin))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr


# --- PreToolUse hook ----------------------------------------------------------------------------------

def _hook(repo, command, *, cwd=None, raw: bytes | None = None, env=None):
    payload = {"session_id": "s", "transcript_path": "/dev/null", "cwd": str(cwd or repo.path),
               "hook_event_name": "PreToolUse", "permission_mode": "default", "tool_name": "Bash",
               "tool_input": {"command": command, "description": "commit"}}
    data = raw if raw is not None else json.dumps(payload).encode()
    proc = subprocess.run([*HOOK_ARGV, "pre-tool-use"], input=data, capture_output=True,
                          cwd=cwd or repo.path, env={**repo.env, **(env or {})}, timeout=60)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    return json.loads(proc.stdout) if proc.stdout.strip() else None


HEREDOC = """git add pkg && git commit -m "$(cat <<'EOF'
Add the parser and also the lexer

It's what the seed's example does.

Co-Authored-By: Claude <noreply@anthropic.com>
EOF
)\""""


def test_hook_adds_split_advice_without_denying(repo):
    _staged(repo, 6)
    out = _hook(repo, HEREDOC)["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse" and "permissionDecision" not in out
    context = out["additionalContext"]
    for expected in ("PC101", "6 files changed", "pkg/ 6 file(s)", "PC201", "'also', 'and'", "PC301",
                     "git add -p"):
        assert expected in context


def test_hook_deny_mode(repo):
    repo.write("pyproject.toml", '[tool.perfpack.commits]\nhook-mode = "deny"\n')
    _staged(repo, 6)
    out = _hook(repo, 'git commit -s -m "Add the parsers"')["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny" and "PC101" in out["permissionDecisionReason"]
    assert "PC301" not in out["permissionDecisionReason"]  # -s adds the sign-off


def test_hook_silent_on_a_good_commit(repo):
    _staged(repo, 2)
    assert _hook(repo, 'git commit -s -m "Add two modules"') is None
    assert _hook(repo, "git commit -sm 'Add two modules'") is None
    assert _hook(repo, "git -C . commit --signoff --message='Add two modules'") is None


def test_hook_all_flag_counts_tracked_modifications(repo):
    _staged(repo, 0)
    repo.commit(ok_message("Add modules"), {f"m{i}.py": "1\n" for i in range(6)})
    for i in range(6):
        repo.write(f"m{i}.py", "2\n")
    assert _hook(repo, 'git commit -s -m "Tune the modules"') is None  # nothing staged
    out = _hook(repo, 'git commit -as -m "Tune the modules"')
    assert "6 files changed" in out["hookSpecificOutput"]["additionalContext"]


def test_hook_reads_message_files_and_stdin_heredocs(repo):
    _staged(repo, 1)
    repo.write("msg.txt", "Add this and that\n\nSigned-off-by: A <a@b>\n")
    out = _hook(repo, "git commit -F msg.txt")
    assert "PC201" in out["hookSpecificOutput"]["additionalContext"]
    out = _hook(repo, "git commit -s -F - <<'EOF'\nAdd this and that\nEOF")
    assert "PC201" in out["hookSpecificOutput"]["additionalContext"]
    assert _hook(repo, "git commit") is None  # editor: message unknown, size fine


@pytest.mark.parametrize("command", ["ls -la", "echo commit", "git status", "git log --grep commit",
                                     "gitk commit", "python -c 'print(1)'"])
def test_hook_ignores_other_commands(repo, command):
    _staged(repo, 9)
    assert _hook(repo, command) is None


@pytest.mark.parametrize("raw", [b"{not json commit", b"\xff\xfe commit", b"[1, 2, \"commit\"]",
                                 b'{"tool_name": "Bash", "tool_input": "git commit"}',
                                 b'{"tool_name": "Edit", "tool_input": {"command": "git commit"}}', b""])
def test_hook_fails_open_on_malformed_input(repo, raw):
    assert _hook(repo, "", raw=raw) is None


def test_hook_fails_open_outside_a_repo_and_without_git(repo, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    assert _hook(repo, 'git commit -m "Add a and b"', cwd=plain) is None
    _staged(repo, 9)
    assert _hook(repo, 'git commit -m "Add a and b"', env={"PATH": "/nonexistent"}) is None
    assert _hook(repo, 'git commit -m "Add a and b"', env={"PERFPACK_HOOKS": "0"}) is None


def test_parse_commands_roughly_reads_git_commit():
    [call] = parse_commands("cd sub && git -C inner commit -asm 'Fix it' --trailer 'Assisted-by: C:m'")
    assert (call.cwd, call.messages, call.signoff, call.all, call.trailers) == (
        "sub/inner", ["Fix it"], True, True, ["Assisted-by: C:m"])
    [call] = parse_commands('git commit -m "one" -m "two" --amend -- a.py "b c.py"')
    assert call.messages == ["one", "two"] and call.amend and call.pathspecs == ["a.py", "b c.py"]
    assert parse_commands("git status; echo 'git commit'") == []
    assert parse_commands('git commit -m "unbalanced') == []


def test_hook_counts_what_a_git_add_in_the_same_command_stages(repo):
    _staged(repo, 0)
    repo.commit(ok_message("Add modules"), {f"m{i}.py": "1\n" for i in range(3)})
    for i in range(3):
        repo.write(f"m{i}.py", "2\n")
    for i in range(4):
        repo.write(f"new/n {i}.py", lines(3))
    assert _hook(repo, 'git add m0.py m1.py && git commit -s -m "Tune two modules"') is None
    out = _hook(repo, 'git add m0.py m1.py "new" && git commit -s -m "Tune the modules"')
    assert "6 files changed" in out["hookSpecificOutput"]["additionalContext"]
    out = _hook(repo, 'git add -A && git commit -s -m "Tune the modules"')
    assert "7 files changed" in out["hookSpecificOutput"]["additionalContext"]
    assert _hook(repo, 'git add -u && git commit -s -m "Tune the modules"') is None  # 3 tracked files
