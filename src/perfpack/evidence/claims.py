"""The quantitative performance claims in an agent's final message: latencies, speed-ups, percentages,
rates and sizes, each with its unit, the statistic it names (p95, median, ...) and whether it is a claim
at all (a target, a budget, a quote of the user or a hypothetical is not).

A character scanner, not regular expressions: the SubagentStop/Stop hook runs this at the end of every
agent, and importing `re` alone costs about as much as starting the interpreter. Standard library only,
no `dataclasses` (it imports `re`).
"""

# Units: spelling -> (dimension, factor to the dimension's base unit). Bases: time ms, size bytes, rate
# per second, ratio x, percent %.
_UNITS = {
    "ns": ("time", 1e-6), "nanoseconds": ("time", 1e-6), "nanosecond": ("time", 1e-6),
    "us": ("time", 1e-3), "µs": ("time", 1e-3), "μs": ("time", 1e-3), "microseconds": ("time", 1e-3),
    "microsecond": ("time", 1e-3),
    "ms": ("time", 1.0), "msec": ("time", 1.0), "msecs": ("time", 1.0), "milliseconds": ("time", 1.0),
    "millisecond": ("time", 1.0),
    "s": ("time", 1000.0), "sec": ("time", 1000.0), "secs": ("time", 1000.0), "seconds": ("time", 1000.0),
    "second": ("time", 1000.0),
    "min": ("time", 60000.0), "mins": ("time", 60000.0), "minutes": ("time", 60000.0),
    "minute": ("time", 60000.0),
    "b": ("size", 1.0), "bytes": ("size", 1.0), "byte": ("size", 1.0),
    "kb": ("size", 1e3), "kib": ("size", 1024.0), "mb": ("size", 1e6), "mib": ("size", 1024.0 ** 2),
    "gb": ("size", 1e9), "gib": ("size", 1024.0 ** 3),
    "req/s": ("rate", 1.0), "reqs/s": ("rate", 1.0), "requests/s": ("rate", 1.0), "rps": ("rate", 1.0),
    "ops/s": ("rate", 1.0), "qps": ("rate", 1.0), "tps": ("rate", 1.0), "/s": ("rate", 1.0),
    "requests per second": ("rate", 1.0), "queries per second": ("rate", 1.0),
    "operations per second": ("rate", 1.0), "per second": ("rate", 1.0),
    "x": ("ratio", 1.0), "×": ("ratio", 1.0), "times": ("ratio", 1.0),
    "%": ("percent", 1.0), "percent": ("percent", 1.0), "per cent": ("percent", 1.0),
}
# Longest spellings first, so "ms" wins over "m" and "requests per second" over "requests/s".
_UNIT_SPELLINGS = sorted(_UNITS, key=len, reverse=True)
_UNIT_FIRST = {spelling[0] for spelling in _UNITS}
# When a unit letter is glued to more letters it is a word, not a unit ("5 services", "3 bytesize").
_WORD_UNITS = {spelling for spelling in _UNITS if spelling[-1].isalpha()}

# Words naming the statistic a figure is (closest one before the number wins; also right after it).
_METRICS = {
    "p50": "p50", "p75": "p75", "p90": "p90", "p95": "p95", "p99": "p99", "p999": "p999", "p99.9": "p999",
    "median": "p50", "mean": "mean", "average": "mean", "avg": "mean", "max": "max", "maximum": "max",
    "worst": "max", "min": "min", "minimum": "min", "best": "min", "peak": "peak", "throughput": "rate",
    "rss": "rss", "memory": "memory", "cpu": "cpu", "stdev": "stdev",
}
# Words that make the figures after them (in the same clause) something other than a measurement.
_HEDGES = {
    "target", "targets", "goal", "goals", "budget", "budgets", "aim", "aiming", "threshold", "thresholds",
    "slo", "slos", "sla", "slas", "kpi", "kpis", "limit", "limits", "should", "must", "want", "wants",
    "need", "needs", "expect", "expected", "expecting", "estimate", "estimated", "projected", "predicted",
    "if", "would", "could", "might", "may", "hypothetically", "suppose", "assuming", "said", "mentioned",
    "reported", "asked", "quoted", "claimed", "according", "requirement", "requirements", "required",
    "allowed", "allow", "acceptable", "hope", "hopefully", "ideally", "plan", "planned", "tolerance",
}
# Comparison words right before a number make it a bound, not a measurement ("p95 < 300 ms", "under 1 s").
_BOUNDS = {"<", "<=", "≤", ">", ">=", "≥", "under", "below", "above", "within", "at most", "at least",
           "less than", "more than", "no more than", "up to", "over"}
_PAIR_ARROWS = ("→", "->", "=>", "⇒", "to")
_CLAUSE_ENDS = ".;!?\n"
_NUMBER_CHARS = "0123456789"


