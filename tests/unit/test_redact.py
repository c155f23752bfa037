"""perfpack.redact, the one redaction of secrets, and where perfpack stores strings through it: the ledger,
the identity of a measurement (baselines, comparisons, history). The real commands' files are read back
in tests/adversarial/test_secrets.py, memory's in tests/adversarial/test_memory.py, the crash log's in
tests/unit/test_foundations.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfpack import ledger
from perfpack.bench.baseline import Identity
from perfpack.redact import REDACTED, redact_argv, redact_text
from tests.secret_formats import ARGV_SECRETS, NOT_SECRETS, SECRETS


@pytest.mark.parametrize("text, clear", SECRETS, ids=[s[1][:12] for s in SECRETS])
def test_every_secret_format_is_redacted_once_and_for_all(text: str, clear: str) -> None:
    redacted = redact_text(text)
    assert clear not in redacted and REDACTED in redacted
    assert redact_text(redacted) == redacted  # a stored value read back and stored again stays the same
    assert redact_argv(["prog", text]) == ["prog", redacted]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_look_alikes_stay_as_written(text: str) -> None:
    assert redact_text(text) == text
    assert redact_argv(["prog", *text.split()]) == ["prog", *text.split()]


@pytest.mark.parametrize("argv, clear", ARGV_SECRETS, ids=[a[0] + "-" + a[1] for a, _ in ARGV_SECRETS])
def test_a_secret_in_the_element_after_its_option_is_redacted(argv: list[str], clear: str) -> None:
    redacted = redact_argv(argv)
    assert len(redacted) == len(argv) and not any(clear in arg for arg in redacted)
    assert [arg for arg in redacted if REDACTED not in arg] == [arg for arg in argv if clear not in arg]
    assert redact_argv(redacted) == redacted


def test_the_ledger_redacts_every_string_and_keeps_every_figure(tmp_path: Path) -> None:
    figures = [ledger.figure("p95", 412.3, "ms", request="GET /orders?token=QueryTok3n55"),
               ledger.figure("speedup", 2.4, "x")]
    record_id = ledger.record(tmp_path, kind="load", name="sk-live0123456789abcdefghij",
                              command=["perfpack", "load", "http://127.0.0.1:1/?api_key=ApiKeyVal88"],
                              figures=figures, extra={"target": "postgresql://me:PgPw1234@db/shop",
                                                      "nested": {"password": "NestedPw5", "rows": 3}})
    assert record_id
    text = (tmp_path / ".claude" / "perfpack" / "ledger.jsonl").read_text()
    for secret in ("QueryTok3n55", "sk-live0123456789", "ApiKeyVal88", "PgPw1234", "NestedPw5"):
        assert secret not in text
    (entry,) = ledger.read(tmp_path, strict=True)
    assert entry["command"] == ["perfpack", "load", "http://127.0.0.1:1/?api_key=[REDACTED]"]
    assert entry["name"] == REDACTED and entry["target"] == "postgresql://me:[REDACTED]@db/shop"
    assert entry["nested"] == {"password": REDACTED, "rows": 3}
    assert [(f["metric"], f["value"], f["unit"]) for f in entry["figures"]] == [("p95", 412.3, "ms"),
                                                                              ("speedup", 2.4, "x")]
    assert entry["figures"][0]["request"] == "GET /orders?token=[REDACTED]"


def test_an_identity_is_redacted_and_a_baseline_saved_in_clear_still_compares() -> None:
    argv = ["curl", "-H", "Authorization: Bearer SplitBearer66aa", "http://127.0.0.1/?token=QueryTok3n55"]
    now = Identity(command=argv, env={"DB_PASSWORD": "EnvPassw0rd9", "MODE": "fast", "UNSET": None},
                   extra={"requests": ["GET /?key=AbcKeyValue77"]})
    assert "SplitBearer66aa" not in json.dumps(now.to_dict())
    assert now.env == {"DB_PASSWORD": REDACTED, "MODE": "fast", "UNSET": None}
    assert now.extra == {"requests": ["GET /?key=[REDACTED]"]}
    # a baseline saved before redaction (its identity in clear) is read redacted: the same identity
    before = Identity.from_dict({"command": argv, "shell": False, "cwd": ".",
                                 "env": {"DB_PASSWORD": "EnvPassw0rd9", "MODE": "fast", "UNSET": None},
                                 "extra": {"requests": ["GET /?key=AbcKeyValue77"]}})
    assert before.differences(now) == [] and before.digest() == now.digest()
    # another token is the same command as far as a baseline can tell (its secrets are not kept)
    other = Identity(command=[*argv[:2], "Authorization: Bearer other0123456", argv[3]], env=now.env,
                     extra={"requests": ["GET /?key=other"]})
    assert other.differences(now) == []
    elsewhere = Identity(command=[*argv[:3], "http://127.0.0.1/other"], env=now.env, extra=now.extra)
    assert elsewhere.differences(now)


def test_evidence_list_shows_a_record_written_in_clear_redacted(tmp_path: Path) -> None:
    """A ledger from before the redaction: `evidence list` shows it as record() would store it now."""
    from tests.conftest import run_perfpack

    old = {"id": "bench-20261201T000000Z-0001", "kind": "bench", "name": "sk-live0123456789abcdefghij",
           "command": ["curl", "-u", "admin:CurlUserPw42", "http://127.0.0.1/?token=QueryTok3n55"],
           "figures": [{"metric": "median", "value": 0.012, "unit": "s", "of": "wall"}],
           "time": "2026-12-01T00:00:00Z", "commit": None, "target": ["psql", "--password", "SplitPassw0rd1"]}
    folder = tmp_path / ".claude" / "perfpack"
    folder.mkdir(parents=True)
    (folder / "ledger.jsonl").write_text(json.dumps(old) + "\n")
    assert ledger.redacted(ledger.redacted(old)) == ledger.redacted(old)
    for fmt in ("text", "json"):
        out = run_perfpack("evidence", "list", "--format", fmt, "--project", str(tmp_path))
        assert out.returncode == 0, out.stderr
        secrets = ("sk-live0123", "CurlUserPw42", "QueryTok3n55", "SplitPassw0rd1")
        assert not any(secret in out.stdout for secret in secrets)
    (shown,) = json.loads(out.stdout)["records"]
    assert shown["command"] == ["curl", "-u", "admin:[REDACTED]", "http://127.0.0.1/?token=[REDACTED]"]
    assert shown["figures"] == old["figures"] and shown["id"] == old["id"]
