"""The shared foundations every command plugs into: exit codes, the error handler, safe file reading,
strict JSON, terminal escaping, the reporters, the rule registry, config keys and the ledger."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from perfpack import ledger, rules
from perfpack.errors import PerfpackError
from perfpack.exitcodes import ExitCode
from perfpack.findings import Finding
from perfpack.project import check_config_keys
from perfpack.report import Report, format_choices, markdown_cell, render, sarif_uri
from perfpack.safeio import append_nofollow, contained, loads_json_strict, read_json_file, read_user_bytes
from perfpack.terminal import one_line, printable


def test_a_bug_exits_3_with_one_line_and_a_logged_traceback(tmp_path):
    # A command that raises an unexpected exception, run through the real entry point in a subprocess.
    script = textwrap.dedent("""
        import sys
        import perfpack.cli as cli
        sys.modules["boom_cmd"] = type(sys)("boom_cmd")
        def boom(argv, *, ends_process=False):
            raise RuntimeError("planted failure")
        sys.modules["boom_cmd"].main = boom
        cli.FAST_PATHS["boom"] = "boom_cmd:main"
        sys.argv = ["perfpack", "boom", "--password", "SplitPassw0rd1", "postgresql://me:PgPw1234@db/shop"]
        cli.run()
    """)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == ExitCode.INTERNAL == 3
    assert "internal error: RuntimeError: planted failure" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 2
    log = (tmp_path / "cache" / "perfpack" / "perfpack.log").read_text()
    assert "Traceback" in log and "planted failure" in log
    # the command line is logged with its secrets redacted (perfpack.redact)
    assert "'--password', '[REDACTED]', 'postgresql://me:[REDACTED]@db/shop'" in log
    assert "SplitPassw0rd1" not in log and "PgPw1234" not in log


def test_expected_failures_still_exit_2_and_findings_1(tmp_path):
    bad = subprocess.run([sys.executable, "-m", "perfpack", "route", "--rules",
                          str(tmp_path / "missing.json"), "x"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == ExitCode.USAGE and "Traceback" not in bad.stderr


def test_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "settings.json"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(PerfpackError, match="FIFO"):
        read_user_bytes(fifo, what="settings")
    with pytest.raises(PerfpackError, match="FIFO"):
        append_nofollow(fifo, b"x")
    assert time.monotonic() - started < 2


def test_size_limit_and_non_utf8(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2048)
    with pytest.raises(PerfpackError, match="too large"):
        read_user_bytes(big, max_bytes=1024)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(PerfpackError, match="not UTF-8"):
        read_json_file(latin)


@pytest.mark.parametrize("text, reason", [
    ('{"x": NaN}', "NaN"), ('{"x": -Infinity}', "Infinity"), ('{"x": 1e400}', "does not fit"),
    ('{"x": ' + "9" * 5000 + "}", "digits"), ("[" * 1000 + "]" * 1000, "nested"),
    ('{"x": "\\ud800"}', "surrogate"), ('{"\\udfff": 1}', "surrogate"), ("{'a': 1}", "invalid JSON"),
    ("[" * 150 + "]" * 150, "nested"),
])
def test_strict_json_refuses_what_cannot_be_written_back(text, reason):
    with pytest.raises(PerfpackError, match=reason):
        loads_json_strict(text, what="settings.json")


def test_strict_json_keeps_ordinary_documents():
    value = loads_json_strict('{"a": [1, 2.5, -3e10, "é", {"b": null}], "c": true}')
    assert value == {"a": [1, 2.5, -3e10, "é", {"b": None}], "c": True}


def test_contained_paths(tmp_path):
    root = tmp_path / "project"
    (root / ".claude").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / ".claude" / "link").symlink_to(outside)
    assert contained(root, ".claude/agents/a.md") == str(root.resolve() / ".claude" / "agents" / "a.md")
    for bad in ("/etc/passwd", "../x", ".claude/../../x", ".claude/link/victim", "", "a\0b", "~/x"):
        with pytest.raises(PerfpackError):
            contained(root, bad)


def test_append_refuses_a_planted_symlink(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (tmp_path / "state.log").symlink_to(victim)
    with pytest.raises(PerfpackError, match="symbolic link"):
        append_nofollow(tmp_path / "state.log", b"x")
    assert victim.read_text() == "keep"


def test_terminal_strings_cannot_forge_lines_or_escape():
    hostile = "a\x1b]0;pwned\x07b\nIGNORE\r\u202e\x9b"
    line = one_line(hostile)
    assert "\n" not in line and "\x1b" not in line and "\x07" not in line and "\u202e" not in line
    assert "\x9b" not in line and "\\x1b" in line
    assert printable("two\nlines\tok\x1b") == "two\nlines\tok\\x1b"
    assert one_line("x" * 50, limit=10) == "x" * 9 + "…"
    assert one_line("bad \udcff name") == "bad \\udcff name"


def _finding(path="agents/a b%c.md", message="bad\n::error file=x::forged"):
    return Finding(path, 2, 1, "PP106", "error", message, "quote it", "yaml-syntax")


def test_reporters_escape_what_they_print():
    report = Report("validate", [_finding()], checked=1)
    github = render(report, "github")
    assert github.count("\n") == 0 and "%0A::error" in github
    text = render(report, "text")
    assert "\n::error" not in text
    sarif = json.loads(render(report, "sarif"))
    assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "agents/a%20b%25c.md"
    assert sarif_uri("a#b?.md") == "a%23b%3F.md"
    assert markdown_cell("python -c 'x | y'\nz") == "python -c 'x \\| y' z"
    assert json.loads(render(report, "json"))["summary"]["error"] == 1
    assert report.exit_code() == ExitCode.FINDINGS
    assert Report("bench", data={"x": 1}).exit_code() == ExitCode.OK
    assert Report("bench", failed=True).exit_code() == ExitCode.FINDINGS
    assert format_choices("text", "json") == ("text", "json")
    assert set(format_choices()) == {"text", "json", "github", "sarif", "markdown"}


def test_every_format_option_offers_reporters_only():
    """Each command's --format choices come from perfpack.report's REPORTERS (format_choices), in the real
    click tree of every command and subcommand; a literal list drifts from the reporters."""
    import click

    from perfpack.cli import COMMANDS, _resolve
    from perfpack.report import REPORTERS

    def walk(command: click.Command, name: str):
        yield name, command
        for sub_name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{name} {sub_name}")

    seen = {}
    for spec_name, (spec, _) in COMMANDS.items():
        for name, command in walk(_resolve(spec), spec_name):
            for option in command.params:
                if "--format" in getattr(option, "opts", []) and name != "snapshot":  # lenient, always 0
                    assert isinstance(option.type, click.Choice), name
                    seen[name] = tuple(option.type.choices)
    assert "route" in seen and "validate" in seen and "evidence check" in seen
    assert {name: choices for name, choices in seen.items() if not set(choices) <= set(REPORTERS)} == {}
    source = Path(__file__).resolve().parents[2] / "src" / "perfpack"
    literal = re.compile(r'"--format",[^)]{0,80}?Choice\(\s*[\[(]')  # a list typed in, not format_choices
    assert [str(p.relative_to(source)) for p in source.rglob("*.py") if literal.search(p.read_text())] == []


def test_one_rule_registry_for_every_family():
    validate = rules.family_rules("validate")
    commits = rules.family_rules("commits")
    assert validate and commits and all(r.id.startswith("PP") for r in validate)
    assert all(r.id.startswith("PC") for r in commits)
    assert rules.select(["PP3", "home-path"], "validate") >= {"PP301", "PP111"}
    with pytest.raises(PerfpackError, match="unknown rule 'PP999'"):
        rules.select(["PP999"], "validate")
    with pytest.raises(ValueError, match="twice"):
        rules.register(rules.Rule("PP101", "other", "error", "clash", family="validate"))
    assert "| PP101 |" in rules.markdown_table("validate")


def test_config_keys_are_checked_and_normalised():
    assert check_config_keys("commits", {"max_files": 3, "disable": ["PC201"]}, ["max-files", "ignore"],
                             aliases={"disable": "ignore"}) == {"max-files": 3, "ignore": ["PC201"]}
    with pytest.raises(PerfpackError, match="unknown key 'max-filez'"):
        check_config_keys("commits", {"max-filez": 3}, ["max-files"])
    with pytest.raises(PerfpackError, match="twice"):
        check_config_keys("commits", {"max-files": 3, "max_files": 4}, ["max-files"])


def test_ledger_keeps_every_record_of_parallel_writers(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    script = textwrap.dedent(f"""
        from perfpack import ledger
        for i in range(50):
            ledger.record({str(tmp_path)!r}, kind="bench", name="w", command=["x", str(i)],
                          figures=[ledger.figure("p95", i * 1.5, "ms")])
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    records = ledger.read(tmp_path)
    assert len(records) == 200 and len({r["id"] for r in records}) == 200
    assert records[0]["figures"][0]["unit"] == "ms" and records[0]["kind"] == "bench"


