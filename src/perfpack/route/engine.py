"""Scores a prompt against the compiled routing rules and picks the agent, if any.

Standard library only and no `re`/`json` import on the common path: this runs on every prompt and
`import re` alone costs about as much as a bare interpreter start here. Used by the hook and the CLI.
"""


from perfpack import lightos
from perfpack.fastjson import loads

TYPE_CHECKING = False  # not imported from typing: this module is on the prompt hook's path
if TYPE_CHECKING:
    from perfpack.route.model import Model

RULES_VERSION = 1

# Words that open a negated clause: a match inside the clause does not count ("not about performance").
NEGATION_CUES = (
    "not about", "not related to", "unrelated to", "nothing to do with", "isn't about", "is not about",
    "no need to", "don't need to", "do not need to", "doesn't need to", "does not need to",
    "not asking about", "not worried about", "not concerned about", "don't care about", "do not care about",
    "not looking to", "not trying to", "don't want to", "do not want to", "without worrying about",
    "not a performance", "no performance", "not performance", "don't optimize", "do not optimize",
    "don't optimise", "not to optimize", "never mind", "ignore the", "not interested in", "no perf",
)
# Words that negate the clause they end ("performance is fine", "speed is not the issue").
NEGATION_TAILS = (
    "is fine", "are fine", "is ok", "is okay", "is not the issue", "isn't the issue", "is not an issue",
    "isn't an issue", "is not the problem", "isn't the problem", "is not a concern", "isn't a concern",
    "not a priority", "doesn't matter", "does not matter", "is good enough", "is acceptable", "is great",
    "not needed",
)
# A matched term followed within two words by one of these names a data field ("latency_ms column").
DATA_WORDS = ("field", "fields", "column", "columns", "property", "attribute", "value", "values", "tooltip",
              "param", "parameter", "variable", "key", "label", "metric name", "header")
_BOUNDARY = "|"
_CLAUSE_BREAKERS = frozenset({_BOUNDARY, "but", "however", "though", "although"})
_LOG_PREFIXES = ("traceback (most recent", 'file "', "error:", "warn:", "warning:", "info:", "debug:",
                 "trace:", "fatal:", "exception in", "caused by:", ">>>", "$ ", "panic:",
                 "[", "{", "<", "|", "e   ", "stderr:", "stdout:")
_MAX_CHARS = 20_000  # a prompt longer than this is scored on its first 20k characters


def _translate_table() -> dict[int, str]:
    table = {}
    for ch in ("!\"#$%&()*,./:;<=>?@[\\]^`{|}~"
               "\u2014\u2013\u2026\u201c\u201d\u00ab\u00bb\u00bf\u00a1\u3002\uff0c"):
        table[ord(ch)] = f" {_BOUNDARY} " if ch in ".,;:!?|\u2026\u3002\uff0c\u00bf\u00a1" else " "
    for ch in "\u2018\u2019\u02bc`":
        table[ord(ch)] = "'"
    table[ord("-")] = " "
    table[ord("_")] = " "
    table[ord("\n")] = f" {_BOUNDARY} "
    table[ord("\t")] = " "
    return table


