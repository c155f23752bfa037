"""The quantitative performance claims in an agent's final message: latencies, speed-ups, percentages,
rates and sizes, each with its unit, the statistic it names (p95, median, ...) and whether it is a claim
at all (a target, a budget, a quote of the user or a hypothetical is not).

A character scanner, not regular expressions: the SubagentStop/Stop hook runs this at the end of every
agent, and importing `re` alone costs about as much as starting the interpreter. Standard library only,
no `dataclasses` (it imports `re`).
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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
    "req/sec": ("rate", 1.0), "reqs/sec": ("rate", 1.0), "requests/sec": ("rate", 1.0), "r/s": ("rate", 1.0),
    "requests per sec": ("rate", 1.0), "ops/sec": ("rate", 1.0), "op/s": ("rate", 1.0),
    "queries/s": ("rate", 1.0), "queries/sec": ("rate", 1.0), "calls/s": ("rate", 1.0),
    "transactions per second": ("rate", 1.0), "/sec": ("rate", 1.0),
    "x": ("ratio", 1.0), "×": ("ratio", 1.0), "times": ("ratio", 1.0),
    "-fold": ("ratio", 1.0), "fold": ("ratio", 1.0),  # "went down 11-fold", "a 40 fold improvement"
    "%": ("percent", 1.0), "percent": ("percent", 1.0), "per cent": ("percent", 1.0),
}
# Longest spellings first, so "ms" wins over "m" and "requests per second" over "requests/s".
_UNIT_SPELLINGS = sorted(_UNITS, key=len, reverse=True)
_UNIT_FIRST = {spelling[0] for spelling in _UNITS}
_UNITS_BY_FIRST: dict[str, list[str]] = {}
for _spelling in _UNIT_SPELLINGS:
    _UNITS_BY_FIRST.setdefault(_spelling[0], []).append(_spelling)

_WORD_UNITS = {spelling for spelling in _UNITS if spelling[-1].isalpha()}

# Words naming the statistic a figure is (closest one before the number wins; also right after it).
_METRICS = {
    "p50": "p50", "p75": "p75", "p90": "p90", "p95": "p95", "p99": "p99", "p999": "p999", "p99.9": "p999",
    "median": "p50", "mean": "mean", "average": "mean", "avg": "mean", "max": "max", "maximum": "max",
    "worst": "max", "min": "min", "minimum": "min", "best": "min", "peak": "peak", "peaks": "peak",
    "peaked": "peak", "throughput": "rate",
    "rss": "rss", "memory": "memory", "cpu": "cpu", "stdev": "stdev",
    "share": "share",  # "that share is down to 61 %": a profile's share (CPU or memory), never a change
}
# The dimensions a statistic word can describe ("p99 latency is 38 ms at 50 req/s": p99 is the 38 ms, never
# the rate). A ratio or a percentage is a change of any of them ("p95 fell 59 %").
_METRIC_FITS = {
    "p50": "time", "p75": "time", "p90": "time", "p95": "time", "p99": "time", "p999": "time",
    "rate": "rate", "rss": "size", "memory": "size", "cpu": "time percent", "at peak": "size",
    "share": "percent",
}
_CHANGES = ("ratio", "percent")
AT_PEAK = "at peak"  # a size "at (the) peak": live at the peak (the total, or one site's share of it)
# Words that make the figures after them (in the same clause, up to the previous figure) something other
# than a measurement: strong ones anywhere in the last 10 words, weak ones only in the last 4.
_HEDGES = {
    "target", "targets", "targeting", "goal", "goals", "budget", "budgets", "aim", "aiming", "aimed",
    "threshold", "thresholds", "slo", "slos", "sla", "slas", "kpi", "kpis", "should", "expect", "expected",
    "expecting", "expects", "estimate", "estimated", "estimates", "projected", "predicted", "predicts", "if",
    "would", "could", "might", "hypothetically", "hypothetical", "suppose", "supposing", "assuming", "assume",
    "said", "mentioned", "quoted", "claimed", "according", "requirement", "requirements", "required",
    "acceptable", "hope", "hopefully", "ideally", "tolerance", "objective", "wished", "unless", "whether",
    "aspire", "promised", "guess", "guessed", "roadmap", "spec", "specified", "probably", "likely", "perhaps",
    "maybe", "possibly", "potentially", "forecast", "extrapolated", "extrapolating", "theoretical",
    "simulated", "configured", "hardcoded", "hard-coded", "predict",
}
_WEAK_HEDGES = {"timeout", "ttl", "interval", "every", "sleep", "delay", "backoff", "deadline",
                "--duration", "duration", "--rate", "--timeout", "limit", "limits", "must", "want", "wants",
                "wanted", "need", "needs", "needed", "may",
                "allowed", "allow", "plan", "planned", "reported", "asked", "ask", "cap", "capped", "keep",
                "will", "won't", "gonna", "waits", "sleeps",
                "cut-off", "cutoff", "cut-offs", "cutoffs"}
# Words that, right after a figure, make it a setting, an input or a limit rather than a result.
_SETTING_AFTER = {
    "budget", "budgets", "target", "targets", "goal", "slo", "sla", "limit", "cap", "ceiling", "threshold",
    "timeout", "timeouts", "ttl", "interval", "window", "deadline", "delay", "sleep", "backoff",
    "load", "test", "tests", "run", "runs", "soak", "warm", "warmup", "ramp", "duration", "step",
    "ram", "machine", "vm", "instance", "box", "laptop", "host", "node", "disk", "ssd", "heap", "container",
    "file", "files", "csv", "dataset", "payload", "payloads", "upload", "uploads", "dump", "fixture",
    "coverage", "pages", "page", "chunk", "chunks", "batch", "batches", "buffer", "buffers", "cache",
    "requirement", "objective", "cut-off", "cutoff",
}
# Verbs of running something: "ran the load for 30 s" is the run's length, not a measured result.
_RUN_WORDS = {"ran", "run", "running", "load", "test", "tested", "soak", "soaked", "benchmark",
              "benchmarked", "measured", "sampled", "profiled", "recorded", "warmed", "it", "traffic"}
# Words right before a percentage that make it a change ("down 41 %", "cut by 30 %"), not a level.
_RISE_WORDS = {"up", "rose", "rises", "grew", "increased"}  # a percentage after them is a rise, never a fall
_CHANGE_WORDS = {"down", "up", "dropped", "drops", "fell", "falls", "rose", "rises", "shrank", "grew", "cut",
                 "reduced", "decreased", "increased", "improved", "by", "saving", "saves", "saved", "gain"}
# "you saw 2 s", "your 1.8 s": the user's own numbers, when the sentence is about what they saw or said.
_YOUR_VERBS = {"saw", "seen", "wrote", "write", "noted", "note", "told", "tell", "observed", "gave",
               "give", "had", "got", "get", "getting", "seeing", "measured", "quote", "quoted", "report",
               "reported", "mention", "mentioned", "said", "say", "cited", "cite", "asked", "ask", "want",
               "shows", "showed", "show", "says", "per", "wanted", "expect", "expected", "described",
               "provided", "pasted", "shared", "posted"}
# Comparison words right before a number make it a bound, not a measurement ("p95 < 300 ms", "under 1 s").
_BOUNDS = ("<", "<=", "≤", ">", ">=", "≥", "under", "below", "above", "within", "at most", "at least",
           "less than", "more than", "no more than", "up to", "over", "beyond", "exceeds", "exceed",
           "exceeding", "sub", "sub-", "not exceed", "no slower than", "no faster than", "max of",
           "maximum of")
_LOWER_BOUNDS = {">", ">=", "≥", "above", "at least", "more than", "over", "beyond", "exceeds", "exceed",
                 "exceeding"}
# A verb of change right before a figure makes it a difference: "p95 dropped 84 ms", "is down 84 ms".
_CHANGE_VERBS = {"down", "up", "dropped", "drops", "fell", "falls", "rose", "rises", "shrank", "grew",
                 "gained", "lost", "reduced", "decreased", "increased", "improved", "cut"}
# Words after "N times" / "Nx" that make it a count of repetitions ("40 times per row", "3 times a day",
# "200x in a loop"), not a ratio. Narrow on purpose: "3x in production", "2x with the cache" are speed-ups.
_COUNT_AFTER = ("per ", "a ", "an ", "each ", "every ", "daily", "hourly", "in a loop", "in a row",
                "in the loop", "in loops", "in one loop", "in one ", "over and over")
# Verbs right before "N times" that make it a count: "ran 25 times", "called 200 times".
_REPEAT_VERBS = {"ran", "run", "runs", "called", "calls", "executed", "executes", "repeated", "invoked",
                 "looped", "retried", "fired", "issued", "sent", "queried", "hit", "loaded", "fetched"}
_COMPARATIVES = {"faster", "slower", "quicker", "more", "less", "fewer", "higher", "lower", "better",
                 "worse", "smaller", "larger", "bigger", "as", "the", "speedup", "speed-up", "improvement",
                 "reduction"}
# Words of a clause about a figure's interval, spread or noise, or about the load generator itself.
_QUALIFIER_WORDS = ("lag", "generator", " ci", "ci ", "interval", "confidence", "nois", "variation", "spread",
                    "stdev", "std dev", "deviation", " sd", "jitter", "of one core", "target", "±", "+/-",
                    "anywhere from", "anywhere between", "somewhere from", "somewhere between")
# Plural nouns before a bound that make it a class of changes, not this one ("changes beyond 5%").
_GENERIC_CHANGES = {"changes", "differences", "regressions", "slowdowns", "speedups", "speed-ups",
                    "improvements", "effects", "shifts"}
# What an input is made of: "64 MB per batch" sizes the input; "40 MB per worker" is a measurement.
_INPUT_ITEMS = {"row", "item", "record", "entry", "entrie", "block", "message", "object", "file", "chunk",
                "batch", "page", "line", "document", "image", "upload", "payload", "part", "segment", "shard"}
# Stems of _TARGET_LABELS: a message without any needs no `_hedged_context`.
_TARGET_STEMS = ("target", "goal", "budget", "slo", "sla", "threshold", "limit", "estimat", "expect",
                 "project", "hypothes", "idea", "requirement", "objective", "kpi", "plan", "wishlist")
# Sizes of data, not of memory: "the CSV is 2 GB", "a response of 12 KB" (perfpack measures memory only).
_DATA_NOUNS = {"file", "csv", "json", "dataset", "dump", "payload", "upload", "download", "table",
               "database", "db", "disk", "response", "body", "archive", "export", "input", "log", "bundle",
               "image", "index", "attachment", "document", "backup", "artifact", "wheel", "binary", "parquet",
               "config", "configuration", "manifest", "fixture", "sample"}
_SIZE_LINKS = {"is", "was", "are", "were", "of", "about", "around", "roughly", "~", "size", "sized", "weighs",
               "weighing", "totals", "totalling", "totaling", "(", "-", "—", "–", "at"}
# Words after a percentage that make it a confidence level ("95 % CI"), not a measurement.
_CONFIDENCE_AFTER = ("ci", "confidence", "credible", "interval", "intervals")
_PAIR_ARROWS = ("→", "->", "=>", "⇒", "to", "⟶", "—>", "-->")
_ARROWS_AHEAD = tuple(arrow for arrow in _PAIR_ARROWS if arrow != "to")
_NUMBER_CHARS = "0123456789"
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")  # every digit as "0"
_SPACES = " \u00a0\u2009\u202f"
class Claim:
    """One figure the message states: `value` in `unit` (as written) and in the dimension's base unit."""

    __slots__ = ("text", "value", "unit", "dimension", "base_value", "tolerance", "metric", "start", "end",
                 "direction", "partner", "is_range", "range_of", "inherited", "bound", "delta", "secondary",
                 "cpu", "elsewhere")

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
        self.partner: int | None = None  # index of the other side of a "from A to B" pair or a range
        self.is_range = False  # the low end of "40–45 ms" / "between 40 and 45 ms"
        self.bound = ""  # "min" / "max": a one-sided change ("over 3x faster", "under 5 % slower")
        self.delta = False  # a difference ("saves 970 ms", "p95 down by 84 ms"), not a level
        self.inherited = False  # the statistic is a neighbour's ("p95 1.2 s (was 3.0 s)"): a guess
        self.range_of: Claim | None = None  # on the high end: the low end
        self.secondary = False  # in a bracketed interval, after "±", or about noise or the generator's lag
        self.cpu = False  # CPU is named in its clause, right after it or in its column: it may be the CPU's
        self.elsewhere = False  # said of production ("saves 270 ms a page view in production"): not measured

    def as_dict(self) -> dict:
        return {"text": self.text, "value": self.value, "unit": self.unit, "dimension": self.dimension,
                "metric": self.metric}

    def __repr__(self) -> str:
        return f"Claim({self.text!r}, {self.base_value} {self.dimension}, metric={self.metric})"