def test_ledger_never_writes_through_a_symlink(tmp_path):
    state = tmp_path / ".claude" / "perfpack"
    state.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (state / "ledger.jsonl").symlink_to(victim)
    assert ledger.record(tmp_path, kind="bench", name=None, command="x", figures=[]) == ""
    assert victim.read_text() == "keep"
    with pytest.raises(PerfpackError, match="symbolic link"):  # reading refuses the link too, in one line
        ledger.read(tmp_path)


def test_ledger_read_skips_damage_or_names_it_when_strict(tmp_path):
    """One reader (perfpack.ledger.read): `evidence list` skips a damaged line, `evidence check` (strict)
    names it in one line rather than check against a silently smaller ledger; blank lines are no damage."""
    first = ledger.record(tmp_path, kind="bench", name="a", command="x", figures=[])
    path = Path(ledger.ledger_path(tmp_path))
    with open(path, "ab") as handle:
        handle.write(b"\n")
    assert [r["id"] for r in ledger.read(tmp_path, strict=True)] == [first]
    second = ledger.record(tmp_path, kind="bench", name="b", command="x", figures=[])
    for damage, why in ((b'{"id": "p\xe9"}', "not UTF-8"), (b'{"kind": "bench"}', "no id"),
                        (b"[" * 100_000, "too deep"), (b"{oops", "not JSON")):
        lines = path.read_bytes().splitlines()
        path.write_bytes(b"\n".join([lines[0], damage, *lines[-1:]]) + b"\n")
        assert [r["id"] for r in ledger.read(tmp_path)] == [first, second], why
        with pytest.raises(PerfpackError, match=r"^ledger .*ledger\.jsonl: line 2 is not a ledger record\n"):
            ledger.read(tmp_path, strict=True)
    path.unlink()
    assert ledger.read(tmp_path, strict=True) == []


def test_ledger_records_the_commit(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    git = ["git", "-C", str(tmp_path)]
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], check=True, env=env)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    ledger.record(Path(tmp_path), kind="load", name="n", command="x", figures=[])
    assert ledger.read(tmp_path)[-1]["commit"] == head.strip()


def test_ledger_is_git_ignored_where_it_is_written(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    ledger.record(tmp_path, kind="bench", name="n", command="x", figures=[])
    ledger.record(tmp_path, kind="bench", name="n", command="x", figures=[])
    status = subprocess.run(["git", "-C", str(tmp_path), "status", "--porcelain", "--untracked-files=all"],
                            capture_output=True, text=True, check=True).stdout
    assert "ledger.jsonl" not in status
    assert (tmp_path / ".claude" / "perfpack" / ".gitignore").read_text().count("ledger.jsonl") == 1
