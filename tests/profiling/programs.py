"""Generated Python programs with one planted hot function (or allocation site), for tests and
benchmarks/profile.py.

Every program is random: its names, its decoy functions, the kind of work each does, the order of
calls, where the planted function sits (a function, a method, a nested call chain), so that a check
passes only if the profiler finds the hot spot, not if it knows the generator. The planted function
does about 55-75 % of the CPU work (the goal asks for >= 40 %); each decoy a few percent.
"""

from __future__ import annotations

import random
import re
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

CPU_SHAPES = ("loop", "recursion", "cext", "threads", "child", "asyncio")

_VERBS = [
    "compute",
    "scan",
    "merge",
    "build",
    "score",
    "rank",
    "fold",
    "parse",
    "encode",
    "walk",
    "sift",
    "tally",
    "mix",
    "pack",
    "blend",
    "crunch",
    "sweep",
    "grind",
    "index",
    "shuffle",
]
_NOUNS = [
    "orders",
    "rows",
    "tokens",
    "graph",
    "ledger",
    "cells",
    "frames",
    "items",
    "batch",
    "pixels",
    "events",
    "names",
    "routes",
    "chunks",
    "votes",
    "words",
    "spans",
    "keys",
    "leaves",
    "bins",
]


def _name(rng: random.Random, used: set[str]) -> str:
    while True:
        name = (
            f"{rng.choice(_VERBS)}_{rng.choice(_NOUNS)}{rng.choice(['', '_' + str(rng.randrange(10, 99))])}"
        )
        if name not in used:
            used.add(name)
            return name


# CPU kernels: the body of a function of `n` that does about n small steps of pure-Python work.
_KERNELS = [
    "acc = 0\nfor i in range(n):\n    acc += (i * {a}) % {b}\nreturn acc",
    "acc = 0\nx = {a}\nfor _ in range(n):\n    x = (x * 1103515245 + 12345) & 0x7FFFFFFF\n"
    "    acc ^= x\nreturn acc",
    "table = {{}}\nfor i in range(n):\n    k = i % {b}\n    table[k] = table.get(k, 0) + i\n"
    "return len(table)",
    "parts = []\nfor i in range(n):\n    parts.append(i % {b})\nreturn sum(parts)",
    "acc = 0.0\nfor i in range(1, n + 1):\n    acc += {a} / i\nreturn acc",
    "s = 0\ni = 0\nwhile i < n:\n    s += i & {b}\n    i += 1\nreturn s",
]

# C-extension calls: the body of a function of `n`; n is scaled so each call list costs about the same.
_CEXT = [
    ("import zlib\ndata = bytes(range(256)) * 64\nfor _ in range(n // 400):\n    zlib.compress(data, 9)", 1),
    ("import hashlib\ndata = b'x' * 4096\nfor _ in range(n // 60):\n    hashlib.sha256(data).digest()", 1),
    (
        "values = list(range(5000, 0, -1))\nfor _ in range(n // 3000):\n    sorted(values, key=lambda v: -v)",
        1,
    ),
    (
        "import json\nobj = {'k%d' % i: [i, str(i), i * 0.5] for i in range(200)}\n"
        "for _ in range(n // 3000):\n    json.dumps(obj)",
        1,
    ),
    (
        "import re\ntext = 'abc123 def456 ' * 400\npat = re.compile(r'[a-z]+(\\d+)')\n"
        "for _ in range(n // 3000):\n    pat.findall(text)",
        1,
    ),
]


@dataclass
class Program:
    shape: str
    path: Path
    planted: str
    argv: list[str]
    seed: int


def _kernel(rng: random.Random) -> str:
    return rng.choice(_KERNELS).format(a=rng.randrange(3, 97), b=rng.randrange(7, 997))


def _func(name: str, body: str, *, is_async: bool = False, params: str = "n") -> str:
    head = f"{'async ' if is_async else ''}def {name}({params}):\n"
    return head + textwrap.indent(body, "    ") + "\n"


_RATES: dict[str, float] = {}


def _rate(body: str, params: str = "n") -> float:
    """Units of `n` per second that a function with this body runs at here (measured: kernels differ by
    up to 10x, C calls by far more), so that the planted share is what it claims on any machine."""
    if body in _RATES:
        return _RATES[body]
    namespace: dict = {}
    exec(compile(_func("f", body, params=params), "<kernel>", "exec"), namespace)
    func = namespace["f"]
    n = 1000
    while True:
        best = float("inf")
        for _ in range(3):  # CPU time, the least of three: other processes on the machine do not count
            start = time.process_time()
            func(n)
            best = min(best, time.process_time() - start)
        if best >= 0.02 or n > 10**9:
            break
        n *= 4
    _RATES[body] = n / best
    return _RATES[body]