def strip_code(text: str) -> str:
    """The message without fenced code blocks and inline code (commands and pasted output: not claims),
    but for the names of data files (`orders.csv`), which say what a size next to them is.

    Removed spans are replaced by spaces, so offsets into the prose stay the same.
    """
    if "`" not in text:
        return text
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
        span = cleaned[start + 1:end]
        if span.lower().endswith(_DATA_FILES) and not any(char.isspace() for char in span):
            out[start] = out[end] = " "  # a data file's name (`orders.csv`) says what a size next to it is
        else:
            for position in range(start, end + 1):
                out[position] = " "
        index = end + 1
    return "".join(out)


def _clause_start(text: str, position: int) -> int:
    """Where the clause holding `position` begins (after the previous sentence end or line break); at
    most 400 characters back (bounded work on a message without punctuation). Memoised per message: each
    figure asks several times."""
    key = (id(text), position)
    found = _CLAUSE_MEMO.get(key)
    if found is None:
        found = _CLAUSE_MEMO[key] = _find_clause_start(text, position)
    return found


_CLAUSE_MEMO: dict[tuple[int, int], int] = {}  # one message at a time: cleared by extract_claims


def _find_clause_start(text: str, position: int) -> int:
    floor = max(0, position - 400)
    end = position
    while True:
        cut = max(text.rfind(".", floor, end), text.rfind(";", floor, end), text.rfind("!", floor, end),
                  text.rfind("?", floor, end), text.rfind("\n", floor, end))
        if cut < 0:
            return floor
        start = cut + 1
        # "1.64 s" and "p99.9": a dot between digits is not a sentence end; neither is "e.g." or "vs."
        if text[cut] == "." and start < len(text) and (
                (cut >= 1 and text[cut - 1].isdigit() and text[start].isdigit()) or text[start] not in " \n"
                or text[max(0, cut - 4):cut + 1].lower() in (" i.e.", "(i.e.", " e.g.", "(e.g.")):
            end = cut  # "the peak is 2.2 MiB, i.e. about 94 % less": one clause
            continue
        if text[cut] == "\n" and _soft_wrap(text, cut):
            end = cut
            continue
        return start


def _cut(text: str, stops: str) -> str:
    """`text` up to the first of `stops`."""
    end = len(text)
    for stop in stops:
        found = text.find(stop, 0, end)
        if found >= 0:
            end = found
    return text[:end]


def _soft_wrap(text: str, newline: int) -> bool:
    """A line break inside a sentence of hard-wrapped prose ("Your SLO\nof 50 ms"): the next line goes on
    in lower case, and the line before neither ends a sentence or a label nor is a table row."""
    following = text[newline + 1:newline + 80].lstrip(" \t")
    if following[:1] in ("\"", "'", "“", "‘", "(", "~", "≈"):
        following = following[1:]  # 'takes\n"around 15 s"', 'went from\n(about) 3 s'
    if not following:
        return False
    line = text[text.rfind("\n", 0, newline) + 1:newline].strip()
    if following[0].isdigit():
        # "went from\n126 ms to 39.7 ms": a line that stops in the middle of a phrase (a lower-case word or
        # a comma) goes on with a number; a numbered item ("1. ...", "2) ...") starts a new one
        number_end = len(following) - len(following.lstrip("0123456789"))
        if following[number_end:number_end + 2] in (". ", ") ") or not line or line.startswith("#") or \
                not (line[-1].isalpha() or line[-1] == ","):
            return False  # "nearly all CPU\n(443 ms median)" goes on; a heading or a sentence end does not
    elif not following[0].isalpha() or not following[0].islower():
        return False
    return bool(line) and not line.endswith((":", "|")) and not line.startswith("|")


_WORD_BREAKS = str.maketrans({char: " " for char in ",:()[]{}\"'*_|=~≈"})


_WORDS_MEMO: dict[tuple[int, int, int], list[str]] = {}  # one message at a time: cleared by extract_claims


def _words(text: str, start: int, end: int) -> list[str]:
    """The lower-case words of text[start:end], nearest to `end` first (do not modify the list)."""
    key = (id(text), start, end)
    words = _WORDS_MEMO.get(key)
    if words is None:
        words = _WORDS_MEMO[key] = text[start:end].lower().translate(_WORD_BREAKS).split()[::-1]
    return words


def _read_number(text: str, index: int) -> tuple[float, int, int] | None:
    """(value, end index, decimals) of the number starting at `index`, or None if it is not a quantity.

    "1,640" and "1 640" (a thin or no-break space) are thousands; "1,2" is a list."""
    n = len(text)
    digits = _NUMBER_CHARS
    position = index
    while position < n and text[position] in digits:
        position += 1
    point = -1
    while position + 1 < n and text[position] in ",.\u2009\u202f\u00a0" and text[position + 1] in digits:
        if text[position] == ".":
            if point >= 0:
                return None  # a version number, an IP address
            point = position
        elif point >= 0 or not text[position + 1:position + 4].isdigit() or (
                position + 4 < n and text[position + 4] in digits):
            break  # "1,2" is a list, "1,640" a thousands separator
        position += 1
        while position < n and text[position] in digits:
            position += 1
    if position < n and text[position] == "." and position + 1 < n and text[position + 1] in digits:
        return None  # "1.2.3" after the loop stopped on a thousands check
    plain = text[index:position]
    if not plain.isdigit():  # separators to drop ("1,640", "12 500"); a point stays
        plain = plain.replace(",", "").replace("\u2009", "").replace("\u202f", "").replace("\u00a0", "")
    if not plain or not plain[0].isdigit():
        return None
    if len(plain) > 30:
        return None  # an identifier or a hash, not a measurement (and 1e5000 would be infinite)
    decimals = len(plain) - plain.index(".") - 1 if point >= 0 else 0
    try:
        return float(plain), position, decimals
    except ValueError:
        return None


