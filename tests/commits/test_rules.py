"""Each rule on real commits, checked through `perfpack commits check` (one git log pass)."""

from __future__ import annotations

import json

import pytest
from commits_helpers import lines, ok_message, perfpack, rules_of

from perfpack.commits.rules import CommitInfo, Policy, check_commit, parse_message
from perfpack.errors import PerfpackError


def _base(repo):
    repo.commit(ok_message("Start the project"), {"README": "hello\n"})
    repo.git("switch", "-q", "-c", "work")


def _check(repo, *args):
    proc = perfpack(repo, "commits", "check", "--format", "json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return proc


def test_max_files_limit_is_inclusive(repo):
    _base(repo)
    five = repo.commit(ok_message("Add five fixtures"), {f"f{i}.txt": "a\n" for i in range(5)})
    six = repo.commit(ok_message("Add six fixtures"), {f"g{i}.txt": "a\n" for i in range(6)})
    proc = _check(repo)
    assert proc.returncode == 1
    assert rules_of(proc) == [(six[:12], "PC101")]
    assert five[:12] not in proc.stdout.split('"findings"')[1].split('"summary"')[0]


def test_max_lines_counts_added_plus_deleted(repo):
    _base(repo)
    repo.commit(ok_message("Add the table"), {"t.txt": lines(500)})
    big = repo.commit(ok_message("Rewrite the table"), {"t.txt": lines(251, "y")})  # 500 deleted + 251 added
    proc = _check(repo)
    assert rules_of(proc) == [(big[:12], "PC102")]
    data = json.loads(proc.stdout)
    assert [c["lines"] for c in data["commits"]] == [751, 500]


def test_lock_files_and_configured_globs_do_not_count(repo):
    repo.write("pyproject.toml", '[tool.perfpack.commits]\nextra-ignore = ["gen/*"]\n')
    _base(repo)
    repo.commit(ok_message("Pin the dependencies"),
                {"a.py": "x\n", "package-lock.json": lines(900), "poetry.lock": lines(900),
                 "sub/Cargo.lock": "1\n", "gen/a_pb.py": lines(10), "gen/b_pb.py": "1\n", "gen/c.py": "1\n",
                 "b.py": "y\n"})
    proc = _check(repo)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("subject, flagged", [
    ("Add caching and retries", True), ("Also bump the timeout", True), ("Fix VARIOUS typos", True),
    ("Support Android builds", False), ("Expand the pool", False), ("Handle the sandbox", False),
    ("Fix the band-aid", False), ("Rock-and-roll", True),
])
def test_mixed_concern_words_are_whole_words(repo, subject, flagged):
    _base(repo)
    sha = repo.commit(ok_message(subject), {"a.txt": "1\n"})
    assert (rules_of(_check(repo)) == [(sha[:12], "PC201")]) is flagged


def test_mixed_words_are_configurable(repo):
    repo.write(".claude/perfpack/config.toml", '[commits]\nmixed-words = ["plus"]\n')
    _base(repo)
    plus = repo.commit(ok_message("Add a cache plus a queue"), {"a.txt": "1\n"})
    repo.commit(ok_message("Add a cache and a queue"), {"b.txt": "1\n"})
    assert rules_of(_check(repo)) == [(plus[:12], "PC201")]


def test_signoff_required_by_default_and_configurable(repo):
    _base(repo)
    sha = repo.commit("Tune the cache\n", {"a.txt": "1\n"})
    assert rules_of(_check(repo)) == [(sha[:12], "PC301")]
    repo.write("pyproject.toml", "[tool.perfpack.commits]\nrequire-signoff = false\n")
    assert _check(repo).returncode == 0


def test_signoff_outside_the_trailer_block_does_not_count(repo):
    _base(repo)
    sha = repo.commit("Tune the cache\n\nSigned-off-by: Ada <a@b>\n\nMore text after it.\n", {"a.txt": "1\n"})
    assert rules_of(_check(repo)) == [(sha[:12], "PC301")]


SEED = "Assisted-By: perf-engineer (claude-sonnet-4 / a1b2c3d)"
KERNEL = "Assisted-by: Claude:claude-sonnet-4 coccinelle sparse"


@pytest.mark.parametrize("trailer, ok", [
    (SEED, True), (KERNEL, True), ("Assisted-By: perf-engineer (claude-sonnet-4)", False),
    ("Assisted-By: perf-engineer (claude-sonnet-4 / nothex!)", False), ("Assisted-By: just text", False),
])
def test_assisted_by_formats(repo, trailer, ok):
    _base(repo)
    sha = repo.commit(f"Tune the cache\n\nBody.\n\n{trailer}\nSigned-off-by: Ada <a@b>\n", {"a.txt": "1\n"})
    proc = _check(repo)
    assert (proc.returncode == 0) is ok, proc.stdout
    if not ok:
        finding = json.loads(proc.stdout)["findings"][0]
        assert (finding["rule"], finding["path"], finding["line"]) == ("PC302", sha[:12], 5)
        assert "Assisted-By:" in finding["fix"]


def test_assisted_by_with_a_space_is_not_a_trailer(repo):
    _base(repo)
    repo.commit("Tune the cache\n\nAssisted By: perf-engineer (claude-sonnet-4 / a1b2c3d)\n"
                "Signed-off-by: Ada <a@b>\n", {"a.txt": "1\n"})
    findings = json.loads(_check(repo).stdout)["findings"]
    assert [(f["rule"], f["line"]) for f in findings] == [("PC302", 3)]
    assert "not a git trailer" in findings[0]["message"]


def test_accepted_formats_and_required_trailer_are_configurable(repo):
    repo.write("pyproject.toml", '[tool.perfpack.commits]\nassisted-by-formats = ["seed"]\n'
               "require-assisted-by = true\n")
    _base(repo)
    kernel = repo.commit(f"Tune the cache\n\n{KERNEL}\nSigned-off-by: Ada <a@b>\n", {"a.txt": "1\n"})
    repo.commit(f"Tune the pool\n\n{SEED}\nSigned-off-by: Ada <a@b>\n", {"b.txt": "1\n"})
    none = repo.commit(ok_message("Tune the queue"), {"c.txt": "1\n"})
    assert sorted(rules_of(_check(repo))) == sorted([(kernel[:12], "PC302"), (none[:12], "PC303")])


def test_disable_rules_by_id(repo):
    repo.write("pyproject.toml", '[tool.perfpack.commits]\ndisable = ["PC301", "PC201"]\n')
    _base(repo)
    repo.commit("Fix this and that\n", {"a.txt": "1\n"})
    assert _check(repo).returncode == 0


@pytest.mark.parametrize("config, expected", [
    ("max-files = -1", "max-files must be a whole number"),
    ('max-files = "5"', "max-files must be a whole number"),
    ("colour = 1", "unknown key 'colour'"),
    ('assisted-by-formats = ["gitmoji"]', "assisted-by-formats"),
    ('skip = ["wip"]', "skip may hold only"),
    ('hook-mode = "block"', "hook-mode"),
    ('disable = ["PC999"]', "unknown rule"),
    ("[broken", "invalid TOML"),
])
def test_bad_configuration_is_one_clear_error(repo, config, expected):
    _base(repo)
    repo.write("pyproject.toml", config if config.startswith("[") else f"[tool.perfpack.commits]\n{config}\n")
    proc = perfpack(repo, "commits", "check")
    assert proc.returncode == 2
    assert expected in proc.stderr and "Traceback" not in proc.stderr


def test_trailer_parsing_follows_git():
    message = parse_message("Subject\n\nBody line\n\nSigned-off-by: A <a@b>\nAssisted-By: x (m / abcdef1)\n"
                            "  continued\n")
    assert [(k, n) for k, _, n in message.trailers] == [("Signed-off-by", 5), ("Assisted-By", 6)]
    assert message.trailers[1][1] == "x (m / abcdef1) continued"
    # A subject alone is never a trailer block.
    assert parse_message("Signed-off-by: A <a@b>\n").trailers == []


def test_policy_defaults_match_the_seed():
    policy = Policy.from_config({})
    assert (policy.max_files, policy.max_lines, policy.require_signoff) == (5, 500, True)
    assert policy.mixed_words == ["and", "also", "various"]
    assert policy.excluded("web/package-lock.json") and policy.excluded("x/y.lock")
    assert not policy.excluded("a.py")
    with pytest.raises(PerfpackError):
        Policy.from_config({"max-lines": True})
    findings = check_commit(CommitInfo("m", "Add x and y\n", files=None), policy)
    assert [f.rule for f in findings] == ["PC201", "PC301"]


def test_findings_name_the_full_commit_and_subject_in_history_order(repo):
    _base(repo)
    older = repo.commit("Tune the pool and the cache\n", {"a.txt": "1\n"})
    newer = repo.commit("Tune the queue\n", {"b.txt": "1\n"})
    data = json.loads(_check(repo).stdout)
    commits = [(f["context"]["commit"], f["context"]["subject"], f["rule"]) for f in data["findings"]]
    assert commits == [(newer, "Tune the queue", "PC301"), (older, "Tune the pool and the cache", "PC201"),
                       (older, "Tune the pool and the cache", "PC301")]
    text = perfpack(repo, "commits", "check").stdout
    assert text.index("'Tune the queue': no Signed-off-by") < text.index(
        "'Tune the pool and the cache': no Signed")


def test_a_single_revision_means_its_whole_history_as_in_git_log(repo):
    root = repo.commit("Start the project\n", {"README": "hello\n"})  # the root commit, no sign-off
    tip = repo.commit(ok_message("Add a file"), {"a.txt": "1\n"})
    assert rules_of(_check(repo, "HEAD")) == [(root[:12], "PC301")]  # roots included
    assert _check(repo, "HEAD^!").returncode == 0 and tip  # R^! is R alone


def test_select_and_ignore_rules_by_name(repo):
    repo.write("pyproject.toml", '[tool.perfpack.commits]\nselect = ["mixed-concerns", "PC3"]\n'
                                 'ignore = ["PC301"]\n')
    _base(repo)
    repo.commit("Fix this and that\n", {f"f{n}.txt": "1\n" for n in range(9)})
    assert sorted(rule for _, rule in rules_of(_check(repo))) == ["PC201"]
    repo.write("pyproject.toml", '[tool.perfpack.commits]\nignore = ["*.lock"]\n')
    proc = perfpack(repo, "commits", "check")
    assert proc.returncode == 2 and "exclude" in proc.stderr
