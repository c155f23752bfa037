"""What kind of program a command is: Python (and with which interpreter), a launcher that may start
Python (a shell script, `uv run`, `make`), or native code.

Decided from the program file itself (a `#!` line, an ELF binary's name and its link to libpython), never
by running it.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
from dataclasses import dataclass

from perfpack.errors import PerfpackError

PYTHON, LAUNCHER, NATIVE = "python", "launcher", "native"

_PYTHON_NAME = re.compile(r"^(?:python|pypy)(?:\d+(?:\.\d+)*)?[dmu]*(?:\.exe)?$")
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox", "fish"})
# Programs that run another command (their own argv names it): profiled with py-spy following children.
_LAUNCHERS = frozenset(
    {
        "env",
        "timeout",
        "nice",
        "nohup",
        "stdbuf",
        "taskset",
        "ionice",
        "chrt",
        "time",
        "xargs",
        "uv",
        "uvx",
        "make",
        "gmake",
        "just",
        "npm",
        "npx",
        "sudo",
        "setsid",
        "flock",
        "watch",
        "tini",
        "dumb-init",
    }
)
# Interpreter options that take a value as the next argument.
_PY_OPTS_WITH_VALUE = frozenset("WX")
_READ_HEAD = 1 << 20  # an ELF's dynamic string table (where libpython is named) sits near its start


@dataclass(frozen=True)
class Target:
    argv: list[str]  # what to spawn; argv[0] is an absolute path
    kind: str  # PYTHON, LAUNCHER or NATIVE
    interpreter: str | None = None  # the Python interpreter, when kind is PYTHON
    py_options: tuple[str, ...] = ()  # interpreter options before the program (-X dev, -O, ...)
    mode: str = ""  # "script", "module", "code" or "stdin": how Python is told what to run
    program: str = ""  # the script path, module name or code
    args: tuple[str, ...] = ()  # the program's own arguments
    why: str = ""  # how the kind was decided, for the summary


def resolve(argv: list[str], *, cwd: str | None = None) -> Target:
    if not argv:
        raise PerfpackError(
            "no command to profile: put it after `--`, e.g. perfpack profile -- python app.py"
        )
    cwd = cwd or os.getcwd()
    program = argv[0]
    if not program:
        raise PerfpackError("the command is an empty string")
    path = _find(program, cwd)
    if path is None:
        raise PerfpackError(
            f"command not found: {_show(program)} (check the name and PATH; a Python file can be "
            "given as `python FILE`)"
        )
    head = _head(path)
    base = os.path.basename(path)
    if _PYTHON_NAME.match(base) and head[:4] != b"\x7fELF":
        # A shim (pyenv, asdf) that execs the real interpreter: profilers follow new processes, not an
        # exec inside one, so start the interpreter it would pick (for this folder) directly.
        real = _real_interpreter(path, cwd)
        if real:
            path, head, base = real, _head(real), os.path.basename(real)
            argv = [real, *argv[1:]]
    if path.endswith((".py", ".pyw")) and not head.startswith(b"#!") and head[:4] != b"\x7fELF":
        # A Python file given as the command: run it with this interpreter, as `python FILE` would.
        return _python([sys.executable, path, *argv[1:]], sys.executable, argv[1:], path, "a .py file")
    if not os.access(path, os.X_OK):
        raise PerfpackError(
            f"not executable: {_show(path)} (chmod +x it, or give the interpreter that runs it)"
        )
    if head.startswith(b"#!"):
        return _from_shebang(path, head, argv)
    if head[:4] == b"\x7fELF":
        if _PYTHON_NAME.match(base):
            return _python([path, *argv[1:]], path, [], None, "a Python interpreter")
        if base in _LAUNCHERS or base in _SHELLS:
            return Target([path, *argv[1:]], LAUNCHER, why=f"{base} starts another program")
        if b"Py_BytesMain" in head:  # the entry point of CPython's own `python` program
            return _python([path, *argv[1:]], path, [], None, "a Python interpreter")
        if b"libpython" in head:
            return Target([path, *argv[1:]], LAUNCHER, why="embeds Python")
        return Target([path, *argv[1:]], NATIVE, why="a native program")
    raise PerfpackError(
        f"not a program this machine can run: {_show(path)} (give a Python file as "
        "`python FILE`, or an executable with a #! line)"
    )


def _python(
    argv: list[str], interpreter: str, after_interp: list[str], script: str | None, why: str
) -> Target:
    """A Python command: split the interpreter's options from what it runs, as CPython's parser does."""
    options: list[str] = []
    if script is not None:
        return Target(argv, PYTHON, interpreter, (), "script", script, tuple(after_interp), why)
    rest = list(argv[1:])
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--":
            i += 1
            break
        if arg == "-" or not arg.startswith("-"):
            break
        if arg.startswith("--"):  # --version, --help, --check-hash-based-pycs MODE
            options.append(arg)
            if arg == "--check-hash-based-pycs" and i + 1 < len(rest):
                options.append(rest[i + 1])
                i += 1
            i += 1
            continue
        letters = arg[1:]
        j = 0
        consumed = False
        while j < len(letters):
            letter = letters[j]
            if letter in "cm":
                value = letters[j + 1 :] or (rest[i + 1] if i + 1 < len(rest) else None)
                if value is None:
                    raise PerfpackError(f"python {arg}: argument expected")
                skip = 1 if letters[j + 1 :] else 2
                if j:
                    options.append("-" + letters[:j])
                mode = "code" if letter == "c" else "module"
                return Target(
                    argv, PYTHON, interpreter, tuple(options), mode, value, tuple(rest[i + skip :]), why
                )
            if letter in _PY_OPTS_WITH_VALUE:
                if j + 1 < len(letters):
                    options.append("-" + letters)
                elif i + 1 < len(rest):
                    options += ["-" + letters, rest[i + 1]]
                    i += 1
                consumed = True
                break
            j += 1
        if not consumed:
            options.append(arg)
        i += 1
    if i >= len(rest):
        return Target(argv, PYTHON, interpreter, tuple(options), "stdin", "", (), why)
    if rest[i] == "-":
        return Target(argv, PYTHON, interpreter, tuple(options), "stdin", "-", tuple(rest[i + 1 :]), why)
    return Target(argv, PYTHON, interpreter, tuple(options), "script", rest[i], tuple(rest[i + 1 :]), why)


def _from_shebang(path: str, head: bytes, argv: list[str]) -> Target:
    line = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    words = line.split()
    if not words:
        raise PerfpackError(f"empty #! line in {_show(path)}")
    interp = words[0]
    rest = words[1:]
    if os.path.basename(interp) == "env":
        rest = [w for w in rest if not w.startswith("-")]  # env -S python3 -u
        if not rest:
            raise PerfpackError(f"#! line names no program: {_show(path)}")
        found = shutil.which(rest[0])
        interp_name = os.path.basename(rest[0])
        interp = found or rest[0]
        rest = rest[1:]
    else:
        interp_name = os.path.basename(interp)
    if _PYTHON_NAME.match(interp_name):
        if not os.path.isabs(interp) or not os.access(interp, os.X_OK):
            raise PerfpackError(f"the #! interpreter of {_show(path)} is not installed: {_show(interp)}")
        return Target(
            [path, *argv[1:]],
            PYTHON,
            interp,
            tuple(rest),
            "script",
            path,
            tuple(argv[1:]),
            "a script with a Python #! line",
        )
    if interp_name in _SHELLS:
        return Target([path, *argv[1:]], LAUNCHER, why=f"a {interp_name} script")
    return Target([path, *argv[1:]], NATIVE, why=f"a {interp_name} script")


def _real_interpreter(shim: str, cwd: str) -> str | None:
    import subprocess

    try:
        proc = subprocess.run(
            [shim, "-c", "import sys; print(sys.executable)"],
            cwd=cwd,
            capture_output=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    real = proc.stdout.decode("utf-8", "replace").strip()
    return real if proc.returncode == 0 and os.path.isabs(real) and os.access(real, os.X_OK) else None


def _find(program: str, cwd: str) -> str | None:
    if os.sep in program or (os.altsep and os.altsep in program):
        path = os.path.join(cwd, program)
        return os.path.abspath(path) if os.path.lexists(path) else None
    if program.endswith((".py", ".pyw")) and os.path.isfile(os.path.join(cwd, program)):
        return os.path.abspath(os.path.join(cwd, program))
    found = shutil.which(program)
    return os.path.abspath(found) if found else None


def _head(path: str) -> bytes:
    """The program file's first bytes; only a regular file (a FIFO or device would block or never end)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise PerfpackError(f"cannot read {_show(path)}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise PerfpackError(f"a folder, not a program: {_show(path)}")
    if not stat.S_ISREG(st.st_mode):
        raise PerfpackError(f"not a regular file: {_show(path)}")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) * 0)
        try:
            return os.read(fd, _READ_HEAD)
        finally:
            os.close(fd)
    except OSError as exc:
        if os.access(path, os.X_OK):
            return b""  # executable but unreadable (mode 111): exec decides
        raise PerfpackError(f"cannot read {_show(path)}: {exc.strerror}") from None


def _show(text: str) -> str:
    from perfpack.terminal import one_line

    return one_line(text)
