"""The range check's edges: root commit, binary, renames, merges, odd messages and paths, CI ranges."""

from __future__ import annotations

import json
import random
import re

import pytest
from commits_helpers import lines, ok_message, perfpack, rules_of

from perfpack.commits.gitlog import open_repo, read_commits


def _json(repo, *args, code=(0, 1)):
    proc = perfpack(repo, "commits", "check", "--format", "json", *args)
    assert proc.returncode in code, proc.stderr
    return json.loads(proc.stdout)


def test_root_commit_is_counted(repo):
    root = repo.commit(ok_message("Start"), {f"f{i}": "a\nb\n" for i in range(7)})
    data = _json(repo, root)
    assert data["commits"][0]["files"] == 7 and data["commits"][0]["lines"] == 14
    assert [f["rule"] for f in data["findings"]] == ["PC101"]


def test_binary_file_counts_as_a_file_with_no_lines(repo):
    sha = repo.commit(ok_message("Add the logo"), {"logo.png": bytes(range(256)) * 40, "a.txt": "1\n2\n"})
    commit = read_commits(open_repo(repo.path), ["-1", sha])[0]
    by_path = {f.path: f for f in commit.files}
    assert by_path["logo.png"].binary and (by_path["logo.png"].added, by_path["logo.png"].deleted) == (0, 0)
    assert _json(repo, sha)["commits"][0] == {"ref": sha[:12], "hash": sha, "subject": "Add the logo",
                                              "files": 2, "lines": 2, "skipped": None}


def test_rename_counts_as_one_file(repo):
    repo.commit(ok_message("Start"), {f"old/m{i}.py": lines(40, f"m{i}") for i in range(4)})
    (repo.path / "new dir").mkdir()
    for i in range(4):
        repo.git("mv", f"old/m{i}.py", f"new dir/m{i}.py")
    repo.write("new dir/m0.py", lines(40, "m0") + "one more\n")
    repo.write("x.py", "1\n")
    sha = repo.commit(ok_message("Move the modules"))
    commit = read_commits(open_repo(repo.path), ["-1", sha])[0]
    assert sorted((f.old_path or "", f.path, f.added, f.deleted) for f in commit.files) == [
        ("", "x.py", 1, 0), ("old/m0.py", "new dir/m0.py", 1, 0), ("old/m1.py", "new dir/m1.py", 0, 0),
        ("old/m2.py", "new dir/m2.py", 0, 0), ("old/m3.py", "new dir/m3.py", 0, 0)]
    assert _json(repo, sha, code=(0,))["findings"] == []


def test_paths_with_spaces_newlines_and_non_ascii(repo):
    names = ["a b.txt", "ünïcödé/日本.txt", "tab\there.txt", "new\nline.txt", "quote\"d.txt"]
    sha = repo.commit(ok_message("Add the odd names"), {name: "1\n" for name in names})
    commit = read_commits(open_repo(repo.path), ["-1", sha])[0]
    assert sorted(f.path for f in commit.files) == sorted(names)


def test_latin1_message_with_encoding_header(repo):
    repo.git("config", "i18n.commitEncoding", "ISO-8859-1")
    message = "Réparer le cache et la file\n\nSigned-off-by: Zoë <z@example.com>\n".encode("latin-1")
    sha = repo.commit(message, {"a.txt": "1\n"})
    data = _json(repo, sha)
    assert data["commits"][0]["subject"] == "Réparer le cache et la file"
    assert [f["rule"] for f in data["findings"]] == []  # "et" is not a configured word


def test_invalid_utf8_message_without_header_never_crashes(repo):
    # `git commit` re-encodes invalid UTF-8 as latin-1; write the raw object to get truly broken bytes.
    repo.commit(ok_message("Start"), {"a.txt": "1\n"})
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    parent = repo.git("rev-parse", "HEAD").strip()
    raw = (f"tree {tree}\nparent {parent}\nauthor A <a@b> 1700000000 +0000\n"
           "committer A <a@b> 1700000000 +0000\n\n"
           ).encode() + b"Fix the \xff\xfe parser and the lexer\n\nSigned-off-by: A <a@b>\n"
    sha = repo.git("hash-object", "-t", "commit", "-w", "--stdin", input=raw).strip()
    proc = perfpack(repo, "commits", "check", sha)
    assert proc.returncode == 1 and "PC201" in proc.stdout and "Traceback" not in proc.stderr
    assert "\ufffd" in _json(repo, sha)["commits"][0]["subject"]