class Claim:
    """One figure the message states: `value` in `unit` (as written) and in the dimension's base unit."""

    __slots__ = ("text", "value", "unit", "dimension", "base_value", "tolerance", "metric", "start", "end",
                 "direction", "partner")

    def __init__(self, text: str, value: float, unit: str, dimension: str, factor: float, tolerance: float,
                 metric: str | None, start: int, end: int) -> None:
        self.text = text
        self.value = value
        self.unit = unit
        self.dimension = dimension
        self.base_value = value * factor
        self.tolerance = tolerance * factor  # in base units: half a unit of the last printed digit
        self.metric = metric
        self.start = start
        self.end = end
        self.direction = ""  # "faster" / "slower" / "less" / "more" when the sentence says so
        self.partner: int | None = None  # index of the other side of a "from A to B" pair

    def as_dict(self) -> dict:
        return {"text": self.text, "value": self.value, "unit": self.unit, "dimension": self.dimension,
                "metric": self.metric}

    def __repr__(self) -> str:
        return f"Claim({self.text!r}, {self.base_value} {self.dimension}, metric={self.metric})"


def strip_code(text: str) -> str:
    """The message without fenced code blocks and inline code (commands and pasted output: not claims).

    Removed spans are replaced by spaces, so offsets into the prose stay the same.
    """
    out = list(text)
    index = 0
    while True:
        start = text.find("```", index)
        if start < 0:
            break
        end = text.find("```", start + 3)
        end = len(text) if end < 0 else end + 3
        for position in range(start, end):
            if out[position] != "\n":
                out[position] = " "
        index = end
    cleaned = "".join(out)
    out = list(cleaned)
    index = 0
    while True:
        start = cleaned.find("`", index)
        if start < 0:
            break
        end = cleaned.find("`", start + 1)
        if end < 0 or "\n" in cleaned[start:end]:
            index = start + 1
            continue
        for position in range(start, end + 1):
            out[position] = " "
        index = end + 1
    return "".join(out)


def _clause_start(text: str, position: int) -> int:
    """Where the clause holding `position` begins (after the previous sentence end or line break)."""
    start = position
    while start > 0:
        char = text[start - 1]
        if char in _CLAUSE_ENDS:
            # "1.64 s" and "p99.9": a dot between digits is not a sentence end
            if char == "." and start >= 2 and text[start - 2].isdigit() and start < len(text) \
                    and text[start].isdigit():
                start -= 1
                continue
            break
        start -= 1
    return start


def _words_before(text: str, position: int, limit: int) -> list[str]:
    """Up to `limit` lower-case words before `position` within its clause, nearest first."""
    clause = text[_clause_start(text, position):position].lower()
    for char in ",:()[]{}\"'*_|":
        clause = clause.replace(char, " ")
    return clause.split()[::-1][:limit]


def _read_number(text: str, index: int) -> tuple[float, int, int] | None:
    """(value, end index, decimals) of the number starting at `index`, or None if it is not a quantity."""
    n = len(text)
    position = index
    digits = ""
    while position < n and (text[position] in _NUMBER_CHARS or text[position] in ",."):
        char = text[position]
        if char in ",.":
            if position + 1 >= n or text[position + 1] not in _NUMBER_CHARS:
                break  # a comma or full stop after the number
            if char == "," and not (position + 3 < n + 1 and text[position + 1:position + 4].isdigit()
                                    and (position + 4 >= n or text[position + 4] not in _NUMBER_CHARS)):
                break  # "1,2" is a list, "1,640" a thousands separator
        digits += char
        position += 1
    if digits.count(".") > 1:
        return None  # a version number, an IP address
    plain = digits.replace(",", "")
    if not plain or not plain[0].isdigit():
        return None
    decimals = len(plain.split(".", 1)[1]) if "." in plain else 0
    try:
        return float(plain), position, decimals
    except ValueError:
        return None


def _read_unit(text: str, index: int) -> tuple[str, int] | None:
    """The unit right after a number (one optional space), as spelled, and the index after it."""
    n = len(text)
    position = index
    if position < n and text[position] in " \u00a0\u2009\u202f":
        position += 1
    if position >= n:
        return None
    lowered = text[position:position + 24].lower()
    if not lowered or lowered[0] not in _UNIT_FIRST:
        return None
    for spelling in _UNIT_SPELLINGS:
        if lowered.startswith(spelling):
            end = position + len(spelling)
            if spelling in _WORD_UNITS and end < n and (text[end].isalpha() or text[end] in _NUMBER_CHARS):
                continue  # "5 services", "2 seconds" handled by the longer spelling first
            if spelling in ("x", "times") and end < n and text[end] in _NUMBER_CHARS:
                continue  # "1920x1080"
            return text[position:end], end
    return None