def _read_unit(text: str, index: int) -> tuple[str, int] | None:
    """The unit right after a number (one optional space), as spelled, and the index after it."""
    n = len(text)
    position = index
    if position < n and text[position] in _SPACES:
        position += 1
    if position >= n:
        return None
    lowered = text[position:position + 24].lower()
    if not lowered or lowered[0] not in _UNIT_FIRST:
        per_second = _things_per_second(lowered) if lowered[:1].isalpha() else 0
        return (text[position:position + per_second], position + per_second) if per_second else None
    if lowered[0] == "k" and position == index and not lowered.startswith(("kb", "kib")):
        rate = _read_unit(text, index + 1)  # "1.2k req/s", "12k rps": thousands of a rate
        if rate is not None and unit_spec(rate[0])[0] == "rate" and rate[0][0] != "/":
            return text[index:rate[1]], rate[1]
        return None
    if text[position] == "M" and position == index and lowered[1:2] == " ":
        rate = _read_unit(text, index + 1)  # "8.6M rows/s": millions of a rate
        if rate is not None and unit_spec(rate[0])[0] == "rate" and rate[0][0] != "/":
            return text[index:rate[1]], rate[1]
    if lowered.startswith("million "):  # "1.2 million lines/s"
        rate = _read_unit(text, position + len("million"))
        if rate is not None and unit_spec(rate[0])[0] == "rate" and rate[0][0] != "/":
            return text[position:rate[1]], rate[1]
        return None
    for spelling in _UNITS_BY_FIRST[lowered[0]]:
        if lowered.startswith(spelling):
            end = position + len(spelling)
            if spelling in _WORD_UNITS and end < n and (text[end].isalpha() or text[end] in _NUMBER_CHARS):
                continue  # "5 services", "2 seconds" handled by the longer spelling first
            if spelling in ("x", "times") and end < n and text[end] in _NUMBER_CHARS:
                continue  # "1920x1080"
            if spelling in ("x", "×") and text[end:end + 3].lstrip(" \u00a0")[:1] in _NUMBER_CHARS:
                return None  # "160×160", "12 x 12": a size of a grid or an image, not a ratio
            if spelling in ("x", "×", "times") and \
                    text[end:end + 12].lower().split()[:1] in (["thousands"], ["hundreds"], ["millions"],
                                                                ["dozens"], ["tens"], ["billions"]):
                return None  # "6,000 rows meant roughly 6,000 × thousands of comparisons": arithmetic
            if spelling in ("x", "×", "times") and (
                    text[end:end + 16].lower().lstrip(" ").startswith(_COUNT_AFTER)
                    or _repeated(text, index, end)):
                return None  # "40 times per row", "called 200x in a loop", "ran 25 times": how often
            following = text[end:end + 24].lower().translate(_WORD_BREAKS).split()[:1]
            if spelling in ("x", "×", "times") and \
                    text[end:end + 14].lower().split()[:2] == ["the", "same"]:
                return None  # "120 x the same aggregate": how often
            if spelling == "times" and following and \
                    following[0].strip(".;)") not in _COMPARATIVES | {"over"}:
                return None  # "read in full 20 times, 240 ms": a count; "3 times faster" is a ratio
            if _UNITS[spelling][0] == "size" and text[end:end + 2].lower() in ("/s", "ps"):
                return text[position:end + 2], end + 2  # "480 MB/s": a bandwidth (perfpack measures none)
            if spelling == "/s" and position != index:
                continue  # "3 /s" is not a rate
            if spelling in ("b", "min") and position + 1 < n and text[end:end + 1] == "/":
                continue  # "min/max"
            return text[position:end], end
    per_second = _things_per_second(lowered)
    return (text[position:position + per_second], position + per_second) if per_second else None


def _things_per_second(lowered: str) -> int:
    """The length of a throughput unit of any things ("lines/s", "records/sec", "rows per second"), or 0."""
    word = 0
    while word < len(lowered) and (lowered[word].isalpha() or lowered[word] == "-"):
        word += 1
    if word < 2 or lowered[:word] in _UNITS:
        return 0
    for tail in ("/s", "/sec", " per second", " per sec", " a second"):
        if lowered.startswith(tail, word) and not lowered[word + len(tail):word + len(tail) + 1].isalpha():
            return word + len(tail)
    return 0


def _repeated(text: str, number_end: int, unit_end: int) -> bool:
    """"ran 25 times", "called it 200x": a count, when a verb of repetition comes right before the number
    and no comparison after it ("ran 3x faster" is a speed-up)."""
    before = text[max(0, number_end - 40):number_end].rstrip("0123456789.,\u2009\u202f\u00a0 ").lower()
    if before.split()[-1:] not in [[verb] for verb in _REPEAT_VERBS]:
        return False
    after = text[unit_end:unit_end + 20].lower().split()[:1]
    return not after or after[0].strip(".,;:)") not in _COMPARATIVES


def unit_spec(spelling: str) -> tuple[str, float]:
    """(dimension, factor to the base unit) of a unit as `_read_unit` spelled it: "k req/s", "million
    lines/s" and any "things/s" (a throughput perfpack records only as a load's req/s) included."""
    spelling = spelling.lower()
    if spelling in _UNITS:
        return _UNITS[spelling]
    factor = 1.0
    if spelling.startswith("million"):
        spelling, factor = spelling[len("million"):].strip(), 1e6
    elif spelling[:2] == "m ":
        spelling, factor = spelling[2:].strip(), 1e6  # "8.6M rows/s"
    elif spelling[:1] == "k":
        spelling, factor = spelling[1:].strip(), 1000.0  # "1.2k req/s", "12k rps"
    if spelling in _UNITS:
        dimension, unit_factor = _UNITS[spelling]
        return dimension, unit_factor * factor
    return "rate", factor  # "lines/s", "records/sec", "rows per second"


def _fits(metric: str, dimension: str) -> bool:
    if dimension in _CHANGES:
        return True
    fits = _METRIC_FITS.get(metric)
    return fits is None or dimension in fits.split()


_SETTING_BEFORE = (["warm-up"], ["warmup"], ["--warmup"], ["--duration"])  # "warm-up 2 s": a setting
_PROFILE_WORDS = ("profile", "profiler", "samples", "sampling")
_FAILURE_WORDS = {"failed", "fail", "fails", "failing", "timed", "timeout", "timeouts", "errored", "error",
                  "errors"}
_OF_SAMPLES = ("of the samples", "of samples", "of all samples", "of profile samples",
               "of the profile", "of the cpu samples")
_LOAD_LEVELS = {"today's", "todays", "current", "normal", "usual", "expected", "production", "prod", "peak",
                "typical", "average"}
_LESS_OR_MORE = {"less", "more", "lower", "higher", "smaller", "larger", "bigger", "fewer", "better", "worse"}


def _share_of_peak_after(text: str, end: int) -> bool:
    """A size followed by its share of the peak: "50.8 MiB (97.4 % of the 52.2 MiB peak)", "790.1 MiB of
    the 790.4 MiB peak"."""
    tail = text[end:end + 64].lower().lstrip()
    if tail.startswith("of the ") and "peak" in _cut(tail, ",;:()\n").split()[2:5]:
        return True
    close = tail.find(")")
    if not tail.startswith("(") or close < 0:
        return False
    inner = tail[1:close]
    percent = inner.find("%")
    return 0 < percent < 8 and inner[percent + 1:].lstrip().startswith("of ") and \
        inner.rstrip().endswith("peak")


def _named_after(text: str, end: int, dimension: str) -> str | None:
    """A statistic named right after a figure with "at"/"for" ("6.46 ms at the p95", "2 s for p99"): it
    says which statistic the figure is, whatever was named earlier in the sentence."""
    after = text[end:end + 64].lower().replace("(", " ").replace(")", " ").split()
    if dimension == "time" and after[:2] == ["of", "cpu"]:
        return "cpu"  # "420 ms of CPU per request": CPU time, whatever the sentence said before
    if after[:1] in (["saved"], ["less"], ["off"], ["shorter"], ["faster"]) and "at" in after[1:4]:
        after = after[after.index("at", 1):]  # "77 ms saved per request at the 95th percentile"
    if len(after) < 2 or after[0] not in ("at", "for"):
        return None
    named = after[2:4] if after[1] == "the" else after[1:3]
    word = named[0].strip(".,;:") if named else ""
    ordinal = [part.strip(".,;:") for part in named[::-1]]  # "95th percentile", nearest first as _words
    metric = _METRICS.get(word) or _percentile(ordinal, 0) or _percentile(ordinal, len(ordinal) - 1)
    return metric if metric is not None and metric != "peak" and _fits(metric, dimension) else None


_FAILING = ("timing out", "timed out", "failed", "failing", "errored", "erroring", "dropped", "rejected")


def _error_rate(text: str, start: int, end: int) -> bool:
    """A percentage of requests that failed: "4 % of requests" after a failure word, "52 % of the 600
    requests timing out", "1.8 % timeouts", "2 % errors"."""
    tail = _cut(text[end:end + 48].lower(), "\n;,|")
    after = tail.lstrip(" )").split()
    if after and after[0].strip(".,;:") in _FAILURE_WORDS:
        return True
    if text[max(0, start - 16):start].lower().rstrip(" :=").endswith(
            ("errors", "error rate", "timeouts", "failures", "failed")):
        return True  # "errors 52% → 0", "error rate: 1.3 %"
    if text[max(0, start - 12):start].lower().rstrip(" (").endswith(("requests", "request")) and \
            _FAILURE_WORDS.intersection(tail.replace(")", " ").split()):
        return True  # "3 requests (0.60 %) hit the 10 s timeout"
    if after[:1] != ["of"]:
        return False
    rest = after[1:4]
    if rest[:1] == ["the"] or rest[:1] == ["all"]:
        rest = rest[1:]
    if rest and rest[0].replace(",", "").isdigit():
        rest = rest[1:]
    if not rest or rest[0].strip(".,;:") not in ("requests", "request", "calls", "queries"):
        return False
    return any(phrase in tail for phrase in _FAILING) or bool(_FAILURE_WORDS.intersection(tail.split())) or \
        bool(_FAILURE_WORDS & set(_words(text, _clause_start(text, start), start)))


def _percentile(words: list[str], position: int) -> str | None:
    """"95th percentile", "99th-percentile", "99.9th percentile" (words nearest first) as p95 / p99 / p999."""
    word = words[position].strip(".")
    if word.endswith("-percentile"):
        ordinal = word[:-len("-percentile")]
    elif word in ("percentile", "percentiles") and position + 1 < len(words):
        ordinal = words[position + 1]
    else:
        return None
    if not ordinal.endswith(("th", "st", "nd", "rd")):
        return None
    digits = ordinal[:-2].replace(".", "")
    return f"p{digits}" if digits in ("50", "75", "90", "95", "99", "999") else None