def _time_call(source: str, name: str, arg: int) -> float:
    key = f"{source}|{arg}"
    if key not in _RATES:
        namespace: dict = {}
        exec(compile(source, "<kernel>", "exec"), namespace)
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            namespace[name](arg)
            best = min(best, time.process_time() - start)
        _RATES[key] = best
    return _RATES[key]


def generate(
    shape: str, folder: Path, seed: int, *, scale: float = 1.0, python: str | None = None
) -> Program:
    """Write one program of `shape` into `folder`: about 1.5 * `scale` s of CPU work here (the work of
    each function sized from its measured speed), the planted function 55-75 % of it."""
    rng = random.Random(f"{shape}-{seed}")
    used: set[str] = set()
    planted = _name(rng, used)
    decoys = [_name(rng, used) for _ in range(rng.randint(2, 4))]
    driver = _name(rng, used)
    seconds = 1.5 * scale
    share = rng.uniform(0.55, 0.75)
    planted_s = seconds * share
    decoy_s = seconds * (1 - share) / len(decoys)
    rounds = rng.randint(3, 8)
    parts = ["import sys", "import time", ""]
    calls = []
    for decoy in decoys:
        kernel = _kernel(rng)
        parts.append(_func(decoy, kernel))
        calls.append(f"    {decoy}({max(1, int(decoy_s * _rate(kernel) / rounds))})")
    main_body: list[str]

    def planted_kernel() -> tuple[str, int]:
        kernel = _kernel(rng)
        return kernel, max(1, int(planted_s * _rate(kernel)))

    if shape == "loop":
        kernel, n_planted = planted_kernel()
        parts.append(_func(planted, kernel))
        calls.append(f"    {planted}({n_planted // rounds})")
        rng.shuffle(calls)
        parts.append(_func(driver, f"for _ in range({rounds}):\n" + "\n".join(calls), params=""))
        main_body = [f"{driver}()"]
    elif shape == "recursion":
        if rng.random() < 0.5:
            depth = 18 + rng.randrange(4)
            body = f"if k < 2:\n    return k\nreturn {planted}(k - 1) + {planted}(k - 2)"
            parts.append(_func(planted, body, params="k"))
            one = _time_call(
                "def g(k):\n    if k < 2:\n        return k\n    return g(k - 1) + g(k - 2)\n", "g", depth
            )
            reps = max(1, int(planted_s / one / rounds))
            planted_call = f"    for _ in range({reps}):\n        {planted}({depth})"
        else:
            body = (
                "if depth == 0:\n    acc = 0\n    for i in range(width):\n        acc += i * i % 7\n"
                f"    return acc\nreturn {planted}(depth - 1, width) + {planted}(depth - 1, width)"
            )
            parts.append(_func(planted, body, params="depth, width"))
            leaf = "acc = 0\nfor i in range(n):\n    acc += i * i % 7\nreturn acc"
            width = max(1, int(planted_s * _rate(leaf) / 256 / rounds))
            planted_call = f"    {planted}(8, {width})"
        calls.append(planted_call)
        rng.shuffle(calls)
        parts.append(_func(driver, f"for _ in range({rounds}):\n" + "\n".join(calls), params=""))
        main_body = [f"{driver}()"]
    elif shape == "cext":
        body, _ = rng.choice(_CEXT)
        parts.append(_func(planted, body))
        calls.append(f"    {planted}({max(1, int(planted_s * _rate(body) / rounds))})")
        rng.shuffle(calls)
        parts.append(_func(driver, f"for _ in range({rounds}):\n" + "\n".join(calls), params=""))
        main_body = [f"{driver}()"]
    elif shape == "threads":
        workers = rng.randint(2, 4)
        parts.insert(0, "import threading")
        kernel, n_planted = planted_kernel()
        if rng.random() < 0.5:
            klass = _name(rng, used).title().replace("_", "")
            parts.append(
                f"class {klass}:\n" + textwrap.indent(_func(planted, kernel, params="self, n"), "    ")
            )
            target = f"{klass}().{planted}"
        else:
            parts.append(_func(planted, kernel))
            target = planted
        parts.append(
            _func(
                driver,
                f"threads = [threading.Thread(target={target}, args=({n_planted // workers},))"
                f" for _ in range({workers})]\nfor t in threads:\n    t.start()\n"
                + "\n".join(c[4:] for c in calls)
                + "\nfor t in threads:\n    t.join()",
                params="",
            )
        )
        main_body = [f"{driver}()"]
    elif shape == "child":
        kernel, n_planted = planted_kernel()
        parts.append(_func(planted, kernel))
        if rng.random() < 0.5:
            parts.insert(0, "import subprocess")
            spawn = (
                "child = subprocess.Popen([sys.executable, __file__, '--child'])\n"
                + "\n".join(c[4:] for c in calls)
                + "\nchild.wait()"
            )
        else:
            parts.insert(0, "import multiprocessing")
            spawn = (
                f"child = multiprocessing.Process(target={planted}, args=({n_planted},))\nchild.start()\n"
                + "\n".join(c[4:] for c in calls)
                + "\nchild.join()"
            )
        parts.append(_func(driver, spawn, params=""))
        main_body = [
            "if sys.argv[1:] == ['--child']:",
            f"    {planted}({n_planted})",
            "else:",
            f"    {driver}()",
        ]
    elif shape == "asyncio":
        parts.insert(0, "import asyncio")
        chunks = rng.randint(20, 60)
        kernel, n_planted = planted_kernel()
        inline = re.sub(r"\bn\b", "m", kernel).replace("return ", "total += ")
        body = (
            f"total = 0\nm = n // {chunks}\nfor _ in range({chunks}):\n"
            + textwrap.indent(inline, "    ")
            + "\n    await asyncio.sleep(0)\nreturn total"
        )
        parts.append(_func(planted, body, is_async=True))
        decoy_calls = {d: c.strip() for d, c in zip(decoys, calls, strict=True)}
        parts.append(
            "\n".join(
                f"async def _a_{d}():\n    await asyncio.sleep(0)\n    for _ in range({rounds}):\n"
                f"        {decoy_calls[d]}\n"
                for d in decoys
            )
        )
        parts.append(
            _func(
                driver,
                f"await asyncio.gather({planted}({n_planted}), "
                + ", ".join(f"_a_{d}()" for d in decoys)
                + ")",
                is_async=True,
                params="",
            )
        )
        main_body = [f"asyncio.run({driver}())"]
    else:
        raise ValueError(shape)
    source = (
        "\n".join(parts)
        + "\n\n"
        + ("if __name__ == '__main__':\n" + textwrap.indent("\n".join(main_body), "    ") + "\n")
    )
    path = folder / f"prog_{shape}_{seed}.py"
    path.write_text(source, encoding="utf-8")
    return Program(shape, path, planted, [python or sys.executable, str(path)], seed)