@pytest.mark.parametrize("subject, kind", [
    ('Revert "Add the cache"', "revert"), ("fixup! Add the cache", "fixup"),
    ("squash! Add the cache", "squash"), ("amend! Add the cache", "amend"),
])
def test_revert_fixup_squash_amend_are_skipped(repo, subject, kind):
    repo.commit(ok_message("Start"), {"README": "x\n"})
    repo.git("switch", "-q", "-c", "work")
    repo.commit(subject + "\n", {f"f{i}": "1\n" for i in range(9)})
    data = _json(repo, code=(0,))
    assert data["skipped"] == {kind: 1} and data["summary"]["checked"] == 0
    repo.write("pyproject.toml", "[tool.perfpack.commits]\nskip = []\n")
    assert {f["rule"] for f in _json(repo, "HEAD~1..HEAD", code=(1,))["findings"]} == {"PC101", "PC301"}


def test_merges_skipped_by_default_first_parent_diff_when_checked(repo):
    repo.commit(ok_message("Start"), {"README": "x\n"})
    repo.git("switch", "-q", "-c", "side")
    repo.commit(ok_message("Add many files"), {f"s{i}": "1\n" for i in range(4)})
    repo.git("switch", "-q", "main")
    repo.commit(ok_message("Touch readme"), {"README": "y\n"})
    repo.git("merge", "-q", "--no-ff", "-m", "Merge branch 'side' and more", "side")
    data = _json(repo, "HEAD~1..HEAD", code=(0,))
    assert data["skipped"] == {"merge": 1}
    repo.write(".claude/perfpack/config.toml", '[commits]\nskip = ["fixup"]\nmax-files = 3\n')
    data = _json(repo, "HEAD^1..HEAD", code=(1,))
    merge = [c for c in data["commits"] if c["subject"].startswith("Merge")][0]
    assert merge["files"] == 4  # the side branch's files, seen from the first parent
    assert {(f["rule"]) for f in data["findings"] if f["path"] == merge["ref"]} == {"PC101", "PC201", "PC301"}


def test_counts_match_gits_own_numstat(repo):
    rng = random.Random(7)
    names = [f"d{i % 3}/f {i}.txt" for i in range(12)] + ["bin.dat"]
    for n in range(25):
        files = {}
        for name in rng.sample(names, rng.randint(1, 5)):
            files[name] = bytes(rng.randrange(256) for _ in range(300)) if name == "bin.dat" else lines(
                rng.randint(0, 80), str(rng.randint(0, 3)))
        if n % 7 == 3:
            old = rng.choice(names[:12])
            if (repo.path / old).exists():
                repo.git("mv", old, old + ".moved")
                names[names.index(old)] = old + ".moved"
        repo.commit(ok_message(f"Change {n}"), files)
    ours = {c.full_hash: (len(c.files), sum(f.added + f.deleted for f in c.files))
            for c in read_commits(open_repo(repo.path), ["HEAD"])}
    theirs: dict[str, list[int]] = {}
    current = None
    for line in repo.git("log", "-M", "--numstat", "--format=@%H").splitlines():
        if line.startswith("@"):
            current = line[1:]
            theirs[current] = [0, 0]
        elif line.strip():
            added, deleted, _ = line.split("\t", 2)
            theirs[current][0] += 1
            # git prints "-" for the counts of a binary file
            theirs[current][1] += sum(0 if count == "-" else int(count) for count in (added, deleted))
    assert ours == {sha: tuple(v) for sha, v in theirs.items()} and len(ours) == 25


def test_all_zero_base_is_an_error_saying_what_to_do(repo):
    repo.commit(ok_message("Start"), {"a": "1\n"})
    proc = perfpack(repo, "commits", "check", "0" * 40 + "..HEAD")
    assert proc.returncode == 2 and "all zeros" in proc.stderr and "origin/main..HEAD" in proc.stderr