_TABLE = _translate_table()


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; sentence punctuation and newlines become a `|` boundary token.

    Hyphens and underscores split words ("slow-motion" -> slow motion, "p99_latency" -> p99 latency);
    "+" and "'" stay inside a word ("n+1", "don't"); a decimal point between digits is kept ("1.5s").
    """
    text = text.lower()
    if "." in text:
        text = _keep_decimal_points(text)
    tokens: list[str] = []
    for raw in text.translate(_TABLE).split():
        word = raw.strip("'")
        if word == _BOUNDARY and tokens and tokens[-1] == _BOUNDARY:
            continue
        if not word:
            continue
        if word[0].isdigit() and not word.isdigit():
            _split_quantity(word, tokens)  # "800ms" -> 800 ms, "2s" -> 2 seconds, "10x" -> 10 x
        elif word in _UNITS and tokens and tokens[-1][:1].isdigit():
            tokens.append(_UNITS[word])  # "3 secs" -> 3 seconds
        else:
            tokens.append(word)
    return tokens


# Units written after a number, mapped to one spelling so "takes * seconds" also matches "takes 3s".
_UNITS = {"ms": "ms", "msec": "ms", "msecs": "ms", "millis": "ms", "millisecond": "ms", "milliseconds": "ms",
          "s": "seconds", "sec": "seconds", "secs": "seconds", "second": "seconds", "min": "minutes",
          "mins": "minutes", "minute": "minutes", "h": "hours", "hr": "hours", "hrs": "hours",
          "hour": "hours", "x": "x", "us": "us", "\u00b5s": "us", "gb": "gb", "mb": "mb", "kb": "kb",
          "k": "k"}


def _split_quantity(word: str, tokens: list[str]) -> None:
    end = 0
    while end < len(word) and (word[end].isdigit() or word[end] == "\u00b7"):
        end += 1
    unit = _UNITS.get(word[end:])
    if unit is None or (unit == "seconds" and end == 4):  # "1990s" is a decade
        tokens.append(word)
    else:
        tokens.append(word[:end])
        tokens.append(unit)


def _keep_decimal_points(text: str) -> str:
    chars = list(text)
    for i in range(1, len(chars) - 1):
        if chars[i] == "." and chars[i - 1].isdigit() and chars[i + 1].isdigit():
            chars[i] = "\u00b7"  # not in the table, so it stays part of the number
    return "".join(chars)


def strip_code_and_logs(text: str) -> str:
    """Drop fenced code blocks, inline code and lines that look pasted from a log or stack trace."""
    text = text[:_MAX_CHARS]
    for fence in ("```", "~~~"):
        while fence in text:
            start = text.find(fence)
            end = text.find(fence, start + 3)
            text = text[:start] + " | " + (text[end + 3:] if end != -1 else "")
    if "`" in text:
        parts = text.split("`")
        text = " ".join(parts[0::2])  # odd parts are inline code
    kept = []
    for line in text.split("\n"):
        stripped = line.strip().lower()
        if not stripped:
            continue
        if (line.startswith(("    ", "\t")) or stripped.startswith(_LOG_PREFIXES) or _looks_like_log(stripped)
                or (stripped.startswith("at ") and "(" in stripped)):
            kept.append("|")
            continue
        kept.append(line)
    return "\n".join(kept)


def _looks_like_log(line: str) -> bool:
    """Timestamped or key=value lines, and lines that are mostly symbols, are machine output."""
    if len(line) >= 8 and line[:4].isdigit() and line[4] in "-/":
        return True
    if line.count("=") >= 2 and " " in line and line.count("=") * 6 >= line.count(" "):
        return True
    head, colon, _ = line.partition(":")
    if colon and " " not in head and head.endswith(("error", "exception", "warning")):
        return True  # "NameError: …", "java.lang.OutOfMemoryError: …"
    letters = sum(ch.isalpha() or ch == " " for ch in line)
    return len(line) > 20 and letters < len(line) * 0.5


PATTERN_BUDGET_S = 0.1  # all of one rule's trigger regexes on one prompt; then they match nothing


class _PatternTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _PatternTimeout


def _search_patterns(patterns: list, text: str) -> dict:
    """{pattern: weight} of the trigger regexes found in `text`, in bounded time.

    `perfpack route --compile` refuses patterns that can backtrack catastrophically, but a routes.json is
    a file a repository can ship: a timer (SIGALRM; `re` checks signals while it matches) stops a slow
    pattern after PATTERN_BUDGET_S, and the ones not yet run count as no match. Off the main thread (no
    signals there) the text is cut to 2,000 characters instead.
    """
    import re  # only rules that use regex patterns pay for the import

    found: dict = {}
    try:
        import _signal

        previous = _signal.signal(_signal.SIGALRM, _on_alarm)
    except (ImportError, ValueError, OSError, AttributeError):  # not the main thread, or no SIGALRM
        for pattern, weight in patterns:
            try:
                if re.search(pattern, text[:2000]):
                    found[pattern] = weight
            except (re.error, TypeError, RecursionError):
                continue
        return found
    try:
        _signal.setitimer(_signal.ITIMER_REAL, PATTERN_BUDGET_S)
        for pattern, weight in patterns:
            try:
                if re.search(pattern, text):
                    found[pattern] = weight
            except (re.error, TypeError, RecursionError):
                continue
    except _PatternTimeout:
        pass
    finally:
        try:
            _signal.setitimer(_signal.ITIMER_REAL, 0)
        except _PatternTimeout:  # it fired just as the loop ended
            _signal.setitimer(_signal.ITIMER_REAL, 0)
        _signal.signal(_signal.SIGALRM, previous)
    return found


class Rule:
    """One agent's compiled triggers, indexed for fast lookup."""

    __slots__ = ("name", "threshold", "priority", "keywords", "prefixes", "phrases", "patterns", "summary")

    def __init__(self, data: dict) -> None:
        self.name = str(data["name"])
        self.threshold = float(data.get("threshold", 3))
        self.priority = int(data.get("priority", 0))
        self.summary = str(data.get("summary", ""))[:120]
        self.keywords = data.get("keywords") or {}
        self.prefixes = list((data.get("prefixes") or {}).items())
        self.phrases = _index_phrases(data.get("phrases") or {})
        self.patterns = list((data.get("patterns") or {}).items())