def _metric_near(text: str, boundary: int, start: int, end: int, dimension: str) -> str | None:
    """The statistic the figure names: one named right after it with "at"/"for", else the nearest fitting
    word before it, back to the previous figure (at most 6 words), else one right after it ("38 ms p99",
    "40 ms (median)"), else its table column."""
    named = _named_after(text, end, dimension)
    if named is not None:
        return named
    if dimension == "size" and _share_of_peak_after(text, end):
        return AT_PEAK  # "memray put 50.8 MiB (97.4 % of the 52.2 MiB peak) at events.append": a site's
    if dimension == "percent" and _error_rate(text, start, end):
        return "errors"  # "timed out on 4 % of requests", "52 % of the 600 requests timing out", "2 % errors"
    words = _words(text, boundary, start)
    for position, word in enumerate(words[:6]):
        word = word.strip(".")
        if word == "which" and words[position + 1:position + 2] == ["of"] and dimension == "size":
            return AT_PEAK  # "a 17.5 MiB peak, of which parse holds 9.0 MiB": a site's share of it
        percentile = _percentile(words, position)
        if percentile is not None:
            return percentile if dimension in ("time", *_CHANGES) else None
        if word == "peak" and {"at", "of"} & set(words[position + 1:position + 3]):
            # "at (the) peak" is when, not which statistic: what was live then (a site's bytes included);
            # "63 % of the peak (336 KiB)" is a site's share of it
            if dimension == "size":
                return AT_PEAK
            continue  # "p95 at peak traffic": the load's peak, not a statistic of the figure
        if word == "cpu" and position and words[position - 1] in _PROFILE_WORDS:
            continue  # "the CPU profile was 97 % in blur": a profile's share, not CPU utilisation
        if word in _METRICS and word + "(" in text[boundary:start].lower():
            continue  # "| list + min()/remove() | 4.7 MiB |": a function the code calls, not a statistic
        if word in _METRICS and _fits(_METRICS[word], dimension):
            if dimension in ("time", *_CHANGES) and "cpu" in words[position + 1:position + 3]:
                return "cpu"  # "CPU median 583 ms", "cpu mean": a statistic of the CPU time
            return _METRICS[word]
    tail = _cut(text[end:end + 30].lower(), "\n;,|")
    if dimension == "size" and any(0 <= tail.find(phrase) < 10 for phrase in (" at peak", " at the peak")):
        return AT_PEAK  # "read_all held 152 MiB at the peak", "256 MiB of it at peak"
    if dimension == "percent" and tail.lstrip(" )").startswith(_OF_SAMPLES):
        return "samples"  # "at 93 % of samples": a share of a CPU profile
    tail = tail[:16]
    # "518 ms (CPU 2.78 s -> 255 ms)": a bracket that holds a figure names that figure, not this one
    after = [] if _bracket_figure(tail) else tail.replace("(", " ").replace(")", " ").split()
    if dimension in _CHANGES and len(after) >= 2 and after[0] in _LESS_OR_MORE:
        after = after[1:]  # "61 % less memory", "40 % lower p95"
    if after and after[0].strip(".,;") in _METRICS and _fits(_METRICS[after[0].strip(".,;")], dimension):
        return _METRICS[after[0].strip(".,;")]
    if not text[text.rfind("\n", 0, start) + 1:start].lstrip().startswith("|"):
        return None
    from perfpack.evidence.tables import table_metric  # only a message with a table pays for it

    return table_metric(text, start, dimension)


def _bracket_figure(tail: str) -> bool:
    """Whether the text right after a figure opens a bracket holding another figure ("(CPU 2.78 s ...")."""
    own = tail.lstrip()
    return own[:1] == "(" and any(char.isdigit() for char in _cut(own, ")"))


def _names_cpu(text: str, clause_start: int, start: int, end: int) -> bool:
    """CPU named as what a figure is about: in its clause before it ("CPU of the process didn't drop (436 ms
    -> 534 ms median)"), right after it ("1,450 ms CPU") or in its table column ("| median CPU |")."""
    words = _words(text, clause_start, start)
    if any(word.strip(".") == "cpu" and not (position and words[position - 1] in _PROFILE_WORDS)
           for position, word in enumerate(words)):
        return True  # (words nearest first: "CPU profile" is a profile's)
    after = text[end:end + 12].lower()
    words = after.replace(")", " ").split()
    if words and words[0].strip(".,;:|*") == "cpu" and not _bracket_figure(after):
        return True
    if not text[text.rfind("\n", 0, start) + 1:start].lstrip().startswith("|"):
        return False
    from perfpack.evidence.tables import table_header

    return "cpu" in (table_header(text, start) or "").lower().translate(_WORD_BREAKS).split()


_ROSE = {"went", "go", "goes", "going", "gone", "rose", "rise", "rises", "jumped", "jumps", "climbed",
         "climbs", "shot", "spiked", "spikes", "grew", "grows", "ramped", "crept", "creeps", "ballooned"}


def _bound_before(text: str, boundary: int, start: int) -> str | None:
    """The comparison right before a figure ("under", "<", "more than"), if any."""
    before = text[max(boundary, start - 24):start].lower().rstrip(" ~≈\u00a0")
    if before.endswith((" the", " a", " our", " your", " its")) and not before.endswith(("max of the",
                                                                                      "maximum of the")):
        before = before.rsplit(" ", 1)[0].rstrip()  # "all under the 50 ms we promised": still a bound
    if not before.endswith(_BOUNDS) or before.endswith(("->", "=>", "-->")):
        return None  # no comparison; or an arrow between a before and an after figure, not a bound
    for bound in _BOUNDS:
        if before.endswith(bound) and (len(before) == len(bound) or not before[-len(bound) - 1].isalpha()
                                        or not bound[0].isalpha()):
            if bound in ("max of", "maximum of") and before[:-len(bound)].rstrip().endswith((" a", " the")) \
                    and not any(word in text[max(0, start - 40):start].lower() for word in _LIMIT_STEMS):
                return None  # "a p95 of 6.36 s and a max of 6.63 s": the statistic, not a limit
            if bound == "up to" and before[:-len(bound)].rstrip().rsplit(" ", 1)[-1] in _ROSE:
                return None  # "memory went up to 38 MiB": where it rose to, a result
            return bound
    return None


def _labels_name_targets(lowered: str) -> bool:
    """Whether a heading, a lead-in line ("...:") or a table row names targets, budgets, ... at all (most
    messages: no, and then no figure needs `_hedged_context`). `lowered`: the message in lower case."""
    if not any(stem in lowered for stem in _TARGET_STEMS):
        return False
    for line in lowered.split("\n"):
        line = line.strip()
        if (line.startswith(("#", "|")) or line.endswith(":")) and \
                any(stem in line for stem in _TARGET_STEMS):
            return True
    return False


# Verbs that report how a measurement did against a target: the figure near them is the measurement.
_OUTCOMES = {"holds", "held", "hold", "met", "meets", "meet", "missed", "misses", "miss", "passes", "passed",
             "pass", "passing", "failed", "fails", "fail", "failing", "breached", "breaches", "blew", "beat",
             "beats", "hit", "hits", "exceeded", "broke", "violated"}
# Who "said" a figure when it is perfpack's output, not a person's words.
_TOOLS = {"perfpack", "compare", "bench", "load", "profile", "explain", "--rev", "--vs", "hyperfine",
          "py-spy", "it", "run", "tool", "output", "benchmark", "profiler"}
_LIMIT_STEMS = ("cap", "limit", "allow", "timeout", "budget", "target", "must", "should")
_LABEL_HEDGES = {"limit", "limits", "cap", "ceiling", "cutoff", "cut-off", "deadline", "plan", "planned"}
# Hedge words that are nouns of a target, which such a verb can be about.
_OUTCOME_NOUNS = {"target", "targets", "goal", "goals", "budget", "budgets", "slo", "slos", "sla", "slas",
                  "threshold", "thresholds", "limit", "limits", "requirement", "requirements", "objective",
                  "kpi", "kpis", "spec"}


_ESTIMATES = {"simulated", "configured", "hardcoded", "hard-coded", "expected", "estimated", "estimate",
              "estimates", "projected", "predicted", "predict", "hypothetical", "theoretical", "extrapolated"}


def _hedging_label(words: list[str]) -> bool:
    """A lead-in before a colon (words nearest first) that makes what follows a target or an estimate:
    "Budget:", "p95 target:", "Expected floor:" (a short one whole, a long one by its last three words),
    unless it reports an outcome ("the SLO holds:") or negates ("not a guess:")."""
    label = [word.strip(".?!") for word in (words if len(words) <= 7 else words[:3])]
    if label[:1] and label[0] in _SWITCHED_ON:
        return False  # "pushed to 40 req/s with thresholds on: p95 was 9.8 ms": a mode, then results
    hedges = [word for word in label if word in _HEDGES or word in _LABEL_HEDGES]
    if hedges == ["plan"] and _QUERY_PLAN.intersection(label):
        return False  # "on one plan's query:": a query plan, not a plan
    return not _OUTCOMES.intersection(label) and not {"not", "no"}.intersection(label) and bool(hedges)


_SWITCHED_ON = {"on", "enabled", "active", "applied", "set", "checked", "enforced"}
_QUERY_PLAN = {"old", "new", "query", "scanned", "scans", "scan", "used", "uses", "index", "seq",
               "sequential", "one", "s"}  # words next to "plan" when it is a query plan ("plan's": plan, s)


def _statement_start(text: str, boundary: int, start: int) -> int:
    """Where the statement holding a figure starts after a colon or a spaced dash in its clause ("which is
    expected — the point was memory: peak RSS 48.6 MB"); `boundary` when there is none."""
    span = text[boundary:start]
    cut = max(span.rfind(": "), span.rfind(":\n"), span.rfind(" — "), span.rfind(" – "), span.rfind(" - "),
              span.rfind("—"))
    return boundary + cut + 1 if cut >= 0 else boundary