def test_shallow_clone_missing_the_base_says_what_to_fetch(make_repo, tmp_path):
    origin = make_repo("origin")
    for n in range(4):
        origin.commit(ok_message(f"Step {n}"), {"a": f"{n}\n"})
    clone = make_repo("unused")
    target = tmp_path / "shallow"
    clone.git("clone", "-q", "--depth", "1", f"file://{origin.path}", str(target))
    clone.path = target
    proc = perfpack(clone, "commits", "check", "HEAD~2..HEAD")
    assert proc.returncode == 2 and "--deepen" in proc.stderr and "--unshallow" in proc.stderr
    # The boundary commit itself has no fetched parent: its diff is unknown, never a silent pass.
    proc = perfpack(clone, "commits", "check", "HEAD")
    assert proc.returncode == 2 and "shallow clone's boundary" in proc.stderr
    clone.git("fetch", "-q", "--deepen=2")
    assert perfpack(clone, "commits", "check", "HEAD~1..HEAD").returncode == 0


def test_default_range_is_branch_against_default_branch(repo):
    repo.commit(ok_message("Start and more"), {"a": "1\n"})  # on main: not checked by default
    repo.git("switch", "-q", "-c", "feature")
    sha = repo.commit("Add the feature\n", {"b": "1\n"})
    proc = perfpack(repo, "commits", "check", "--format", "json")
    assert proc.returncode == 1 and rules_of(proc) == [(sha[:12], "PC301")]
    assert json.loads(proc.stdout)["range"] == "main..HEAD"


def test_no_default_branch_is_a_clear_error(make_repo):
    repo = make_repo(branch="trunk")
    repo.commit(ok_message("Start"), {"a": "1\n"})
    proc = perfpack(repo, "commits", "check")
    assert proc.returncode == 2 and "default branch" in proc.stderr and "RANGE" in proc.stderr


def test_unknown_revision_and_not_a_repo(repo, tmp_path):
    repo.commit(ok_message("Start"), {"a": "1\n"})
    proc = perfpack(repo, "commits", "check", "nope..HEAD")
    assert proc.returncode == 2 and "'nope'" in proc.stderr
    outside = tmp_path / "plain"
    outside.mkdir()
    proc = perfpack(repo, "commits", "check", cwd=outside)
    assert proc.returncode == 2 and "not inside a git repository" in proc.stderr


def test_text_and_github_formats(repo):
    repo.commit(ok_message("Start"), {"a": "1\n"})
    sha = repo.commit("Add x and y\n", {"b": "1\n"})
    text = perfpack(repo, "commits", "check", "HEAD~1..HEAD")
    assert text.returncode == 1
    assert re.search(rf"^{sha[:12]}:1:1: error: PC201\(mixed-concerns\): ", text.stdout, re.M)
    assert "    fix: " in text.stdout and "1 commit(s) checked in HEAD~1..HEAD" in text.stdout
    github = perfpack(repo, "commits", "check", "--format", "github", "HEAD~1..HEAD")
    assert github.returncode == 1 and github.stdout.startswith(f"::error file={sha[:12]},line=1")


def test_staged_checks_sizes_only(repo):
    repo.commit(ok_message("Start"), {"a": "1\n"})
    for i in range(6):
        repo.write(f"s{i}", "1\n")
    repo.git("add", "-A")
    proc = perfpack(repo, "commits", "check", "--staged", "--format", "json")
    assert proc.returncode == 1 and rules_of(proc) == [("(staged)", "PC101")]
    repo.git("reset", "-q", "s0", "s1")
    assert perfpack(repo, "commits", "check", "--staged").returncode == 0
    assert perfpack(repo, "commits", "check", "--staged", "HEAD").returncode == 2


def test_staged_on_an_unborn_branch(repo):
    for i in range(7):
        repo.write(f"s{i}", "1\n")
    repo.git("add", "-A")
    proc = perfpack(repo, "commits", "check", "--staged")
    assert proc.returncode == 1 and "7 files changed" in proc.stdout


def test_a_range_that_looks_like_an_option_never_reaches_git(tmp_path):
    # check_range starts `git log` before validating RANGE; an option-shaped RANGE must not get there
    import subprocess as sp

    repo = tmp_path / "r"
    sp.run(["git", "init", "-q", str(repo)], check=True)
    sp.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q",
            "--allow-empty", "-m", "root"], check=True)
    target = tmp_path / "written-by-git.txt"
    from tests.conftest import run_perfpack

    out = run_perfpack("commits", "check", "-C", str(repo), "--", f"--output={target}")
    assert out.returncode == 2 and "looks like an option" in out.stderr
    assert not target.exists()