def _index_phrases(phrases) -> dict:
    """first word -> [(text, weight)], from {text: weight} or a list of texts (weight 0)."""
    index: dict = {}
    pairs = phrases.items() if isinstance(phrases, dict) else [(text, 0) for text in phrases]
    for text, weight in pairs:
        first = text.partition(" ")[0]
        if first in index:
            index[first].append((text, weight))
        else:
            index[first] = [(text, weight)]
    return index


class RuleSet:
    """All agents' rules plus the pooled exclusions and vetoes."""

    def __init__(self, data: dict) -> None:
        if not isinstance(data, dict) or data.get("version") != RULES_VERSION:
            raise ValueError("not a perfpack routes file of version 1")
        self.rules = [Rule(item) for item in data.get("agents", [])]
        self.exclude = _index_phrases(data.get("exclude") or [])
        self.veto = _index_phrases(data.get("veto") or [])
        self.negation_cues = _index_phrases(data.get("negation_cues") or NEGATION_CUES)
        self.negation_tails = _index_phrases(data.get("negation_tails") or NEGATION_TAILS)
        self.data_words = frozenset(data.get("data_words") or DATA_WORDS)
        self.model = None
        if data.get("model") is not None:
            from perfpack.route.model import Model

            self.model = Model(data["model"])

    _FIELDS = ("exclude", "veto", "negation_cues", "negation_tails", "data_words")

    def to_plain(self) -> tuple:
        """The indexed rules as plain values (for the marshal cache)."""
        return (tuple(tuple(getattr(rule, slot) for slot in Rule.__slots__) for rule in self.rules),
                tuple(getattr(self, name) for name in self._FIELDS),
                self.model.to_plain() if self.model is not None else None)

    @classmethod
    def from_plain(cls, plain: tuple) -> "RuleSet":
        rules_plain, fields, model = plain
        self = cls.__new__(cls)
        self.rules = []
        for values in rules_plain:
            rule = Rule.__new__(Rule)
            for slot, value in zip(Rule.__slots__, values, strict=True):
                setattr(rule, slot, value)
            self.rules.append(rule)
        for name, value in zip(cls._FIELDS, fields, strict=True):
            setattr(self, name, value)
        self.model = None
        if model is not None:
            from perfpack.route.model import Model

            self.model = Model.from_plain(model)
        return self


class Decision:
    """The outcome for one prompt: the agent (or None), its score, the terms that decided it."""

    __slots__ = ("agent", "score", "terms", "scores", "vetoed", "summary")

    def __init__(self, agent: str | None, score: float, terms: list[str], scores: dict[str, float],
                 vetoed: list[str], summary: str = "") -> None:
        self.agent, self.score, self.terms = agent, score, terms
        self.scores, self.vetoed, self.summary = scores, vetoed, summary

    def as_dict(self) -> dict:
        return {"agent": self.agent, "score": self.score, "terms": self.terms, "scores": self.scores,
                "vetoed_by": self.vetoed}


def _match_at(tokens: list[str], i: int, words: list[str]) -> bool:
    if i + len(words) > len(tokens):
        return False
    for offset, word in enumerate(words):
        token = tokens[i + offset]
        if word == "*":
            if token == _BOUNDARY:
                return False
        elif word.endswith("*") and len(word) > 1:
            if not token.startswith(word[:-1]):
                return False
        elif token != word:
            return False
    return True