def _hedged(text: str, boundary: int, start: int, dimension: str, after_figure: bool = False) -> bool:
    """True when the clause before the number makes it a target, a bound, a quote or a hypothetical.

    With `after_figure` (the words start right after another figure), the noun naming that figure is its
    own ("the 50 ms threshold (PASS), p99 9.4 ms": "threshold" is the 50 ms, not the 9.4 ms)."""
    raw = _words(text, boundary, start)
    if after_figure and raw and raw[-1].strip(".?!") in _SETTING_AFTER:
        span = text[boundary:start]
        cut = min((found for found in (span.find(","), span.find("("), span.find(")"), span.find(";"))
                   if found >= 0), default=-1)
        if cut >= 0:  # only up to the punctuation that closes the previous figure's phrase
            raw = _words(text, boundary + cut + 1, start)
        else:  # "passes the p95<200ms threshold at 80 req/s": the noun is the 200ms's, not the rate's
            raw = raw[:-1]
    clause = _clause_start(text, start)
    lead = _statement_start(text, clause, start)
    if boundary > lead > clause and _hedging_label(_words(text, clause, lead)) and (
            len(_words(text, clause, lead)) <= 4 or _ESTIMATES.intersection(_words(text, clause, lead))):
        # "Expected floor: max(40, 30, 50) = 50 ms instead of the 120 ms sum", "the simulated ones: 40 ms,
        # 30 ms, 50 ms": every figure (a long lead-in only when it says estimate; "with the SLO as a
        # threshold: PASS, p95 8.71 ms and p99 11.2 ms" reports results)
        return True
    statement = _statement_start(text, boundary, start)
    if statement > boundary:  # "the SLO holds: p95 is 9.2 ms": a hedge before a colon or a dash is its own
        if _hedging_label(_words(text, boundary, statement)) and \
                not _OUTCOMES.intersection(_words(text, statement, start)):
            return True  # "Budget: 1 s", "p95 target: 300 ms": the label names it (not "...: PASS, p95")
        raw = _words(text, statement, start)
    words = [word.strip(".?!") for word in raw[:10]]
    for position, word in enumerate(words):
        if word in _HEDGES or (position < 4 and word in _WEAK_HEDGES and (
                position == 0 or word != "every")):  # "on every line (46 %": not "every 30 s"
            if word in ("expected", "estimated", "predicted", "promised") and \
                    words[position + 1:position + 2] in (["as"], ["than"]):
                continue  # "as expected, p95 fell to 40 ms": a measurement after all
            if word in ("said", "says", "mentioned") and \
                    _TOOLS.intersection(words[position + 1:position + 5]):
                continue  # "compare --rev (10 pairs) said INCONCLUSIVE, -32.5 %": perfpack's output
            if {"not", "no", "isn't", "wasn't", "never"}.intersection(words[position + 1:position + 3]):
                continue  # "measured, not a guess", "no estimate": the opposite of a hedge
            if word in _OUTCOME_NOUNS and _OUTCOMES.intersection(words[max(0, position - 3):position + 3]):
                continue  # "failed the threshold with a p95 of 15.2 s", "the SLO holds at 9.2 ms": a result
            if word == "plan" and _QUERY_PLAN.intersection(words[max(0, position - 1):position + 3]):
                continue  # "the old plan scanned 3,800 rows/s", "one plan's query": a query plan, not a plan
            return True
    if words[:1] == ["for"] and (dimension == "time" or any(word in _RUN_WORDS for word in words[1:4])):
        return True  # "ran the load for 30 s", "open loop for 8 s": how long it ran, not a result
    if _bound_before(text, boundary, start) and dimension not in _CHANGES:
        return True
    if dimension in _CHANGES and words[:2] in (["effect", "minimum"], ["effect", "min"]):
        return True  # "the minimum effect 2%": a setting of the comparison
    if dimension in _CHANGES and len(words) >= 2 and words[1] in _GENERIC_CHANGES and \
            _bound_before(text, boundary, start):
        return True  # "changes beyond 5%": a class of changes, not the one measured
    if dimension == "size" and _data_size(text, start, raw):
        return True  # "(40,000 rows, 2.3 MB)", "sales.db 8.1 MB", "a 2.3 MB orders.csv"
    if dimension == "size":  # "the CSV is 2 GB", "a payload of 12 KB": the data's size, not memory
        for word in words[:4]:
            if word not in _SIZE_LINKS:
                if word.rstrip("s") in _DATA_NOUNS:
                    return True
                break
    clause_start = max(_clause_start(text, start), statement)  # "you asked about — but it's measured: 136 ms"
    closed = text.rfind(")", clause_start, start)
    if closed >= 0 and text.rfind("(", clause_start, closed) >= 0:
        clause_start = closed + 1  # '1.28 s (matches the "about a second" you saw), now 10.9 ms'
    lowered = text[clause_start:start].lower()
    if "you" not in lowered and "user" not in lowered and "ticket" not in lowered and "issue" not in lowered:
        return False
    said = _words(text, clause_start, start)
    if any(word in ("you", "your", "you're", "you've", "user", "user's", "ticket", "issue")
           for word in said):
        return any(word in _YOUR_VERBS for word in said)
    return False


_DATA_FILES = (".csv", ".db", ".json", ".jsonl", ".log", ".txt", ".parquet", ".sqlite", ".sqlite3", ".xml",
               ".gz", ".zip", ".tar", ".bin", ".dat")
_SIZE_CHANGES = {"adds", "added", "grew", "grows", "saves", "saved", "shrank", "costs", "cost"}
_ROW_NOUNS = ("rows", "lines", "records", "row", "line", "record", "-row", "-line", "-record", "entries")


def _data_size(text: str, start: int, before: list[str]) -> bool:
    """A size next to a data file's name or a count of rows: the input's size, not memory (unless it is
    a change: "the FTS index adds 2.3 MB to notes.db" is a result)."""
    if _SIZE_CHANGES.intersection(before[:2]):
        return False
    named = text[max(0, start - 48):start].lower().rstrip(" ~≈(")
    if named.rsplit(None, 1)[-1:] and named.rsplit(None, 1)[-1].strip(",.;:()`*\"'").endswith(_DATA_FILES):
        return True  # "`config.json` (1.5 MB, 30,000 flags)": the file named right before it
    after = text[start:start + 40].lower().split()
    near = before[:2] + after[1:4]  # after[0] is the figure's own number
    if any(word.strip(",.;:()`*").endswith(_DATA_FILES) for word in near):
        return True
    return any(word.strip(",.;:()`*").endswith(_ROW_NOUNS) for word in before[:2])


def _hedged_after(text: str, boundary: int, start: int, end: int, dimension: str) -> bool:
    """A figure that names a setting or a limit by the word after it ("the 1 s budget", "a 30 s load
    test", "a 2 GB CSV", "an 8 GB VM"), or a possibility ("a 50 ms start-up would need ...")."""
    window = text[end:end + 60].lower()
    newline = window.find("\n")
    if newline >= 0 and _soft_wrap(text, end + newline):
        window = window[:newline] + " " + window[newline + 1:]  # "a 20 ms\nupstream call": one phrase
    after = _cut(window, "\n;.!?")
    following = [word.strip(",:()*_") for word in after.replace("-", " ").split()[:4]]
    if dimension == "percent" and following[:1] and following[0] in _FAILURE_WORDS:
        return False  # "1.8 % timeouts": an error rate, not a timeout setting
    own = after.lstrip()
    said = _said_of(text, start, end)
    if any(phrase in said for phrase in _NOT_MEASURED):
        return True  # "a page of about 1.5 KB (template size, not measured)", "(1 / 30 ms, arithmetic)"
    if _bracket_figure(own):
        following = []  # "9.2 ms (target p95 < 50 ms)": the noun is the bracket's own figure's
    if following and following[0] in _SETTING_AFTER:
        return True
    if dimension == "size" and following and following[0].rstrip("s") in _DATA_NOUNS:
        return True  # "json.load on the 1.5 MB config": the input's size, not memory
    if dimension == "time" and following[:1] in (["earlier"], ["later"], ["ago"]):
        return True  # "taken ~2 minutes earlier": when something happened
    summed = text[max(0, start - 8):start].rstrip()
    if summed.endswith(("+", "×", "*")) and summed[:-1].rstrip()[-1:].isdigit():
        return True  # "the retry loop (20 + 40 + 60 ms)", "20 × 30 ms < 1 s": arithmetic on the code's delays
    if dimension == "time" and "load av" in text[max(0, start - 48):start].lower():
        return True  # "Load average: 4.05-5.34 (1 min)": the window the machine's load is averaged over
    if text[max(0, start - 9):start].lower().rstrip().endswith("against") and any(
            stem in text[max(0, start - 120):start].lower() for stem in _TARGET_STEMS):
        return True  # "met both targets (p95 32.9 ms against 100 ms": the target it was held against
    if dimension == "ratio" and following and following[0] in _LOAD_LEVELS:
        return True  # "at 120 req/s (3× today's traffic)": the load chosen, not a result
    if dimension == "ratio" and following[:1] == ["the"] and _SCALED.intersection(following[1:3]):
        return True  # "at ten times the rate", "2x the data": the load or input chosen, not a result
    if dimension == "percent" and _input_part(text, start, end, following) and \
            not _FAILURE_WORDS.intersection(after.replace(")", " ").replace("(", " ")[:40].split()):
        return True  # "120,000 requests, 40 % of them to long-tail SKUs", "error lines (2 %)": the input
    if following and following[0] in _CONFIDENCE_AFTER and dimension == "percent":
        return True  # "the 95 % CI", "99% confidence": a confidence level
    statement = _statement_start(text, _clause_start(text, start), start)
    if dimension == "size" and _io_size(_words(text, statement, start)[:10], following, after):
        return True  # "read it 16 bytes at a time", "64 KiB buffered reads", "one syscall per 16 bytes"
    if dimension == "size" and (following[:1] in (["each"], ["apiece"]) and any(
            word.rstrip("s") in _INPUT_ITEMS for word in _words(text, statement, start)) or (
            following[:1] == ["per"] and following[1:2] and following[1].rstrip("s") in _INPUT_ITEMS)):
        # "150,000 rows of 1 KB each", "64 MB per batch": the input's size ("per worker" is not, nor are
        # two allocation sites of "12.1 MiB each")
        return True
    if any(word in ("coverage", "timeout", "timeouts", "ttl", "budget", "slo", "sla")
           for word in following[:3]):
        return True
    before = _words(text, boundary, start)
    articles = (["a"], ["an"], ["the"], ["one"], ["two"], ["three"], ["four"])
    article = before[:1] in articles or (
        before[1:2] in articles and before[0].isalpha() and before[0] not in _OUTCOMES)
    if article and any(word in _SETTING_AFTER or (dimension == "time" and word in _OPERATIONS)
                       for word in following[:2]):
        # "a 5 s client timeout", "a synchronous 25 ms call", "a 40 ms upstream read", "two 40 ms
        # lookups under the lock": what the code does, not what was measured
        return True
    if not before or before[0] not in ("a", "an", "another"):
        return False
    return any(word in ("would", "could", "might", "may", "should", "will") for word in following)


# "a 40 ms lookup", "a 25 ms call": a time the code spends by design, not a measurement
_OPERATIONS = {"call", "calls", "lookup", "lookups", "upstream", "rpc", "rpcs", "blocking", "read", "reads"}

