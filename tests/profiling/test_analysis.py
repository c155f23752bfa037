"""Reading the engines' output and charging samples to functions, on the engines' real formats."""

from __future__ import annotations

import cProfile
import marshal
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from perfpack.profile import analysis, cprofile, flame, perf, pyspy
from perfpack.profile.model import NATIVE, PROCESS, PY, THREAD, Frame
from perfpack.profile.summary import MAX_BYTES, _fit

STDLIB = "/usr/lib/python3.11"
APP = "/srv/app"


def py(function: str, file: str, line: int = 1) -> Frame:
    return Frame(function, file, line, PY)


def test_raw_lines_as_py_spy_writes_them():
    raw = (
        'process 41:"python3 -c import a; b(\\";\\")";<module> (/srv/app/main.py:1);'
        "Pool.map (/usr/lib/python3.11/multiprocessing/pool.py:362);"
        "deflate (/usr/lib/x86_64-linux-gnu/libz.so.1.2.13);"
        "0x7f12 (/usr/lib/x86_64-linux-gnu/libz.so.1.2.13) 7\n"
        "thread (0x7F3A);run (/srv/app/w.py:10) 3\n"
        "thread (28870): MainThread;run (/srv/app/w.py:10) 2\n"
        'process 42:"python3 x.py" 1\n'
        "garbage without a count\n"
    )
    stacks = dict(pyspy.parse_raw(raw))
    assert sum(stacks.values()) == 13
    assert {s[0].kind for s, w in stacks.items() if w in (2, 3)} == {THREAD}
    first = next(s for s, w in stacks.items() if w == 7)
    assert first[0].kind == PROCESS and first[0].file == "41"
    assert first[1] == py("<module>", "/srv/app/main.py", 1)
    assert first[2].function == "map" and first[2].qualname == "Pool.map"
    assert first[3].kind == NATIVE and first[3].file.endswith("libz.so.1.2.13")
    assert [f.kind for f in next(s for s, w in stacks.items() if w == 1)] == [PROCESS]


def test_library_time_is_charged_to_the_calling_user_function():
    stacks = [
        (
            (
                py("<module>", f"{APP}/main.py"),
                py("handler", f"{APP}/main.py", 5),
                py("dumps", f"{STDLIB}/json/__init__.py", 183),
                py("iterencode", f"{STDLIB}/json/encoder.py", 205),
            ),
            60,
        ),
        ((py("<module>", f"{APP}/main.py"), py("other", f"{APP}/main.py", 20)), 40),
    ]
    spots, total = analysis.hotspots(stacks)
    assert total == 100
    assert (spots[0].function, spots[0].self_pct, spots[0].total_pct) == ("handler", 60.0, 60.0)
    assert spots[0].inner.startswith("dumps (json/__init__.py)") and spots[0].path == ["handler"]
    assert spots[1].function == "other"


def test_comprehensions_fold_into_their_function_and_recursion_counts_once():
    fib = py("fib", f"{APP}/f.py", 3)
    stacks = [
        ((py("main", f"{APP}/f.py", 9), fib, fib, fib), 50),
        (
            (py("main", f"{APP}/f.py", 9), py("build", f"{APP}/f.py", 1), py("<listcomp>", f"{APP}/f.py", 2)),
            50,
        ),
    ]
    spots, _ = analysis.hotspots(stacks)
    by_name = {s.function: s for s in spots}
    assert by_name["fib"].self_pct == 50.0 and by_name["fib"].total_pct == 50.0
    assert by_name["build"].self_pct == 50.0
    assert "<listcomp>" not in by_name
    # py-spy's reader shares one Frame object per distinct frame: a recursion is one step of the path
    assert by_name["fib"].path == ["main", "fib"] and by_name["build"].path == ["main", "build"]