def _find(tokens: list[str], index: dict, mask: list[bool] | None = None) -> list[tuple[int, int, list]]:
    """(start, end, [text, weight]) for each phrase of `index` found in `tokens` on unmasked positions."""
    found = []
    for i, token in enumerate(tokens):
        for entry in index.get(token, ()):
            words = entry[0].split()
            if _match_at(tokens, i, words) and (mask is None or not any(mask[i:i + len(words)])):
                found.append((i, i + len(words), entry))
    return found


def _negation_mask(tokens: list[str], rules: RuleSet) -> list[bool]:
    mask = [False] * len(tokens)
    for start, end, _ in _find(tokens, rules.negation_cues):
        j = end
        while j < len(tokens) and tokens[j] not in _CLAUSE_BREAKERS:
            mask[j] = True
            j += 1
        for k in range(start, end):
            mask[k] = True
    for start, _end, _ in _find(tokens, rules.negation_tails):
        # only the subject just before the tail: "CPU is fine" masks "cpu", not the whole sentence
        j = start - 1
        while j >= max(0, start - 4) and tokens[j] not in _CLAUSE_BREAKERS and tokens[j] != "and":
            mask[j] = True
            j -= 1
    return mask


_FIELD_BEFORE = frozenset({"field", "column", "property", "attribute", "variable", "param", "parameter",
                           "key"})


def _names_data(tokens: list[str], after: int, data_words: frozenset, start: int = -1) -> bool:
    """The term ending before `after` (starting at `start`) names a field: "latency_ms column",
    "field p99"."""
    for k in range(max(0, start - 2), max(0, start)):
        if tokens[k] in _FIELD_BEFORE and _BOUNDARY not in tokens[k:start]:
            return True
    if after + 1 < len(tokens) and tokens[after] in ("and", "or"):
        after += 2  # "p95 and p99 columns": the field word closes the whole list
    for k in range(after, min(after + 2, len(tokens))):
        if tokens[k] in data_words:
            return True
        if tokens[k] == _BOUNDARY:
            return False
    return False


def route(prompt: str, rules: RuleSet) -> Decision:
    """Score `prompt` for every agent; the best one at or above its threshold wins (then priority).

    With a model in the rules (the second stage, perfpack.route.model), the model decides instead, with
    the rules' scores among its features.
    """
    tokens = tokenize(strip_code_and_logs(prompt))
    if not tokens:
        return Decision(None, 0.0, [], {}, [])
    mask, best, scores, vetoes = _score_rules(tokens, rules)
    if rules.model is not None:
        return _second_stage(tokens, mask, scores, vetoes, rules, rules.model)
    if best is None:
        return Decision(None, max(scores.values(), default=0.0), [], scores, vetoes)
    (score, _), rule, terms = best
    return Decision(rule.name, score, terms, scores, vetoes, rule.summary)


def prompt_features(prompt: str, rules: RuleSet) -> set[str]:
    """The second stage's features of `prompt` (for training the model on the same view the hook has)."""
    from perfpack.route.model import features

    tokens = tokenize(strip_code_and_logs(prompt))
    if not tokens:
        return set()
    mask, _, scores, vetoes = _score_rules(tokens, rules)
    return features(tokens, mask, scores, bool(vetoes))


def _score_rules(tokens: list[str],
                 rules: RuleSet) -> tuple[list[bool], tuple | None, dict[str, float], list]:
    """(mask of words that do not count, the best rule match or None, every agent's score, vetoes)."""
    vetoes = [entry[0] for _, _, entry in _find(tokens, rules.veto)]
    mask = _negation_mask(tokens, rules)
    for start, end, _ in _find(tokens, rules.exclude):
        for k in range(start, end):
            mask[k] = True
    best: tuple | None = None
    scores: dict[str, float] = {}
    cleaned = None
    for rule in rules.rules:
        terms: dict[str, float] = {}
        for i, token in enumerate(tokens):
            if mask[i]:
                continue
            weight = rule.keywords.get(token)
            if weight is not None and not _names_data(tokens, i + 1, rules.data_words, i):
                terms[token] = weight
            for prefix, pweight in rule.prefixes:
                if token.startswith(prefix):
                    terms[prefix + "*"] = pweight
        for start, end, (text, weight) in _find(tokens, rule.phrases, mask):
            if not _names_data(tokens, end, rules.data_words, start):
                terms[text] = weight
        if rule.patterns:
            if cleaned is None:
                cleaned = " ".join(t for t, m in zip(tokens, mask, strict=True) if not m)
            terms.update(_search_patterns(rule.patterns, cleaned))
        score = round(sum(terms.values()), 3)
        scores[rule.name] = score
        if vetoes or score < rule.threshold or score <= 0:
            continue
        key = (score, rule.priority)
        if best is None or key > best[0]:
            ordered = sorted(terms, key=lambda t: (-terms[t], t))
            best = (key, rule, ordered)
    return mask, best, scores, vetoes