_NOT_MEASURED = ("not measured", "unmeasured", "arithmetic", "estimate", "back-of-the-envelope", "in theory",
                 "not a measurement", "calculated", "computed by hand", "by construction", "predict",
                 "simulated")


# Sizes of reads, writes and buffers (a setting of the code), unless memory is named next to them.
_IO_WORDS = {"read", "reads", "reading", "write", "writes", "writing", "chunk", "chunks", "block", "blocks",
             "buffer", "buffers", "buffered", "unbuffered", "syscall", "syscalls", "packet", "packets",
             "blocksize", "bufsize", "recv", "send", "gzip", "gzipped", "compress", "compressed",
             "compression", "compresslevel", "zlib"}
_MEMORY_WORDS = {"rss", "peak", "memory", "heap", "allocated", "resident", "live", "footprint"}


def _io_size(before: list[str], following: list[str], after: str) -> bool:
    """A size of reads or writes: I/O words before it in its statement or right after it, and no word of
    memory next to it ("peak RSS 40 MB while reading 64 KiB blocks": the 40 MB is memory)."""
    if (set(before[:3]) | set(following[:4])) & _MEMORY_WORDS:
        return False
    right_after = following[:1] if following[:1] != ["vs"] else following[3:4]  # "16 B vs 64 KiB reads"
    if set(right_after) & _IO_WORDS or before[:1] == ["per"] or after.lstrip().startswith("at a time"):
        return True
    for word in before:  # the nearer word decides: "streaming writes, the RSS peak went to 9.1 MiB" is memory
        if word in _MEMORY_WORDS:
            return False
        if word in _IO_WORDS:
            return True
    return False


def _said_of(text: str, start: int, end: int) -> str:
    """What the writer says of a figure: the parenthesis it sits in, else the rest of its clause with a
    parenthesis right after it ("1.5 KB (template size, not measured)"), in lower case."""
    opening = text.rfind("(", max(0, start - 60), start)
    if opening >= 0 and ")" not in text[opening:start] and "\n" not in text[opening:start]:
        return _cut(text[opening:end + 80].lower(), ")\n")
    after = text[end:end + 80].lower()
    if after.lstrip(" ,")[:1] == "(":
        return _cut(after, ");\n")
    return _cut(after, ".;!?()\n")


# What a multiple of is the load or input chosen ("ten times the rate"), not a result ("3x the throughput").
_SCALED = {"rate", "load", "traffic", "requests", "data", "input", "records", "rows", "volume", "users",
           "size", "dataset", "concurrency", "clients"}
_INPUT_NOUNS = {"lines", "rows", "records", "requests", "queries", "entries", "items", "skus", "users",
                "files", "events", "messages", "customers", "orders", "products", "keys", "pages",
                "documents"}


def _input_part(text: str, start: int, end: int, following: list[str]) -> bool:
    """A percentage of the input: "120,000 requests, 40 % of them", "the ~1 % of rows that are ready" (not
    after a word of failure: "timed out on 4 % of requests" is an error rate), or in parentheses right after
    a noun of the input ("only error lines (2 %) matter")."""
    if following[:2] in (["of", "them"], ["of", "those"]):
        return bool(_INPUT_NOUNS.intersection(_words(text, _clause_start(text, start), start)))
    rest = following[1:3] if following[1:2] != ["the"] else following[2:4]
    if following[:1] == ["of"] and rest and rest[0] in _INPUT_NOUNS and not _error_rate(text, start, end):
        return True  # "the ~1 % of rows that are ready (3,000 of 300,000)": a share of the input
    before = text[max(0, start - 40):start].rstrip(" ~≈")
    if not before.endswith("("):
        return False
    words = before[:-1].lower().split()
    return bool(words) and words[-1].strip(",:*_") in _INPUT_NOUNS


def _is_delta(text: str, boundary: int, start: int, end: int) -> bool:
    """"saves 970 ms", "shaved 84 ms off p95", "0.28 s saved", "down by 84 ms": a difference."""
    boundary = max(boundary, text.rfind("|", boundary, start) + 1)  # a table cell's words are its own
    before = [] if text[boundary:start].rstrip().endswith("(") else _words(text, boundary, start)[:3]
    # "saves CPU (191 ms against 333 ms before)": the figures in the parenthesis are levels
    if before[:1] and before[0] in _APPROXIMATE:
        before = before[1:]  # "up by about 3 MiB"
    before = before[:2]
    if before[:1] == ["by"] and before[1:2] not in (["group"], ["order"], ["sort"], ["partition"]):
        return True  # "down by 84 ms", not SQL's "GROUP BY"
    if any(word in _SAVING for word in before) and not text[boundary:start].rstrip().endswith((",", ";")):
        return True  # ("poller baseline saved, 3.73 s median": the saving word ends its own phrase)
    if before[:1] and before[0] in _CHANGE_VERBS and not text[boundary:start].rstrip().endswith(":"):
        return True  # "p95 dropped 84 ms" (but "dropped to 84 ms" and "back down: 541 ms" are levels)
    after = _cut(text[end:end + 30].lower(), "([,;.:\n—–|")  # "at 20 req/s: FASTER" is not a difference
    return any(word.strip(":)") in ("saved", "less", "shorter", "quicker", "faster", "off", "fewer",
                                    "smaller", "lower") for word in after.split()[:2])


_SAVING = {"saves", "saved", "saving", "shaved", "shaves", "cuts", "trims", "trimmed", "gained", "gains"}
_APPROXIMATE = {"about", "around", "roughly", "approximately", "approx", "nearly", "almost", "some", "~", "≈"}
_QUOTE_SOURCES = ("you", "user", "ticket", "issue", "customer", "said", "says", "wrote", "writes", "asked",
                  "mentioned", "quote", "reported", "from the", "dashboard", "alert", "incident", "pagerduty")


def _quoted_block(text: str, line_start: int) -> bool:
    """A blockquote holds someone else's words (the user's question, a ticket) when it asks something, opens
    the message, or the line before it names a source; a block the agent formats as a quote of its own
    message ("slack #perf:" then "> fixed it, 1,000x faster") is checked."""
    first = line_start
    while first > 0:
        previous = text.rfind("\n", 0, first - 1) + 1
        if not text[previous:first].lstrip().startswith(">"):
            break
        first = previous
    end = line_start
    while True:
        newline = text.find("\n", end)
        end = len(text) if newline < 0 else newline + 1
        if newline < 0 or not text[end:end + 80].lstrip(" ").startswith(">"):
            break
    if "?" in text[first:end] or not text[:first].strip():
        return True
    lead = text[:first].rstrip().rsplit("\n", 1)[-1].lower()
    return any(source in lead for source in _QUOTE_SOURCES)


_OWN_SPEAKERS = {"agent", "me", "i", "assistant", "claude", "bot", "perf-bot", "perfbot"}


def _speaker(line: str) -> str | None:
    """The speaker a chat line names in bold or with an @ ("**agent:**", "**maria**:", "@maria:"), in lower
    case; None (a plain "p95: 412 ms" is a label, not a speaker)."""
    head = line.lstrip(" ")
    if not head.startswith(("**", "@")):
        return None
    colon = head.find(":")
    if not 2 < colon <= 28:
        return None
    name = head[:colon].strip(" *@").lower()
    return name if name and name.replace("-", "").replace("_", "").replace(".", "").isalpha() else None


def _quoted_line(text: str, start: int, quotes: bool = True) -> bool:
    """A Markdown blockquote line ("> p95 is 2 s") or a figure between quotation marks (the ticket says
    "search takes 4 s"): words quoted from someone else, not a claim."""
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start]
    if before.lstrip().startswith(">"):
        speaker = _speaker(before.lstrip()[1:])
        if speaker is not None:  # "> **agent:** fix is in ...", "> **maria:** nice": a chat's lines
            return speaker not in _OWN_SPEAKERS
        if _quoted_block(text, line_start):
            return True
    if not quotes:
        return False
    if before.count("“") > before.count("”"):
        return "”" in text[start:start + 300].split("\n", 1)[0]
    return before.count('"') % 2 == 1 and '"' in text[start:start + 300].split("\n", 1)[0]


def _direction(text: str, end: int) -> str:
    # a colon ends the figure's phrase: "at 20 req/s: FASTER, p95 -96.8 %" says nothing of the 20 req/s
    after = _cut(text[end:end + 24].lower(), ":;\n|").split()
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


def _skip_number(text: str, index: int, chars: str = ".,") -> int:
    n = len(text)
    while index < n and (text[index] in _NUMBER_CHARS or text[index] in chars):
        index += 1
    return index


def _borrowed_unit(text: str, end: int) -> tuple[str, int, int, str] | None:
    """For a bare number followed by "to 670 ms", "-> 670 ms", "–45 ms", "and 45 ms": the unit of the
    figure after it, (spelling, next number's start, its unit's end, joiner). "from 1,640 to 670 ms"."""
    n = len(text)
    position = end
    while position < n and text[position] in _SPACES:
        position += 1
    joiner = ""
    for candidate in ("-->", "->", "=>", "→", "⇒", "⟶", "to ", "and ", "or ", "–", "—", "-"):
        if text.startswith(candidate, position):
            joiner = candidate.strip()
            position += len(candidate)
            break
    if not joiner:
        return None
    while position < n and text[position] in _SPACES + "~≈":
        position += 1
    if position >= n or text[position] not in _NUMBER_CHARS:
        return None
    number = _read_number(text, position)
    if number is None:
        return None
    unit = _read_unit(text, number[1])
    if unit is None:
        return None
    return unit[0], position, unit[1], joiner


MAX_CLAIMS = 1000  # figures read from one message: bounded time on a hostile one (about 0.3 ms each)


def _separated_digits(text: str, separator: str):
    """For each `separator` between two digits: how many digits follow it before a non-digit."""
    position = text.find(separator)
    while position >= 0:
        if 0 < position < len(text) - 1 and text[position - 1].isdigit() and text[position + 1].isdigit():
            end = position + 1
            while end < len(text) and text[end].isdigit():
                end += 1
            yield end - position - 1
        position = text.find(separator, position + 1)