def test_import_time_is_its_own_hot_spot():
    importing = (
        py("<module>", f"{APP}/main.py"),
        py("_find_and_load", "<frozen importlib._bootstrap>", 1165),
        py("<module>", f"{STDLIB}/asyncio/__init__.py", 1),
    )
    spots, _ = analysis.hotspots([(importing, 30), ((py("work", f"{APP}/main.py", 4),), 70)])
    assert spots[0].function == "work"
    assert spots[1].function == "import asyncio" and spots[1].self_pct == 30.0 and not spots[1].user
    assert spots[1].kind == "import" and spots[0].kind == "function"


def test_code_run_by_site_from_a_pth_file_is_not_user_code():
    pth = (
        py("addpackage", "<frozen site>", 160),
        py("<module>", "<string>", 1),
        py("<module>", f"{STDLIB}/zipfile.py", 1),
    )
    spots, _ = analysis.hotspots([(pth, 5), ((py("<module>", "<string>", 1), py("hot", "<string>", 2)), 95)])
    assert spots[0].function == "hot" and spots[0].user
    assert not spots[1].user


def test_memory_sites_rank_by_bytes_live_and_charge_the_user_line():
    allocations = [
        (
            (py("main", f"{APP}/m.py", 9), py("build", f"{APP}/m.py", 2), py("<listcomp>", f"{APP}/m.py", 2)),
            80_000_000,
            77,
        ),
        ((py("main", f"{APP}/m.py", 8), py("loads", f"{STDLIB}/json/__init__.py", 346)), 5_000_000, 3),
    ]
    sites = analysis.memory_sites(allocations)
    assert (sites[0].function, sites[0].line, sites[0].bytes) == ("build", 2, 80_000_000)
    assert (sites[1].function, sites[1].inner.split()[0]) == ("main", "loads")


def _hot(n: int) -> int:
    return sum(i * i % 7 for i in range(n))


def _cold(n: int) -> int:
    return sum(range(n))


def test_cprofile_call_graph_becomes_stacks(tmp_path: Path):
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(5):
        _hot(60_000)
        _cold(20_000)
    prof.disable()
    prof.create_stats()
    path = tmp_path / "p.pstats"
    path.write_bytes(marshal.dumps(prof.stats))
    stacks, calls = cprofile.stacks(cprofile.load(str(path)))
    assert calls > 10
    spots, _ = analysis.hotspots(stacks)
    assert spots[0].function == "_hot", [(s.function, s.self_pct) for s in spots[:3]]


