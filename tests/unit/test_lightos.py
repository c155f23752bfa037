"""perfpack.lightos: the hook's few OS calls without `os`, checked against os itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from perfpack import lightos

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.parametrize("parts", [("/a", "b"), ("/a/", "b", "c.json"),
                                   ("rel", ".claude", "perfpack", "routes.json"), ("/", "x")])
def test_join_is_os_path_join_for_folder_then_names(parts):
    assert lightos.join(*parts) == os.path.join(*parts)


@pytest.mark.parametrize("path", ["/a/b/c.json", "/a", "/", "a/b", "name", "/a/b/"])
def test_dirname_and_basename_are_os_paths(path):
    assert (lightos.dirname(path), lightos.basename(path)) == (os.path.dirname(path), os.path.basename(path))


def test_absolute_and_file_kinds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.txt").write_text("x")
    assert lightos.absolute("f.txt") == os.path.join(os.getcwd(), "f.txt")
    assert lightos.absolute("/etc/hosts") == "/etc/hosts"
    assert lightos.is_file("f.txt") and not lightos.is_dir("f.txt")
    assert lightos.is_dir(str(tmp_path)) and not lightos.is_file(str(tmp_path))
    assert not lightos.is_file("missing") and not lightos.is_dir("missing")
    assert not lightos.is_file("bad\0name") and not lightos.is_file("x" * 5000)  # never raises


def test_append_creates_then_appends(tmp_path):
    target = str(tmp_path / "state.txt")
    lightos.append(target, b"one\n")
    lightos.append(target, b"two\n")
    assert Path(target).read_bytes() == b"one\ntwo\n"
    assert os.stat(target).st_mode & 0o777 == 0o644 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_getenv_sees_in_process_changes_once_os_is_loaded(monkeypatch):
    monkeypatch.setenv("PERFPACK_LIGHTOS_TEST", "on")
    assert lightos.getenv("PERFPACK_LIGHTOS_TEST") == "on"
    monkeypatch.delenv("PERFPACK_LIGHTOS_TEST")
    assert lightos.getenv("PERFPACK_LIGHTOS_TEST", "default") == "default"


def test_without_os_the_environment_is_read_from_posix_and_os_stays_unloaded():
    code = (f"import sys; sys.path.insert(0, {str(SRC)!r}); from perfpack import lightos; "
            "print(repr(lightos.getenv('PERFPACK_LIGHTOS_TEST')), "
            "repr(lightos.getenv('PERFPACK_NOT_SET', 'd')), 'os' in sys.modules)")
    env = {**os.environ, "PERFPACK_LIGHTOS_TEST": "caf\u00e9 \udcff"}
    proc = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env,
                          errors="surrogateescape", timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "'caf\u00e9 \\udcff' 'd' False"


def test_read_regular_bounds_the_read_and_refuses_what_is_not_a_file(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"0123456789")
    assert lightos.read_regular(str(log), 4) == b"01234"  # max_bytes + 1: the caller sees it is larger
    assert lightos.read_regular(str(log), 4, tail=True) == b"6789"
    assert lightos.read_regular(str(log), 40, tail=True) == b"0123456789"
    (tmp_path / "link").symlink_to(log)
    assert lightos.read_regular(str(tmp_path / "link"), 40) == b"0123456789"
    os.mkfifo(tmp_path / "fifo")
    for path, follow in ((tmp_path / "link", False), (tmp_path / "fifo", True), (tmp_path, True)):
        with pytest.raises(OSError):
            lightos.read_regular(str(path), 40, follow_symlinks=follow)