def _decimal_comma(text: str) -> bool:
    """Whether the message writes decimals with a comma ("28,2 ms", "−77,3 %", as German and French do):
    at least two commas followed by one or two digits, and no full stop followed by one, two or four or
    more digits (an English decimal); "1,640 ms" (three digits) is an English thousands separator."""
    if "," not in text:
        return False
    commas = sum(1 for digits in _separated_digits(text, ",") if digits in (1, 2))
    if commas < 2:
        return False
    return not any(digits != 3 for digits in _separated_digits(text, "."))


def _swap_separators(text: str) -> str:
    """Commas and full stops between two digits swapped (the same length, so offsets hold)."""
    out = list(text)
    for position in range(1, len(text) - 1):
        if text[position] in ",." and text[position - 1].isdigit() and text[position + 1].isdigit():
            out[position] = "." if text[position] == "," else ","
    return "".join(out)


_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}
_SPELLED_UNITS = ("seconds", "second", "milliseconds", "millisecond", "minutes", "minute", "times")


_UNIT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
               "nine": 9}


def _digits_for_words(text: str) -> tuple[str, set[int]]:
    """`text` with each number word that a unit word follows ("twelve seconds", "three times faster")
    replaced by its digits, right-aligned in the word's place (the same length, so offsets hold), and
    where those digits start."""
    out = list(text)
    lowered = text.lower()
    starts: set[int] = set()
    for tens in ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"):
        position = lowered.find(tens)
        while position >= 0:  # "twenty-two times faster": one number
            end = position + len(tens)
            unit = lowered[end + 1:end + 7].split()[:1] if lowered[end:end + 1] in "- " else []
            word = unit[0].strip(".,;:") if unit else ""
            if word in _UNIT_WORDS and (position == 0 or not lowered[position - 1].isalpha()):
                stop = end + 1 + len(word)
                if lowered[stop:stop + 30].lstrip(" -").startswith(_SPELLED_UNITS):
                    digits = str(_NUMBER_WORDS[tens] + _UNIT_WORDS[word])
                    out[position:stop] = " " * (stop - position - len(digits)) + digits
                    starts.add(stop - len(digits))
            position = lowered.find(tens, end)
    lowered = "".join(out).lower()
    _hundreds(lowered, out, starts)
    lowered = "".join(out).lower()
    for word, value in _NUMBER_WORDS.items():
        position = lowered.find(word)
        while position >= 0:
            end = position + len(word)
            following = lowered[end:end + 30].lstrip(" -")
            if following.startswith("times"):  # "three times faster", never "we tried three times"
                comparative = following[5:].split()[:1]
                if not comparative or comparative[0].strip(".,;:)") not in _COMPARATIVES:
                    following = ""
            if (position == 0 or not lowered[position - 1].isalpha()) and (end >= len(lowered) or not
                    lowered[end].isalpha()) and following.startswith(_SPELLED_UNITS):
                digits = str(value)
                start = end - len(digits)
                out[position:end] = " " * (start - position) + digits
                starts.add(start)
            position = lowered.find(word, end)
    return "".join(out), starts


def _hundreds(lowered: str, out: list[str], starts: set[int]) -> None:
    """ "eight hundred and eighty-four milliseconds" (its tens already digits), "three hundred seconds": one
    number, written into `out` right-aligned in the words' place."""
    position = lowered.find("hundred")
    while position >= 0:
        end = position + len("hundred")
        before = lowered[:position].rstrip()
        word_start = max(before.rfind(" "), before.rfind("\n")) + 1
        word = before[word_start:]
        if word in _UNIT_WORDS and end <= len(lowered) and lowered[end:end + 1] in (" ", "-"):
            rest = lowered[end:end + 48]
            tail_at = len(rest) - len(rest.lstrip(" -"))
            if rest[tail_at:].startswith("and "):
                tail_at += 4 + len(rest[tail_at + 4:]) - len(rest[tail_at + 4:].lstrip())
            digits_end = tail_at
            while digits_end < len(rest) and rest[digits_end].isdigit():
                digits_end += 1
            tail, stop = 0, end
            if 0 < digits_end - tail_at <= 2:
                tail, stop = int(rest[tail_at:digits_end]), end + digits_end
            else:
                next_word = rest[tail_at:].split()[:1]
                if next_word and next_word[0] in _NUMBER_WORDS and next_word[0] != "hundred":
                    tail, stop = _NUMBER_WORDS[next_word[0]], end + tail_at + len(next_word[0])
            if lowered[stop:stop + 30].lstrip(" -").startswith(_SPELLED_UNITS):
                digits = str(_UNIT_WORDS[word] * 100 + tail)
                out[word_start:stop] = " " * (stop - word_start - len(digits)) + digits
                starts.add(stop - len(digits))
        position = lowered.find("hundred", end)


def printed_tolerance(value: float, decimals: int) -> float:
    """Half a unit of the last printed digit; "670 ms", "2,150 req/s": trailing zeros may be rounding, but
    "700 ms" is not 673."""
    if decimals or value < 10:
        return 0.5 * 10.0 ** (-decimals)
    zeros = len(str(int(value))) - len(str(int(value)).rstrip("0"))
    return max(0.5, min(0.5 * 10.0 ** zeros, value * 0.025))


def extract_claims(message: str) -> list[Claim]:
    """Every quantitative claim in `message`, in order (the first MAX_CLAIMS). Targets, bounds, quotes and
    hypotheticals are left out, as are numbers without a unit, versions, dates and anything inside code."""
    text = shown = strip_code(message)
    spelled: set[int] = set()
    if any(word in text for word in _SPELLED_UNITS):
        text, spelled = _digits_for_words(text)  # "twelve seconds" is 12 s, "three times faster" 3x
        shown = text
    if _decimal_comma(text):
        text = _swap_separators(text)  # "28,2 ms" is 28.2 ms, "1.844×" is 1844×; the same offsets
    _WORDS_MEMO.clear()
    _CLAUSE_MEMO.clear()
    claims: list[Claim] = []
    n = len(text)
    index = 0
    last_figure_end = 0  # hedge words are read back to here, never across another figure
    last_of_dimension: dict[str, int] = {}  # statistic words: never across a figure of the same dimension
    pending_range: Claim | None = None
    pending_index = -1  # where pending_range sits in `claims` (no list.index: O(n) per range)
    direction_at = 0
    not_claims: set[tuple[str, float]] = set()
    expect_at = -1  # where the second number of "40-45 ms" starts: not a date although a dash precedes it
    hedged_range_at = -1  # where the high end of a hedged range starts ("might save 10-20 %": both hedged)
    hedged_end, hedged_dimension = -1, ""  # the last figure left out: "from 16 bytes to 64 KiB" shares it
    # One C-level find per number instead of a loop per character: every digit as b"0" in a byte string
    # of the same length (latin-1 with "?" for anything else keeps offsets 1:1).
    digits = text.encode("latin-1", "replace").translate(_DIGITS_TO_ZERO)
    # once per message: quotation marks at all; a heading, lead-in or table row naming targets at all
    quotes = '"' in text or "“" in text
    lowered = text.lower()
    qualifiers = "[" in text or any(word in lowered for word in _QUALIFIER_WORDS)
    targets = _labels_name_targets(lowered)
    cpu_named = "cpu" in lowered
    production = " in prod" in lowered
    while index < n and len(claims) < MAX_CLAIMS:
        if text[index] not in _NUMBER_CHARS:
            index = digits.find(b"0", index)
            if index < 0:
                break
        previous = text[index - 1] if index else " "
        if index != expect_at and (previous.isalpha() or previous in "_:/#@$\\" or (
                previous in ".-" and index >= 2 and text[index - 2] in _NUMBER_CHARS)):
            # part of a word (p95, v2, utf8), file:line, a path, an issue number, a date or version
            index = _skip_number(text, index)
            continue
        number = _read_number(text, index)
        if number is None:
            index = _skip_number(text, index)
            continue
        value, end, decimals = number
        unit = _read_unit(text, end)
        joiner = ""
        if unit is None:
            borrowed = _borrowed_unit(text, end)
            in_table = None
            if borrowed is None and "|" in text:
                from perfpack.evidence.tables import table_unit

                in_table = table_unit(text, index, end)
            if borrowed is None and in_table is None:
                if end < n and text[end] in "-:/" and end + 1 < n and text[end + 1] in _NUMBER_CHARS:
                    index = _skip_number(text, end + 1, "-:/.")  # a date (2026-12-07), a time (04:50)
                else:
                    index = end
                continue
            if borrowed is None:
                spelling = in_table or ""  # "| p95 (ms) |" above "| 126 |"
                direction_at = end
            else:
                spelling, joiner = borrowed[0], borrowed[3]
                expect_at, direction_at = borrowed[1], borrowed[2]
            unit_end = end
        else:
            spelling, unit_end = unit
            if end < n and text[end] in "-:/" and end + 1 < n and text[end + 1] in _NUMBER_CHARS:
                unit_end = end  # never reached: a unit always follows the digits directly
        dimension, factor = unit_spec(spelling)
        sign_start = index
        if index and index != expect_at and text[index - 1] in "-−+" and not (
                index >= 2 and text[index - 2].isalnum()):
            sign_start = index - 1
            if text[index - 1] in "-−":
                value = -value
        clause_start = _clause_start(text, sign_start)
        boundary = max(clause_start, last_figure_end)
        after_figure = last_figure_end > clause_start
        near = text[max(boundary, sign_start - 8):sign_start].lower()
        approximate = bool(near) and ("~" in near or "≈" in near or "about" in near or "around" in near
                                      or "roughly" in near or "approx" in near or "nearly" in near
                                      or "almost" in near)
        tolerance = printed_tolerance(value, decimals)
        if approximate:
            tolerance = max(tolerance, abs(value) * 0.05)
        if index in spelled:
            tolerance = max(tolerance, abs(value) * 0.1)  # a figure written in words is a rounded one
        metric_boundary = max(clause_start, last_of_dimension.get(dimension, 0))
        if metric_boundary > clause_start:
            # right after a figure of its dimension: that figure's own label, up to the bracket or comma
            # that closes it, is not this one's ("a 5.3 MiB peak) and 1.2 MiB at nearest.py:18")
            closing = [found for found in (text.find(")", metric_boundary, sign_start),
                                           text.find(",", metric_boundary, sign_start)) if found >= 0]
            if closing:
                metric_boundary = min(closing) + 1
        last_figure_end = last_of_dimension[dimension] = unit_end
        if index == hedged_range_at or _words(text, boundary, sign_start)[:1] in _SETTING_BEFORE or \
                (dimension == hedged_dimension and
                 text[hedged_end:sign_start].strip().lower() in _PAIR_ARROWS) or \
                (hedged_end > clause_start and
                 text[hedged_end:sign_start].strip().lower() in ("and", "or")) or \
                _quoted_line(text, sign_start, quotes) or \
                (targets and _context().hedged_context(text, sign_start)) or \
                _hedged(text, boundary, sign_start, dimension, after_figure) or \
                (dimension, value * factor) in not_claims or \
                _hedged_after(text, boundary, sign_start, unit_end, dimension):
            not_claims.add((dimension, value * factor))  # "the 3 s spikes" later: the same quoted figure
            hedged_end, hedged_dimension = unit_end, dimension
            if joiner in ("–", "—", "-", "to", "and", "or"):
                hedged_range_at = expect_at  # the range's other end says the same thing
            pending_range = None
            index = unit_end
            continue
        claim = Claim(shown[sign_start:unit_end].strip(), value, spelling, dimension, factor, tolerance,
                      _metric_near(text, metric_boundary, sign_start, unit_end, dimension), sign_start,
                      unit_end)
        claim.direction = _direction(text, unit_end if unit is not None else direction_at)
        if not claim.direction and dimension == "percent" and (
                sign_start < index or (_words(text, boundary, sign_start)[:1] not in (["to"], ["from"]) and
                                       _CHANGE_WORDS.intersection(_words(text, boundary, sign_start)[:2]))):
            # "-44 %", "+4.5 %", "down 41 %", "cut by 30 %": a change, not a level ("fell from 79 % to
            # 1 %" and "down to 4 %" are levels); "up 31 %", "+31 %": a rise
            rise = text[sign_start] == "+" or bool(
                _RISE_WORDS.intersection(_words(text, boundary, sign_start)[:2]))
            claim.direction = "more" if rise else "change"
        claim.secondary = claim.metric == "stdev" or (
            qualifiers and _context().qualifying(text, clause_start, sign_start, unit_end))
        claim.cpu = cpu_named and dimension in ("time", *_CHANGES) and \
            _names_cpu(text, clause_start, sign_start, unit_end)
        if production:
            sentence = _cut(text[unit_end:unit_end + 72].lower(), ".;\n")
            claim.elsewhere = " in production" in sentence or " in prod " in sentence
        starts_pair = joiner in _PAIR_ARROWS or \
            text[unit_end:unit_end + 5].lstrip().startswith(_ARROWS_AHEAD)
        claim.delta = dimension not in _CHANGES and not starts_pair and _is_delta(
            text, boundary, sign_start, unit_end if unit is not None else direction_at)  # "dropped 693 → 438"
        if dimension in _CHANGES:
            bound = _bound_before(text, boundary, sign_start)
            if bound in _LOWER_BOUNDS:
                claim.bound = "min"  # "over 3x faster": backed by a measured 3x or more
            elif bound is not None and bound not in ("up to", "within"):
                claim.bound = "max"  # "under 5 % slower": backed by a measured 5 % or less
        if pending_range is not None and pending_range.dimension == dimension:
            pending_range.partner = len(claims)
            claim.partner = pending_index
            claim.range_of = pending_range
            pending_range = None
        if joiner in ("–", "—", "-", "and", "or") and (joiner != "and" or _between(text, boundary,
                                                                                         sign_start)):
            claim.is_range = True
            pending_range, pending_index = claim, len(claims)
        claims.append(claim)
        index = unit_end
    if len(claims) < MAX_CLAIMS and any(word in lowered for word in ("third", "half", "halv", "quarter")):
        claims.extend(_fraction_claims(text, shown, quotes, targets))
        claims.sort(key=lambda claim: claim.start)
    _link_pairs(text, claims)
    _WORDS_MEMO.clear()
    _CLAUSE_MEMO.clear()
    if "```" in message and len(claims) < MAX_CLAIMS:
        from perfpack.evidence.fenced import output_claims  # only a message with a fenced block pays

        claims.extend(output_claims(message)[:MAX_CLAIMS - len(claims)])
    return claims