def _metric_near(text: str, start: int, end: int) -> str | None:
    for word in _words_before(text, start, 6):
        word = word.strip(".=~≈")
        if word in _METRICS:
            return _METRICS[word]
    after = text[end:end + 16].lower().replace("(", " ").replace(")", " ").split()
    if after and after[0].strip(".,;") in _METRICS:
        return _METRICS[after[0].strip(".,;")]
    return None


def _hedged(text: str, start: int) -> bool:
    """True when the clause before the number makes it a target, a bound, a quote or a hypothetical."""
    words = _words_before(text, start, 10)
    if any(word.strip(".?!") in _HEDGES for word in words):
        return True
    before = text[max(_clause_start(text, start), start - 16):start].lower().rstrip(" ~≈\u00a0")
    if before.endswith(("->", "=>")):
        return False  # an arrow between a before and an after figure, not a bound
    for bound in _BOUNDS:
        if before.endswith(bound) and (len(before) == len(bound) or not before[-len(bound) - 1].isalpha()
                                        or not bound[0].isalpha()):
            return True
    return "you" in words[:8] or "your" in words[:8]


def _direction(text: str, end: int, unit_dimension: str) -> str:
    after = text[end:end + 24].lower().split()
    for word in after[:2]:
        word = word.strip(".,;:)")
        if word in ("faster", "quicker", "speedup", "speed-up"):
            return "faster"
        if word in ("slower", "regression"):
            return "slower"
        if word in ("less", "fewer", "smaller", "lower", "reduction", "reduced", "drop", "decrease"):
            return "less"
        if word in ("more", "larger", "higher", "bigger", "increase", "increased", "growth"):
            return "more"
    return ""


def extract_claims(message: str) -> list[Claim]:
    """Every quantitative claim in `message`, in order. Targets, bounds, quotes and hypotheticals are left
    out, as are numbers without a unit, versions, dates and anything inside code."""
    text = strip_code(message)
    claims: list[Claim] = []
    n = len(text)
    index = 0
    while index < n:
        char = text[index]
        if char not in _NUMBER_CHARS:
            index += 1
            continue
        previous = text[index - 1] if index else " "
        if previous.isalpha() or previous in "_:/#@" or (previous in ".-" and index >= 2
                                                         and text[index - 2] in _NUMBER_CHARS):
            # part of a word (p95, v2, utf8), file:line, a path, an issue number, a date or version
            while index < n and (text[index] in _NUMBER_CHARS or text[index] in ".,"):
                index += 1
            continue
        number = _read_number(text, index)
        if number is None:
            while index < n and (text[index] in _NUMBER_CHARS or text[index] in ".,"):
                index += 1
            continue
        value, end, decimals = number
        if end < n and text[end] in "-:/" and end + 1 < n and text[end + 1] in _NUMBER_CHARS:
            index = end + 1  # a date (2026-12-07), a time (04:50) or a fraction (3/4)
            while index < n and (text[index] in _NUMBER_CHARS or text[index] in "-:/."):
                index += 1
            continue
        unit = _read_unit(text, end)
        if unit is None:
            index = end
            continue
        spelling, unit_end = unit
        dimension, factor = _UNITS[spelling.lower()]
        sign_start = index
        if index and text[index - 1] in "-−+":
            sign_start = index - 1
            if text[index - 1] in "-−":
                value = -value
        approximate = any(mark in text[max(0, sign_start - 8):sign_start].lower()
                          for mark in ("~", "≈", "about", "around", "roughly", "approx", "nearly", "almost"))
        tolerance = 0.5 * 10.0 ** (-decimals)
        if decimals == 0 and value >= 10:  # "670 ms", "2,150 req/s": trailing zeros may be rounding
            zeros = len(str(int(value))) - len(str(int(value)).rstrip("0"))
            tolerance = 0.5 * 10.0 ** zeros
        if approximate:
            tolerance = max(tolerance, abs(value) * 0.05)
        if _hedged(text, sign_start):
            index = unit_end
            continue
        claim = Claim(text[sign_start:unit_end].strip(), value, spelling, dimension, factor, tolerance,
                      _metric_near(text, sign_start, unit_end), sign_start, unit_end)
        claim.direction = _direction(text, unit_end, dimension)
        claims.append(claim)
        index = unit_end
    _link_pairs(text, claims)
    return claims


def _link_pairs(text: str, claims: list[Claim]) -> None:
    """Mark "from A to B" / "A → B" pairs of one dimension: B inherits A's statistic and the reverse."""
    for first, second in zip(claims, claims[1:], strict=False):
        if first.dimension != second.dimension:
            continue
        between = text[first.end:second.start].strip().lower()
        if between in _PAIR_ARROWS or between.endswith(" to") and len(between) < 24:
            first.partner, second.partner = claims.index(second), claims.index(first)
            metric = first.metric or second.metric
            first.metric = second.metric = metric
