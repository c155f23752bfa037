"""PP111 must not fire on the machine-local paths `perfpack install` writes on purpose."""

from perfpack.validate.markdown import check_home_paths


def test_installed_hook_and_executable_paths_are_not_flagged():
    text = (
        '{"command": "/home/alice/app/.venv/bin/python3 /home/alice/app/.venv/lib/python3.11/site-packages/'
        'perfpack/hook.py user-prompt-submit"}\n'
        "!`/home/alice/app/.venv/bin/perfpack snapshot`\n"
    )
    assert check_home_paths("settings.json", text) == []


def test_other_home_paths_still_are():
    findings = check_home_paths("optimize.md", "ok\n!`/home/alice/bin/profile.sh`\n")
    assert [(f.rule, f.line) for f in findings] == [("PP111", 2)]