@pytest.mark.skipif(shutil.which("perf") is None, reason="perf is not installed")
def test_perf_script_output_is_read(tmp_path: Path):
    binary = shutil.which("perf")
    assert binary
    ok, why = perf.usable(binary)
    if not ok:
        pytest.skip(why)
    data = tmp_path / "perf.data"
    code = "import zlib\nfor _ in range(400): zlib.compress(bytes(range(256)) * 2000, 9)"
    subprocess.run(
        perf.record_argv(binary, data=str(data), rate=499, command=[sys.executable, "-c", code]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    stacks = perf.parse_script(perf.script(binary, str(data)))
    assert sum(w for _, w in stacks) > 20
    assert all(s[0].kind == PROCESS and s[0].file.isdigit() for s, _ in stacks)
    # most of the time is in zlib's shared library, whatever its symbols are called
    in_zlib = sum(w for s, w in stacks if "libz" in s[-1].file)
    assert in_zlib > 0.5 * sum(w for _, w in stacks), [
        (s[-1].function, s[-1].file, w) for s, w in stacks[:10]
    ]


def test_summary_never_exceeds_its_budget():
    head = ["x" * 300] * 3
    items = [["é" * 200, "y" * 150] for _ in range(50)]
    text = _fit(head, items, ["tail " * 40])
    assert len(text.encode()) <= MAX_BYTES
    assert len(_fit(["z" * 5000], [], []).encode()) <= MAX_BYTES


def test_flame_graph_is_valid_svg_whatever_the_names():
    hostile = py("<&>\"'\x1b[31m\x00\u202e", "/tmp/a\nb.py", 3)
    stacks = [((Frame('p"1;', "7", 0, PROCESS), hostile, py("ok", "/x.py")), 10), ((hostile,), 5)]
    svg = flame.svg(stacks, title="t<\x07>", subtitle="s&")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert "\x1b" not in svg and "\x00" not in svg
    assert flame.folded(stacks).count("\n") == 2  # one line per stack, newlines in names escaped


def test_a_thread_waiting_in_the_standard_library_is_not_a_hot_spot():
    join = (py("main", f"{APP}/t.py", 3), py("join", f"{STDLIB}/threading.py", 1080),
            py("_wait_for_tstate_lock", f"{STDLIB}/threading.py", 1116))
    spots, total = analysis.hotspots([(join, 40), ((py("work", f"{APP}/t.py", 9),), 60)])
    assert total == 60 and [s.function for s in spots] == ["work"]


def test_cpython_own_c_code_under_native_is_not_user_code():
    """--native shows the interpreter's C functions with their source files (a Python built from source,
    as pyenv does, keeps them): they are library code, charged to the Python function that called them."""
    build = "/tmp/python-build.20260509073455.222/Python-3.11.7"
    stack = (
        py("<module>", f"{APP}/z.py", 1),
        py("pack_blobs", f"{APP}/z.py", 2),
        Frame("zlib_compress", f"{build}/Modules/clinic/zlibmodule.c.h", 61, NATIVE),
        Frame("zlib_compress_impl", f"{build}/Modules/zlibmodule.c", 374, NATIVE),
        Frame("deflate", "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", 0, NATIVE),
    )
    debian = (
        py("<module>", f"{APP}/z.py", 1),
        py("pack_blobs", f"{APP}/z.py", 2),
        Frame("list_sort_impl", "../Objects/listobject.c", 2300, NATIVE),
    )
    own = (py("<module>", f"{APP}/z.py", 1), Frame("fast_sum", f"{APP}/ext/fast.c", 12, NATIVE))
    spots, _ = analysis.hotspots([(stack, 80), (debian, 10), (own, 10)])
    assert [(s.function, s.self_pct) for s in spots[:2]] == [("pack_blobs", 90.0), ("fast_sum", 10.0)]
    assert spots[0].inner.startswith("zlib_compress")


def test_py_spy_reads_without_pausing_except_for_native_stacks():
    """Pausing the program for each sample made it ~9 % slower (benchmarks/profile.py's overhead); py-spy
    refuses --nonblocking together with --native, which needs the pause."""
    def argv(native: bool) -> list[str]:
        return pyspy.record_argv(
            "py-spy", raw_out="x.raw", rate=100, native=native, threads=False, subprocesses=True,
            command=["python", "a.py"],
        )

    assert "--nonblocking" in argv(False)
    native = argv(True)
    assert "--native" in native and "--nonblocking" not in native


def test_flame_graph_says_how_to_read_it_and_shows_shares_where_they_fit():
    # a PNG or a printed report cannot hover: the legend and the % in wide bars carry what the tooltips do
    hot, cold = py("slow_fib", f"{APP}/app.py", 14), py("tiny", f"{APP}/app.py", 30)
    svg = flame.svg([((hot,), 99), ((cold,), 1)], title="CPU: python app.py", subtitle="py-spy")
    texts = ["".join(t.itertext()) for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith("bar width: share of the samples") and "callers below" in t for t in texts)
    assert "slow_fib 99.0%" in texts  # wide bar: name and share
    assert not any(t.startswith("tiny") and "%" in t for t in texts)  # narrow bar: no room, no share
    assert "nan" not in svg.lower()


def test_a_program_ended_by_a_signal_reads_as_such_not_as_a_negative_exit_code():
    from perfpack.profile.summary import _exit_text

    assert _exit_text(-2) == " · killed by SIGINT" and _exit_text(-9) == " · killed by SIGKILL"
    assert _exit_text(0) == " · exit 0" and _exit_text(3) == " · exit 3" and _exit_text(None) == ""
    assert _exit_text(-250) == " · killed by signal 250"