# Allocations of about n items, with roughly how many bytes each item costs on 64-bit CPython.
_ALLOCS = [
    ("data = [str(i) * 3 for i in range(n)]", 85),
    ("data = {i: (i, str(i)) for i in range(n)}", 190),
    ("data = bytearray(n * 40)", 40),
    ("data = [(i, i * 2.5) for i in range(n)]", 124),
    ("data = []\nfor i in range(n):\n    data.append([i] * 4)", 124),
    ("data = b'%c' * (n * 32)", 32),
]


def generate_memory(folder: Path, seed: int, *, scale: float = 1.0, python: str | None = None) -> Program:
    """A program whose planted function makes the largest allocation live at the memory peak. Decoys
    keep smaller ones (0.3-0.4 of it each); a transient function allocates MORE than the planted one
    (1.05-1.1x) but frees it before the peak (at least 1.6x), so ranking by bytes allocated in total
    would be wrong."""
    rng = random.Random(f"memory-{seed}")
    used: set[str] = set()
    planted = _name(rng, used)
    decoys = [_name(rng, used) for _ in range(rng.randint(2, 3))]
    transient = _name(rng, used)
    driver = _name(rng, used)
    target = 40_000_000 * scale

    def alloc(name: str, nbytes: float, keep: bool) -> tuple[str, int]:
        body, per_item = rng.choice(_ALLOCS)
        body = body.replace("%c", chr(rng.randrange(97, 123)))
        parts.append(_func(name, body + ("\nreturn data" if keep else "\nreturn len(data)")))
        return name, max(1, int(nbytes / per_item))

    parts: list[str] = []
    kept = [alloc(d, target * rng.uniform(0.3, 0.4), True) for d in decoys]
    main = alloc(planted, target, True)
    gone = alloc(transient, target * rng.uniform(1.05, 1.1), False)
    keep = [f"kept.append({name}({n}))" for name, n in kept]
    rng.shuffle(keep)
    body = [
        "kept = []",
        f"{gone[0]}({gone[1]})",
        *keep[:1],
        f"kept.append({main[0]}({main[1]}))",
        *keep[1:],
        "return len(kept)",
    ]
    parts.append(_func(driver, "\n".join(body), params=""))
    source = "\n".join(parts) + f"\n\nif __name__ == '__main__':\n    {driver}()\n"
    path = folder / f"prog_memory_{seed}.py"
    path.write_text(source, encoding="utf-8")
    return Program("memory", path, planted, [python or sys.executable, str(path)], seed)
