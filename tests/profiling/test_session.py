"""profile's process-group session: a long run says so on stderr, once, without a terminal."""

from __future__ import annotations

from perfpack.profile import session


def test_a_long_run_is_mentioned_once_on_stderr(monkeypatch, capsys):
    monkeypatch.setattr(session, "NOTICE_S", 0.3)
    run = session.Session(["sleep", "1.2"])
    run.watch_for(None)
    assert run.wait() == ""
    err = capsys.readouterr().err
    assert err.count("still running after") == 1 and "--duration N" in err, err


def test_a_short_run_says_nothing_and_a_duration_still_stops_it(monkeypatch, capsys):
    monkeypatch.setattr(session, "NOTICE_S", 5.0)
    run = session.Session(["sleep", "0.1"])
    run.watch_for(None)
    assert run.wait() == ""
    stopped = session.Session(["sleep", "30"])
    stopped.watch_for(None)
    assert stopped.wait(duration=0.5) == "duration"
    stopped.kill()
    assert capsys.readouterr().err == ""
