"""`perfpack profile` end to end: real programs (generated, each with one planted hot function), the real
py-spy, cProfile, perf, memray and tracemalloc, the real CLI entry point.

Each run generates programs from a fresh random seed (printed on failure): the detection must work on
programs it has not seen.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_perfpack
from tests.profiling import programs

SCALE = 0.5  # about a second of work per program on a quiet core


def _seed() -> int:
    return random.randrange(1_000_000)


def _profile(tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300):
    return run_perfpack("profile", *args, cwd=tmp_path, env=env, timeout=timeout)


def _json(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _strays(marker: str) -> list[str]:
    """Live processes whose command line mentions `marker` (a test's own temp folder)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmd = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open(f"/proc/{pid}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[-1].split()[0]
        except OSError:
            continue
        if marker in cmd and state != b"Z":
            found.append(f"{pid}: {cmd}")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("shape", programs.CPU_SHAPES)
def test_planted_function_is_the_top_hot_spot(tmp_path: Path, shape: str):
    seed = _seed()
    prog = programs.generate(shape, tmp_path, seed, scale=SCALE)
    data = _json(_profile(tmp_path, "--format", "json", "--", *prog.argv))
    top = data["hotspots"][0]
    assert top["function"] == prog.planted, (
        seed,
        [(h["function"], h["self_pct"]) for h in data["hotspots"][:4]],
    )
    assert top["file"] == str(prog.path) and top["line"] > 0
    assert data["engine"] == "py-spy" and data["samples"] > 10 and data["exit_code"] == 0
    for key in ("engine", "samples", "wall_s", "hotspots", "flamegraph", "raw"):
        assert key in data
    assert set(top) >= {"function", "file", "line", "self_pct", "total_pct"}
    flame_svg = Path(data["flamegraph"]).read_text()
    assert flame_svg.startswith("<svg")
    # the subtitle's count is the one the bars are shares of ("all: N samples"), or says both
    drawn = re.search(r"<title>all: ([\d,]+) samples</title>", flame_svg)
    subtitle = re.search(
        r'fill="#555">py-spy [^<]*? · ([\d,]+)(?: busy samples of ([\d,]+) drawn| samples) · ', flame_svg
    )
    assert drawn and subtitle, flame_svg[:800]
    assert (subtitle.group(2) or subtitle.group(1)) == drawn.group(1)
    assert Path(data["raw"]).stat().st_size > 0
    assert not _strays(str(tmp_path))


@pytest.mark.slow
def test_text_summary_is_short_and_complete(tmp_path: Path):
    prog = programs.generate("loop", tmp_path, _seed(), scale=SCALE)
    proc = _profile(tmp_path, "--name", "before", "--", *prog.argv)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert len(text.encode()) <= 2048
    assert prog.planted in text.splitlines()[4]  # the first hot spot line
    for words in (
        "py-spy",
        "samples",
        "s sampled, after ",
        "flame graph: .claude/perfpack/profiles/before/flame.svg",
        "profile.json",
        f"{prog.path.name}:",
    ):
        assert words in text
    # the ledger holds what was printed
    from perfpack.ledger import read

    record = read(tmp_path)[-1]
    assert record["kind"] == "profile" and record["name"] == "before"
    printed = {f["function"]: f["value"] for f in record["figures"] if f["metric"] == "self"}
    assert f"{printed[prog.planted]:5.1f}%" in text
    assert (tmp_path / ".claude/perfpack/profiles/.gitignore").read_text().strip().endswith("*")


@pytest.mark.slow
def test_diff_shows_the_hot_spot_gone(tmp_path: Path):
    seed = _seed()
    prog = programs.generate("loop", tmp_path, seed, scale=SCALE)
    assert _profile(tmp_path, "--name", "before", "--", *prog.argv).returncode == 0
    # the "fix": the planted function returns at once
    source = prog.path.read_text().replace(
        f"def {prog.planted}(n):\n", f"def {prog.planted}(n):\n    return 0\n"
    )
    prog.path.write_text(source)
    assert _profile(tmp_path, "--name", "after", "--", *prog.argv).returncode == 0
    data = _json(run_perfpack("profile", "diff", "before", "after", "--format", "json", cwd=tmp_path))
    first = data["functions"][0]
    assert first["function"] == prog.planted and first["change_pct"] < -30, (seed, data["functions"][:3])
    text = run_perfpack("profile", "diff", "before", "after", cwd=tmp_path).stdout
    assert prog.planted in text.splitlines()[3] and len(text.encode()) <= 2048


def test_native_frames_of_a_python_program(tmp_path: Path):
    """--native (py-spy pauses the program to read C frames): the Python function that called into C
    still tops the profile, with the C call named."""
    prog = tmp_path / "z.py"
    prog.write_text(
        "import zlib\n"
        "def pack_blobs():\n"
        "    data = bytes(range(256)) * 8192\n"
        "    for _ in range(60):\n"
        "        zlib.compress(data, 9)\n"
        "pack_blobs()\n"
    )
    data = _json(_profile(tmp_path, "--native", "--format", "json", "--", sys.executable, str(prog)))
    top = data["hotspots"][0]
    assert data["engine"] == "py-spy" and top["function"] == "pack_blobs", data["hotspots"][:3]


def test_a_memory_diff_says_where_a_function_moved_and_how_many_lines_it_sums(tmp_path: Path):
    """A blind corpus writer read `build_response — service.py:17` for a share that was at line 26 before,
    and `<module> — service.py:4` for lines 3 and 4 summed: the row now says both."""
    before, after = tmp_path / "a", tmp_path / "b"
    sides = ((before, [("build_response", 26, 9000), ("<module>", 4, 1000)], 10000),
             (after, [("build_response", 17, 300), ("<module>", 3, 400), ("<module>", 4, 300)], 1000))
    for folder, sites, peak in sides:
        folder.mkdir()
        (folder / "profile.json").write_text(json.dumps({
            "kind": "memory", "name": folder.name, "engine": "memray", "peak_bytes": peak,
            "sites": [{"function": f, "file": str(tmp_path / "service.py"), "line": line, "bytes": size,
                       "count": 1} for f, line, size in sites]}))
    proc = run_perfpack("profile", "diff", str(before), str(after), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "build_response — service.py:26 -> 17" in proc.stdout, proc.stdout
    assert "<module> — service.py:4 -> 3 (2 lines summed)" in proc.stdout, proc.stdout
    data = _json(run_perfpack("profile", "diff", str(before), str(after), "--format", "json", cwd=tmp_path))
    row = next(r for r in data["functions"] if r["function"] == "build_response")
    assert (row["before_line"], row["after_line"]) == (26, 17)


def test_the_printed_diff_command_works_with_out(tmp_path: Path):
    """The summary's last line is a command to copy: with --out it must name the profile's folder (a bare
    name is looked up under .claude/perfpack/profiles/, where an --out profile is not)."""
    prog = programs.generate("loop", tmp_path, _seed(), scale=SCALE)
    hints = []
    for name in ("before", "after"):
        args = ["--out", str(tmp_path / "elsewhere"), "--name", name, "--", *prog.argv]
        text = _profile(tmp_path, *args).stdout
        hints.append(text.strip().splitlines()[-1])
    assert hints[0].startswith("compare after a change: perfpack profile diff "), hints[0]
    before = hints[0].split(" diff ", 1)[1].split()[0]
    after = hints[1].split(" diff ", 1)[1].split()[0]
    proc = run_perfpack("profile", "diff", before, after, cwd=tmp_path)
    assert proc.returncode == 0, (hints, proc.stderr)
    # without --out the name is enough
    text = _profile(tmp_path, "--name", "plain", "--", *prog.argv).stdout
    assert text.strip().splitlines()[-1] == "compare after a change: perfpack profile diff plain NEW_NAME"


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["memray", "tracemalloc"])
def test_planted_allocation_site_tops_memory(tmp_path: Path, engine: str):
    seed = _seed()
    prog = programs.generate_memory(tmp_path, seed, scale=0.5 if engine == "memray" else 0.15)
    proc = _profile(tmp_path, "--memory", "--engine", engine, "--format", "json", "--", *prog.argv)
    data = _json(proc)
    assert data["engine"] == engine
    top = data["sites"][0]
    assert top["function"] == prog.planted, (seed, [(s["function"], s["bytes"]) for s in data["sites"][:4]])
    assert set(top) >= {"function", "file", "line", "bytes"}
    assert data["peak_bytes"] >= top["bytes"] > 0
    text = _profile(tmp_path, "--memory", "--engine", engine, "--", *prog.argv).stdout
    assert len(text.encode()) <= 2048 and "peak" in text and prog.planted in text


@pytest.mark.parametrize("engine", ["memray", "tracemalloc"])
def test_memory_path_names_each_function_once(tmp_path: Path, engine: str):
    """A comprehension, generator expression or lambda allocating inside a function is charged to that
    function, and its call path names the function once (tracemalloc gives only file and line: the
    comprehension's own frame must not read as a second call of the function)."""
    prog = tmp_path / "cache.py"
    prog.write_text(
        "def fill_cache(n):\n"
        "    rows = [bytes(2000) for _ in range(n)]\n"
        "    blobs = list(bytes(1000) for _ in range(n))\n"
        "    return rows, blobs\n"
        "def main():\n"
        "    return fill_cache(3000)\n"
        "kept = main()\n"
    )
    args = ["--memory", "--engine", engine, "--format", "json", "--", sys.executable, str(prog)]
    data = _json(_profile(tmp_path, *args))
    mine = [s for s in data["sites"] if s["function"] == "fill_cache"]
    assert {s["line"] for s in mine} >= {2, 3}, data["sites"][:4]
    for site in mine:
        assert site["path"] == ["main", "fill_cache"], site


def test_a_hot_spot_names_its_function_and_the_line_its_time_went_to(tmp_path: Path):
    """A blind corpus writer quoted `lint_lines — lint.py:7` (the def line) as the slow spot: a hot spot
    is a function, named by its first line, and py-spy's lines say where in it the time went."""
    prog = tmp_path / "hot.py"
    prog.write_text("@staticmethod\ndef unused():\n    pass\n\n\n"
                    "def work(n):\n    total = 0\n    for i in range(n):\n        total += sum(range(300))\n"
                    "    return total\n\n\nprint(work(60000))\n")
    args = ["--format", "json", "--", sys.executable, str(prog)]
    data = _json(_profile(tmp_path, *args))
    work = next(s for s in data["hotspots"] if s["function"] == "work")
    assert work["line"] == 6 and work["hot_line"]["line"] == 9 and work["hot_line"]["pct"] >= 80, work
    text = _profile(tmp_path, "--", sys.executable, str(prog)).stdout
    assert "work — hot.py:6" in text and "line 9:" in text, text


def test_first_lines_key_frames_by_their_function_and_keep_the_sampled_line(tmp_path: Path):
    from perfpack.profile.analysis import first_lines
    from perfpack.profile.model import Frame

    source = tmp_path / "m.py"
    source.write_text("import functools\n@functools.cache\ndef f(x):\n    return [i for i in\n"
                      "            range(x)]\nclass C:\n    y = 1\n")
    path = str(source)
    stack = (Frame("<module>", path, 8), Frame("f", path, 4), Frame("<listcomp>", path, 5),
             Frame("C", path, 7), Frame("g", "<frozen x>", 3))
    frames = first_lines([(stack, 1)])[0][0]
    assert [(f.line, f.at) for f in frames] == [(1, 8), (2, 4), (4, 5), (7, 7), (3, 3)]


def test_memray_charges_small_objects_not_the_arenas_that_hold_them(tmp_path: Path):
    """30,000 floats (24 B each) made on one line: memray sees each object pymalloc hands out, so the line
    holds about 720 KB in thousands of blocks, not a 1 MiB arena "in 1 block" (as a blind corpus writer
    saw), and a line that only happened to need a fresh arena is not charged for it."""
    prog = tmp_path / "stamps.py"
    prog.write_text("def stamps(n):\n    return [i * 0.5 for i in range(n)]\nkept = stamps(30000)\n")
    args = ["--memory", "--engine", "memray", "--format", "json", "--", sys.executable, str(prog)]
    data = _json(_profile(tmp_path, *args))
    floats = [s for s in data["sites"] if s["function"] == "stamps"]
    assert floats and sum(s["count"] for s in floats) >= 10_000, data["sites"][:4]
    assert 600_000 <= sum(s["bytes"] for s in floats) <= 1_100_000, data["sites"][:4]
    text = _profile(tmp_path, "--memory", "--engine", "memray", "--", sys.executable, str(prog)).stdout
    assert "(1 blocks)" not in text and "— ?" not in text and "held by start-up" not in text
    tiny = tmp_path / "tiny.py"
    tiny.write_text("print(len([1, 2, 3]))\n")
    text = _profile(tmp_path, "--memory", "--engine", "memray", "--", sys.executable, str(tiny)).stdout
    assert "of the peak was held by start-up or native code" in text, text  # not the program's memory


@pytest.mark.slow
def test_cprofile_is_the_fallback_and_says_why(tmp_path: Path):
    prog = programs.generate("threads", tmp_path, _seed(), scale=SCALE)
    data = _json(_profile(tmp_path, "--format", "json", "--", *prog.argv, env={"PERFPACK_PY_SPY": ""}))
    assert data["engine"] == "cProfile" and "py-spy is not installed" in data["why"]
    assert data["hotspots"][0]["function"] == prog.planted
    assert data["sample_unit"] == "calls"


def _nobody_python() -> str | None:
    """/usr/bin/python3.X of this version: a Python another user can run (with this venv's packages)."""
    candidate = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    return candidate if os.access(candidate, os.X_OK) else None


@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None or _nobody_python() is None,
    reason="needs root, setpriv and a system Python of this version to run as another user",
)
def test_fallback_when_the_process_cannot_be_read(tmp_path: Path):
    """A real refusal: as an unprivileged user, a set-group-ID interpreter's process cannot be read by
    py-spy (the kernel marks it non-dumpable). perfpack must notice before the program runs, and run it
    once with cProfile."""
    base = _nobody_python()
    assert base
    root = Path(f"/tmp/perfpack-eperm-{os.getpid()}")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(mode=0o755)
    try:
        interp = root / "python-sgid"
        shutil.copy2(base, interp)
        os.chown(interp, 0, 1)  # group daemon: not nobody's, so exec changes the egid
        os.chmod(interp, 0o2755)
        prog = programs.generate("loop", root, _seed(), scale=SCALE)
        prog.path.chmod(0o644)
        counter = root / "runs"
        counter.mkdir()
        counter.chmod(0o777)
        prog.path.write_text(
            prog.path.read_text()
            + f"\nimport os\nopen(os.path.join({str(counter)!r}, str(os.getpid())), 'w')\n"
        )
        project = root / "proj"
        project.mkdir()
        os.chown(project, 65534, 65534)
        site = next(p for p in sys.path if p.endswith("site-packages"))
        src = str(Path(__file__).resolve().parents[2] / "src")
        code = f"import sys; sys.path[:0] = [{src!r}, {site!r}]; from perfpack.cli import run; run()"
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(project),
            "PERFPACK_PY_SPY": os.path.join(os.path.dirname(sys.executable), "py-spy"),
        }
        proc = subprocess.run(
            [
                "setpriv",
                "--reuid",
                "nobody",
                "--regid",
                "nogroup",
                "--clear-groups",
                base,
                "-c",
                code,
                "profile",
                "--format",
                "json",
                "--",
                str(interp),
                str(prog.path),
            ],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        data = _json(proc)
        assert data["engine"] == "cProfile", data["why"]
        assert "py-spy could not sample" in data["why"] and "set-user/group-ID" in data["why"]
        assert data["hotspots"][0]["function"] == prog.planted
        assert len(os.listdir(counter)) == 1  # the program ran once, not twice
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_attach_to_a_running_process(tmp_path: Path):
    prog = tmp_path / "server.py"
    prog.write_text(
        "import time\ndef handle_request_hot():\n    s = 0\n    for i in range(200000):\n"
        "        s += i * i % 7\n    return s\nwhile True:\n    handle_request_hot()\n    time.sleep(0.001)\n"
    )
    server = subprocess.Popen([sys.executable, str(prog)])
    try:
        time.sleep(0.3)
        data = _json(_profile(tmp_path, "--pid", str(server.pid), "--duration", "2s", "--format", "json"))
        assert data["hotspots"][0]["function"] == "handle_request_hot"
        assert data["stopped"] == "duration" and data["exit_code"] is None
        assert server.poll() is None  # still running: attaching does not stop it
        from perfpack.ledger import read

        record = read(tmp_path)[-1]  # a real argv, and the attached process's own beside it
        assert record["command"] == ["perfpack", "profile", "--pid", str(server.pid)]
        assert record["target"] == [sys.executable, str(prog)]
    finally:
        server.kill()
        server.wait()


@pytest.mark.slow
def test_duration_stops_a_long_command_and_keeps_the_profile(tmp_path: Path):
    prog = tmp_path / "forever.py"
    prog.write_text("def spin_forever():\n    while True:\n        sum(range(1000))\nspin_forever()\n")
    start = time.monotonic()
    data = _json(
        _profile(tmp_path, "--duration", "1.5s", "--format", "json", "--", sys.executable, str(prog))
    )
    assert time.monotonic() - start < 30
    assert data["stopped"] == "duration" and data["hotspots"][0]["function"] == "spin_forever"
    assert not _strays(str(tmp_path))


@pytest.mark.slow
def test_interrupt_keeps_what_was_measured(tmp_path: Path):
    prog = tmp_path / "forever.py"
    prog.write_text("def spin_forever():\n    while True:\n        sum(range(1000))\nspin_forever()\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfpack", "profile", "--format", "json", "--", sys.executable, str(prog)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Ctrl-C once the program has been sampled for a while (a fixed sleep raced perfpack's start-up on a
    # busy machine: the interrupt came before the program ran, and perfpack rightly said "interrupted")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and _busiest(str(prog)) < 100:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    data = json.loads(out)
    assert data["stopped"] == "interrupt" and data["hotspots"][0]["function"] == "spin_forever"
    assert not _strays(str(tmp_path))


def _busiest(marker: str) -> int:
    """The most CPU (clock ticks) used by a live process whose command line mentions `marker`."""
    ticks = [0]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if marker.encode() in handle.read():
                        ticks.append(_cpu_ticks(int(pid)))
            except OSError:
                continue
    return max(ticks)


def _perf_works() -> bool:
    binary = shutil.which("perf")
    if not binary:
        return False
    from perfpack.profile.perf import usable

    return usable(binary)[0]


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("cc") is None or not _perf_works(), reason="needs a C compiler and a working perf"
)
def test_native_program_uses_perf(tmp_path: Path):
    name = random.choice(["crunch_native", "hot_kernel", "spin_pixels"])
    source = tmp_path / "hot.c"
    source.write_text(
        "#include <stdio.h>\n"
        f"__attribute__((noinline)) double {name}(long n) {{ volatile double s = 0;"
        " for (long i = 1; i < n; i++) s += (double)(i % 7) / i; return s; }\n"
        "__attribute__((noinline)) long side(long n) { volatile long s = 0;"
        " for (long i = 0; i < n; i++) s ^= i; return s; }\n"
        f"int main(void) {{ double t = 0; for (int r = 0; r < 20; r++) {{ t += {name}(4000000);"
        ' t += side(600000); } printf("%f\\n", t); return 0; }\n'
    )
    subprocess.run(
        ["cc", "-O1", "-fno-omit-frame-pointer", "-o", str(tmp_path / "hot"), str(source)], check=True
    )
    data = _json(_profile(tmp_path, "--format", "json", "--", str(tmp_path / "hot")))
    assert data["engine"] == "perf"
    assert data["hotspots"][0]["function"] == name, data["hotspots"][:3]


def test_native_program_without_perf_is_refused_in_one_line(tmp_path: Path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(shutil.which("sleep") or "/bin/sleep", bindir / "sleep")
    proc = _profile(tmp_path, "--", "sleep", "5", env={"PATH": str(bindir)})
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "perf" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not _strays(str(tmp_path))


def _cpu_ticks(pid: int) -> int:
    """User + system CPU time of a process, in clock ticks (0 when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[-1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


@pytest.mark.skipif(
    not os.path.exists("/proc/pressure/cpu") or not shutil.which("taskset") or shutil.which("cc") is None
    or not _perf_works(),
    reason="needs Linux's CPU pressure information, taskset, a C compiler and a working perf",
)
def test_time_spent_waiting_for_a_busy_cpu_is_not_called_io(tmp_path: Path):
    """A CPU-bound native program (perf counts only the time it is on a CPU) that shares one core with six
    busy processes is on the CPU about a seventh of the run: the note must say the machine was contended,
    not that the program waited on I/O or locks."""
    source = tmp_path / "crunch.c"
    source.write_text(
        "#include <stdio.h>\n"
        "__attribute__((noinline)) double crunch(long n) { volatile double s = 0;"
        " for (long i = 1; i < n; i++) s += (double)(i % 7) / i; return s; }\n"
        'int main(void) { printf("%f\\n", crunch(150000000)); return 0; }\n'
    )
    subprocess.run(
        ["cc", "-O1", "-fno-omit-frame-pointer", "-o", str(tmp_path / "crunch"), str(source)], check=True
    )
    core = str(min(os.sched_getaffinity(0)))
    hogs = [  # each in a session of its own: Linux's autogroup shares a core between sessions, not processes
        subprocess.Popen(
            ["taskset", "-c", core, sys.executable, "-c", "while True: pass"], start_new_session=True
        )
        for _ in range(6)
    ]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and min(_cpu_ticks(h.pid) for h in hogs) < 20:
            time.sleep(0.1)  # every hog has started and spun (Python starts slowly on a busy machine)
        proc = _profile(
            tmp_path, "--format", "json", "--engine", "perf", "--",
            "taskset", "-c", core, str(tmp_path / "crunch"),
        )
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    data = _json(proc)
    assert data["engine"] == "perf" and data["hotspots"][0]["function"] == "crunch", data["hotspots"][:3]
    busy = [n for n in data["notes"] if n.startswith("on the CPU for about")]
    assert busy, (data["notes"], data["samples"], data["wall_s"])
    assert "contended" in busy[0] and "I/O, sleep, locks" not in busy[0], busy[0]


BUSY = "import time\nend = time.perf_counter() + {seconds}\nwhile time.perf_counter() < end:\n    pass\n"


def _refusal(proc) -> str:
    assert proc.returncode == 2 and proc.stdout == "", (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("perfpack: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


def _times(message: str) -> tuple[float, float]:
    """(the program's own run, the run with the interpreter's start-up) a refusal states."""
    found = re.search(r"the program ran (\d+\.\d\d) s \((\d+\.\d\d) s with the interpreter's start-up, "
                      r"which is not profiled\)", message)
    assert found, message
    return float(found[1]), float(found[2])


def test_a_short_busy_run_is_refused_as_too_short_not_as_waiting(tmp_path: Path):
    """corpus7: a fully CPU-bound run too short for the rate ("5 of about 5 samples") was refused with "it
    waited or slept"; corpus8: a Python command `time` puts at 0.27 s was "ended after 0.00 s"."""
    (tmp_path / "busy.py").write_text(BUSY.format(seconds=0.3))
    for _ in range(3):  # a machine too busy to give it the CPU is refused as contended (rightly): again
        proc = _profile(tmp_path, "--rate", "10", "--", sys.executable, "busy.py")
        if "contended" not in proc.stderr:
            break
    message = _refusal(proc)
    if "contended" in message:
        pytest.skip("the machine's CPUs stayed contended: " + message)
    own, whole = _times(message)
    assert own >= 0.29 and whole > own, message
    assert "too few to say where the time goes" in message and "--rate 1000" in message, message
    assert "waited or slept" not in message, message
    # at the rate it suggests, the same run is profiled, its time labelled as what was sampled
    proc = _profile(tmp_path, "--rate", "1000", "--", sys.executable, "busy.py")
    assert proc.returncode == 0, proc.stderr
    span = re.search(r" samples · (\d+\.\d\d) s sampled, after (\d+\.\d\d) s of interpreter start-up "
                     r"· exit 0", proc.stdout)
    assert span and float(span[1]) >= 0.29 and float(span[2]) > 0, proc.stdout


def test_a_run_that_ends_at_once_states_its_real_time(tmp_path: Path):
    message = _refusal(_profile(tmp_path, "--", sys.executable, "-c", "pass"))
    own, whole = _times(message)
    assert own < 0.05 and whole > own, message  # the start-up is most of what `time` would say
    assert "too short, nothing to profile" in message, message
    message = _refusal(_profile(tmp_path, "--", sys.executable, "-c", "import time; time.sleep(0.6)"))
    own, whole = _times(message)
    assert own >= 0.59 and "waited or slept" in message and "too short" not in message, message


def test_a_busy_run_on_a_contended_machine_is_too_short_not_only_on_the_cpu_for_9_of_7():
    """corpus25: at load 5, a 0.07 s busy run was refused as "on the CPU for only 9 of about 7 samples"."""
    from perfpack.errors import PerfpackError
    from perfpack.profile.model import CpuProfile
    from perfpack.profile.run import Outcome, _check_ran

    cpu = CpuProfile(engine="py-spy", engine_version="0.4.3", why="", stacks=[], weight_unit="samples",
                     samples=9, wall_s=0.07, exit_code=0, rate_hz=100, startup_s=0.19)
    outcome = Outcome(name="r", root=".", run_dir=".", command=["python3", "resize.py"], cpu=cpu,
                      total_weight=9, target_kind="python", cpu_contention=0.64)
    with pytest.raises(PerfpackError) as refused:
        _check_ran(outcome)
    assert "too few to say where the time goes" in str(refused.value), str(refused.value)
    assert "only 9 of" not in str(refused.value)


def test_samples_of_several_threads_say_so(tmp_path: Path):
    # corpus27: "1,607 samples over 6.40 s at 100 Hz" on a threaded server read as more samples than ticks
    prog = tmp_path / "threads.py"
    prog.write_text(
        "import hashlib, threading, time\n"
        "data = bytes(1 << 20)\n"
        "def spin():\n"  # hashing a large buffer releases the GIL: the threads run (or wait to run) at once
        "    end = time.monotonic() + 1.5\n"
        "    while time.monotonic() < end:\n"
        "        hashlib.sha256(data).digest()\n"
        "ts = [threading.Thread(target=spin) for _ in range(3)]\n"
        "[t.start() for t in ts]\n"
        "[t.join() for t in ts]\n"
    )
    proc = _profile(tmp_path, "--", sys.executable, str(prog))
    assert proc.returncode == 0, proc.stderr
    assert "of every thread: " in proc.stdout and " per tick)" in proc.stdout, proc.stdout
    single = tmp_path / "single.py"
    single.write_text("import time\nend = time.monotonic() + 1.0\nwhile time.monotonic() < end:\n    pass\n")
    alone = _profile(tmp_path, "--", sys.executable, str(single))
    assert alone.returncode == 0 and "of every thread" not in alone.stdout, alone.stdout


def test_diff_refuses_a_profile_the_profile_command_refused(tmp_path: Path):
    # corpus31: `profile --name toc-after` exited 2 ("too short") but left profile.json, and `profile diff`
    # then printed and recorded "-96.7 %" from it
    busy = tmp_path / "busy.py"
    busy.write_text("s = 0\nfor i in range(20_000_000):\n    s += i % 7\n")
    quick = tmp_path / "quick.py"
    quick.write_text("print(sum(range(1000)))\n")
    assert _profile(tmp_path, "--name", "before", "--", sys.executable, str(busy)).returncode == 0
    refused = _profile(tmp_path, "--name", "after", "--", sys.executable, str(quick))
    assert refused.returncode == 2 and "too short" in refused.stderr, refused.stderr
    ledger = tmp_path / ".claude/perfpack/ledger.jsonl"
    records = len(ledger.read_text().splitlines())
    diff = run_perfpack("profile", "diff", "before", "after", cwd=tmp_path)
    assert diff.returncode == 2 and "refused this run" in diff.stderr, diff.stderr
    assert "too short" in diff.stderr, diff.stderr
    assert diff.stderr.count("\n") <= 2 and "Traceback" not in diff.stderr
    assert len(ledger.read_text().splitlines()) == records  # nothing recorded from it