_LOADED: "dict[str, Any]" = {}


def _context() -> "Any":
    """perfpack.evidence.context, loaded for a message with a heading, lead-in or table row naming targets,
    or with words about intervals, noise or the load generator (most messages have neither)."""
    module = _LOADED.get("context")
    if module is None:
        from perfpack.evidence import context as module

        _LOADED["context"] = module
    return module


# Fractions said as a change ("cut by two thirds", "halved", "a third less CPU"): percentages, roughly.
_FRACTIONS = (("three quarters", 75.0), ("two thirds", 66.7), ("one third", 33.3), ("a third", 33.3),
              ("one quarter", 25.0), ("a quarter", 25.0), ("halved", 50.0), ("in half", 50.0),
              ("by half", 50.0), ("half", 50.0))
_FRACTION_CHANGES = ("less", "lower", "faster", "quicker", "fewer", "smaller", "off", "more", "higher",
                     "slower", "larger")  # not "half of the time": a share of a profile


def _fraction_claims(text: str, shown: str, quotes: bool, targets: bool) -> list[Claim]:
    """"median cut by two thirds", "about a third less CPU", "halved": a change of roughly that size, read
    when a word of change goes with it and nothing makes it a target or a hypothetical."""
    lowered = text.lower()
    found: list[Claim] = []
    taken: list[tuple[int, int]] = []
    for phrase, value in _FRACTIONS:
        start = lowered.find(phrase)
        while start >= 0:
            end = start + len(phrase)
            inside_word = (start and lowered[start - 1].isalpha()) or \
                (end < len(lowered) and lowered[end].isalpha())
            if inside_word or any(low <= start < high for low, high in taken):
                start = lowered.find(phrase, end)
                continue
            before = _words(text, _clause_start(text, start), start)[:3]
            after = lowered[end:end + 24].lstrip(" ,")
            change = phrase in ("halved", "in half", "by half") or before[:1] in (["by"], ["cut"], ["down"]) \
                or after.startswith(_FRACTION_CHANGES) or "cut" in before or "reduced" in before
            boundary = _clause_start(text, start)
            if change and not _quoted_line(text, start, quotes) and \
                    not (targets and _context().hedged_context(text, start)) and \
                    not _hedged(text, boundary, start, "percent"):
                # "roughly halved" for -45.5 %, "roughly in half (15 ms -> 6.91 ms)": a loose word, loosely
                loose = bool(_APPROXIMATE.intersection(before[:2]))
                claim = Claim(shown[start:end], value, "%", "percent", 1.0, 7.0 if loose else 3.0,
                              _metric_near(text, boundary, start, end, "percent"), start, end)
                claim.direction = "change"
                lead = text[max(0, start - 12):start].lower().rstrip()
                if after.lstrip("-").startswith(("and-then-some", "and then some")) or \
                        lead.endswith(("more than", "over", "at least")):
                    claim.bound = "min"  # "halved-and-then-some", "more than halved": at least that
                found.append(claim)
                taken.append((start, end))
            start = lowered.find(phrase, end)
    return found


def _between(text: str, boundary: int, start: int) -> bool:
    words = _words(text, boundary, start)
    return bool(words) and words[0] in ("between", "from")


def _link_pairs(text: str, claims: list[Claim]) -> None:
    """Mark "from A to B" / "A → B" pairs of one dimension: B inherits A's statistic and the reverse.
    A figure right after another of its dimension with no statistic of its own inherits that one's
    ("p95 is 1.2 s (was 3.0 s)")."""
    for position, (first, second) in enumerate(zip(claims, claims[1:], strict=False)):
        if first.dimension in _CHANGES and second.dimension in _CHANGES and \
                first.dimension != second.dimension and \
                (first.metric is None) != (second.metric is None) and \
                not text[first.end:second.start].strip(" (≈~,;/") and first.metric != "errors":
            # "-55 % (2.2x)": one change said two ways, of one statistic
            unnamed = first if first.metric is None else second
            unnamed.metric = second.metric if unnamed is first else first.metric
        if second.dimension in _CHANGES and first.dimension not in _CHANGES and second.metric is None \
                and _clause_start(text, second.start) <= first.start:
            # "from 58.7 MB to 31.5 MB (−46 %)": a change right after a figure is about its statistic
            # (a size without one: memory); a guess, so the match may fall back to the headline statistic
            metric = first.metric or ("rss" if first.dimension == "size" else None)
            if metric is not None:
                second.metric, second.inherited = metric, True
        if first.dimension != second.dimension:
            continue
        between = text[first.end:second.start].strip().lower()
        arrow = between in _PAIR_ARROWS or between.endswith((" to", "->", "→")) and len(between) < 24
        if arrow and first.partner is None:
            first.partner, second.partner = position + 1, position
        named = _named_after(text, second.end, second.dimension) if arrow else None
        if named is not None:
            first.metric = second.metric = named  # "(53.2 ms → 6.46 ms at the p95)": the pair's statistic
        elif arrow and {first.metric, second.metric} in ({"cpu", "p50"}, {"cpu", "mean"}):
            # "CPU time: 310 ms -> 213 ms median (about -31 %)": the CPU's median, and its change
            following = claims[position + 2] if position + 2 < len(claims) else None
            if following is not None and following.dimension in _CHANGES and following.metric in \
                    (first.metric, second.metric) and len(text[second.end:following.start]) < 24:
                following.metric = "cpu"
            first.metric = second.metric = "cpu"
        if arrow or first.partner == position + 1 or (second.metric is None and first.metric
                                                      and _clause_start(text, second.start)
                                                      <= first.start and len(between) < 40):
            for claim, other in ((first, second), (second, first)):
                if claim.metric is None and other.metric is not None:
                    # the two sides of "peak RSS 48.6 MB → 9.8 MB" are one statistic: no guess, unlike a
                    # neighbour's ("p95 1.2 s (was 3.0 s)")
                    claim.metric, claim.inherited = other.metric, not arrow