def _second_stage(tokens: list[str], mask: list[bool], scores: dict[str, float], vetoes: list[str],
                  rules: RuleSet, model: "Model") -> Decision:
    """The model decides, with the rules' scores among its features; a veto still stops everything."""
    from perfpack.route.model import features

    agent, probability, terms = model.decide(features(tokens, mask, scores, bool(vetoes)))
    if vetoes or agent is None:
        return Decision(None, round(probability, 3), [], scores, vetoes)
    summary = next((rule.summary for rule in rules.rules if rule.name == agent), "")
    return Decision(agent, round(probability, 3), terms, scores, vetoes, summary)


CACHE_NAME = "routes.cache"  # marshal of the indexed rules, next to an installed routes.json
PLUGIN_CACHE_NAME = "plugin-routes.cache"  # the same for a routes.json outside .claude/perfpack


def load_rules(path: str, *, use_cache: bool = False, cache_folder: str = "") -> RuleSet:
    """Read a compiled routes.json. Raises OSError/ValueError/KeyError/TypeError when it is unusable.

    With `use_cache` (the hook), the indexed rules are also kept in a marshal file, keyed by the rules
    file's path, size and mtime: loading that is several times faster than parsing JSON and indexing the
    phrases on every prompt. The cache lies beside an installed routes.json (a `.claude/perfpack` folder);
    a routes.json elsewhere (the plugin's own hooks/routes.json, whose folder may be read-only) is cached
    in `cache_folder` (the hook's private state folder) under a name of its own.
    """
    cache = None
    absolute = lightos.absolute(path)
    folder = lightos.dirname(absolute)
    # Never through a symlinked folder.
    if (use_cache and lightos.basename(folder) == "perfpack" and lightos.is_real_dir(folder)
            and lightos.is_real_dir(lightos.dirname(folder))):
        cache = lightos.join(folder, CACHE_NAME)
    elif use_cache and cache_folder:
        cache = lightos.join(cache_folder, PLUGIN_CACHE_NAME)
    if cache is not None:
        stat = lightos.stat(path)
        key = (RULES_VERSION, "with-model", absolute, stat.st_size, stat.st_mtime_ns)
        cached = _read_cache(cache, key)
        if cached is not None:
            return cached
    raw = lightos.read_regular(path, 4 * 1024 * 1024)  # a FIFO or a device is an OSError, not a hang
    if len(raw) > 4 * 1024 * 1024:
        raise ValueError("routes file larger than 4 MB")
    rules = RuleSet(loads(raw.decode("utf-8")))
    if cache is not None:
        _write_cache(cache, key, rules)
    return rules


def _read_cache(cache: str, key: tuple) -> RuleSet | None:
    import marshal  # built in: already loaded by the interpreter's start-up

    try:
        stored_key, plain = marshal.loads(lightos.read_regular(cache, 8 * 1024 * 1024, follow_symlinks=False))
        return RuleSet.from_plain(plain) if stored_key == key else None
    except Exception:  # a missing, stale or corrupt cache is rebuilt from the JSON
        return None


def _write_cache(cache: str, key: tuple, rules: RuleSet) -> None:
    import marshal

    try:  # a derived file, rebuilt when lost: all-or-nothing rename, no fsync, no `os` import
        lightos.replace_file(cache, marshal.dumps((key, rules.to_plain())))
    except Exception:  # read-only folder: just no cache
        pass


def default_rules_path(cwd: str | None = None) -> str | None:
    """$CLAUDE_PROJECT_DIR/.claude/perfpack/routes.json, else the payload's cwd's, else None."""
    for root in (lightos.getenv("CLAUDE_PROJECT_DIR"), cwd):
        if root:
            candidate = lightos.join(root, ".claude", "perfpack", "routes.json")
            if lightos.is_file(candidate):
                return candidate
    return None
