"""The git pass that starts before click: only for `commits check RANGE`, used once, never wrongly reused."""

from __future__ import annotations

import json

import pytest
from commits_helpers import lines, ok_message, perfpack

from perfpack.commits import logpass


@pytest.fixture
def history(repo, monkeypatch):
    for key, value in repo.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(repo.path)
    repo.commit(ok_message("Start the log"), {"a.txt": lines(3)})
    repo.commit(ok_message("Grow the log"), {"a.txt": lines(9)})
    repo.commit("Add b and c and d\n", {f"{name}.txt": lines(200, name) for name in "bcdefg"})
    yield repo
    if logpass._prestarted is not None and logpass._prestarted[3] is not None:
        logpass.stop(logpass._prestarted[3])
    logpass._prestarted = None


@pytest.mark.parametrize("args", [["check"], ["check", "--staged"], ["check", "--help"],
                                  ["check", "-C", ".", "HEAD~1..HEAD"],
                                  ["check", "HEAD~2..HEAD~1", "HEAD~1..HEAD"], ["check", "--", "--output=x"],
                                  ["check", "--output=x"], ["msg", "HEAD"], []])
def test_only_a_plain_check_range_is_prestarted(history, args):
    logpass.prestart(args)
    assert logpass._prestarted is None


def test_the_prestarted_pass_is_taken_once_for_the_same_range(history):
    logpass.prestart(["check", "--format", "json", "HEAD~2..HEAD"])
    root, spec, merges, process = logpass._prestarted
    assert (root, spec, merges) == (history.path.resolve(), "HEAD~2..HEAD", False)
    assert process.poll() in (None, 0)
    assert logpass.take_prestarted(root, spec, merges=False) is process
    assert logpass._prestarted is None
    logpass.stop(process)


def test_a_prestarted_pass_for_another_range_is_stopped_and_replaced(history):
    logpass.prestart(["check", "HEAD~1..HEAD"])
    root, _, _, stale = logpass._prestarted
    fresh = logpass.take_prestarted(root, "HEAD~2..HEAD", merges=False)
    try:
        assert fresh is not stale and stale.poll() is not None  # killed and reaped
        assert stale.stdout.closed and stale.stderr.closed
    finally:
        logpass.stop(fresh)


def test_the_cli_gives_the_same_report_with_and_without_the_prestart(history):
    # `-C DIR` is not prestarted: the two runs take the two paths through the real CLI.
    early = perfpack(history, "commits", "check", "HEAD~2..HEAD", "--format", "json")
    plain = perfpack(history, "commits", "check", "-C", str(history.path), "HEAD~2..HEAD", "--format", "json")
    assert early.returncode == plain.returncode == 1, early.stderr + plain.stderr
    assert json.loads(early.stdout) == json.loads(plain.stdout)
    assert {f["rule"] for f in json.loads(early.stdout)["findings"]} >= {"PC101", "PC201"}
