"""Measurement output pasted in fenced code blocks of a final message ("median 705 ms", "93.0 ms -> 0.047
ms"). Imported by perfpack.evidence.claims only for a message that holds a fenced block, so the stop hook
loads this code only then."""

from perfpack.evidence.claims import (
    _METRICS,
    _NUMBER_CHARS,
    MAX_CLAIMS,
    Claim,
    _fits,
    _read_number,
    _read_unit,
    _skip_number,
    printed_tolerance,
    unit_spec,
)

# Fenced blocks whose info string names one of these hold code or configuration, never measured output.
_CODE_LANGUAGES = {
    "python", "py", "python3", "pycon", "javascript", "js", "typescript", "ts", "jsx", "tsx", "go", "rust",
    "rs", "c", "cpp", "c++", "h", "java", "kotlin", "scala", "ruby", "rb", "php", "swift", "cs", "csharp",
    "sql", "psql", "toml", "yaml", "yml", "json", "jsonc", "ini", "cfg", "conf", "dockerfile", "makefile",
    "make", "html", "xml", "css", "diff", "patch", "lua", "perl", "r", "hcl", "terraform", "nginx", "proto",
}
# A label right before a figure in measurement output names it ("median 705 ms", "achieved 40.0 req/s").
_OUTPUT_LABELS = set(_METRICS) | {"achieved", "rate", "wall"}
_ARROWS = ("->", "→", "=>", "⟶")


def output_claims(message: str) -> list[Claim]:
    """The figures of measurement output pasted in fenced code blocks ("median 705 ms", "p95 126 ms",
    "peak 161.9 MiB", "93.0 ms -> 0.047 ms"): a block of code or configuration (its info string names a
    language) is skipped, and so are command lines ("$ ...", "perfpack ..."), the load generator's own lag,
    and within a line every figure that no statistic word labels directly and no arrow joins to another:
    confidence intervals ("[481 ms – 720 ms]"), spreads ("± 143 ms"), settings. The statistic is not
    required to match (pasted columns are read without their headers): a checked figure must equal one the
    ledger holds, as printed."""
    claims: list[Claim] = []
    index = 0
    while len(claims) < MAX_CLAIMS:
        start = message.find("```", index)
        if start < 0:
            break
        info_end = message.find("\n", start)
        if info_end < 0:
            break
        end = message.find("```", info_end)
        end = len(message) if end < 0 else end
        index = end + 3
        info = message[start + 3:info_end].strip().lower().split()
        if info and info[0].strip("{}.") in _CODE_LANGUAGES:
            continue
        line_start = info_end + 1
        while line_start < end:
            line_end = message.find("\n", line_start, end)
            line_end = end if line_end < 0 else line_end
            _output_line(message, line_start, line_end, claims)
            line_start = line_end + 1
    return claims


def _output_line(message: str, start: int, end: int, claims: list[Claim]) -> None:
    line = message[start:end]
    stripped = line.lstrip().lower()
    if not any(char in line for char in _NUMBER_CHARS) or stripped.startswith(
            ("$", "#", ">>>", "%", "perfpack ", "> ")) or " lag " in f" {stripped} ":
        return
    figures: list[tuple[int, int, float, int, str]] = []  # start, end, value, decimals, unit
    position = 0
    n = len(line)
    while position < n:
        if line[position] not in _NUMBER_CHARS:
            position += 1
            continue
        previous = line[position - 1] if position else " "
        if previous.isalpha() or previous in "_:/#@$\\." or (previous == "-" and position >= 2
                                                           and line[position - 2].isalnum()):
            position = _skip_number(line, position)
            continue
        number = _read_number(line, position)
        if number is None:
            position = _skip_number(line, position)
            continue
        unit = _read_unit(line, number[1])
        if unit is None:
            position = number[1]
            continue
        sign = position - 1 if previous in "-−" else position
        figures.append((sign, unit[1], -number[0] if sign < position else number[0], number[2], unit[0]))
        position = unit[1]
    # a profile's row ("61.8%  61.8%  _window_sums — blur.py:12"): its self and total shares are figures
    profile_row = len(figures) >= 2 and line.lstrip()[:1].isdigit() and all(
        figure[4] == "%" for figure in figures[:2])
    for which, (first, last, value, decimals, spelling) in enumerate(figures):
        dimension, factor = unit_spec(spelling)
        if line[:first].count("[") > line[:first].count("]") or line[:first].rstrip().endswith("±"):
            continue  # an interval or a spread around the figure
        label = line[:first].rstrip(" \t:").lower().split()[-1:]
        word = label[0] if label else ""
        labelled = word in _OUTPUT_LABELS and (word not in _METRICS or _fits(_METRICS[word], dimension))
        joined = any(
            other != which and unit_spec(figures[other][4])[0] == dimension
            and line[min(last, figures[other][1]):max(first, figures[other][0])].strip() in _ARROWS
            for other in (which - 1, which + 1) if 0 <= other < len(figures))
        if not (labelled or joined or (profile_row and which < 2)):
            continue
        tolerance = printed_tolerance(abs(value), decimals)
        claims.append(Claim(line[first:last].strip(), value, spelling, dimension, factor, tolerance, None,
                            start + first, start + last))
