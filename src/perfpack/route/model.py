"""The second routing stage: a small linear classifier over the prompt's words and the rules' scores.

Keyword rules match what they list and nothing else; on prompts written by people who never saw them they
missed about half of the performance requests (docs/routing.md). This model reads the same cleaned words
(code, logs, negated clauses and exclusions marked), their pairs and the rules' per-agent scores, and gives
a probability for "no agent" and for each agent. It is trained offline by `scripts/train_route_model.py`
on the labelled prompts in tests/data (multinomial logistic regression, deterministic), shipped as
hooks/route-model.json and embedded in the compiled routes.json, so the hook reads no extra file.

Standard library only, no `re`/`json` (nor `from __future__`, ~0.5 ms): it runs inside the hook.
"""

MODEL_VERSION = 1
NONE = "none"  # the class for "no performance agent"
_E = 2.718281828459045


def features(tokens: list[str], mask: list[bool], scores: dict[str, float], vetoed: bool) -> set[str]:
    """The prompt's features: words, word pairs within a clause, and the rules' evidence.

    A masked word (inside a negated clause or an exclusion phrase) is prefixed "!"; a number is "<n>";
    the `|` clause boundary starts a new pair chain ("^ word" marks a clause's first word).
    """
    found: set[str] = set()
    previous = "^"
    for token, masked in zip(tokens, mask, strict=True):
        if token == "|":
            previous = "^"
            continue
        word = "<n>" if token[:1].isdigit() else token
        if masked:
            word = "!" + word
        found.add(word)
        found.add(previous + " " + word)
        previous = word
    for agent, score in scores.items():
        if score > 0:
            found.add(f"rules:{agent}:" + ("high" if score >= 6 else "match" if score >= 3 else "weak"))
    if vetoed:
        found.add("rules:veto")
    return found


class Model:
    """Weights per feature and class; `threshold` on P(some agent) decides whether to suggest one.

    In memory the weights are one float32 block (a row of len(classes) per feature) and a feature -> row
    index: the hook's marshal cache then loads in ~1 ms, where a dict of tuples took ~5 ms.
    """

    __slots__ = ("classes", "bias", "index", "block", "values", "threshold")

    def __init__(self, data: dict) -> None:
        if not isinstance(data, dict) or data.get("version") != MODEL_VERSION:
            raise ValueError("not a perfpack route model of version 1")
        self.classes = [str(name) for name in data["classes"]]
        if not self.classes or self.classes[0] != NONE:
            raise ValueError("a route model's first class must be 'none'")
        width = len(self.classes)
        self.bias = tuple(float(value) for value in data["bias"])
        rows = sorted(data["weights"].items())
        if len(self.bias) != width or any(len(row) != width for _, row in rows):
            raise ValueError("route model weights do not match its classes")
        self.index = {str(name): number for number, (name, _) in enumerate(rows)}
        import struct  # only when reading routes.json; the hook normally loads the block from its cache

        self.block = struct.pack(f"={width * len(rows)}f", *(float(v) for _, row in rows for v in row))
        self.values = memoryview(self.block).cast("f")
        self.threshold = float(data["threshold"])

    def to_plain(self) -> tuple:
        return (self.classes, self.bias, self.index, self.block, self.threshold)

    @classmethod
    def from_plain(cls, plain: tuple) -> "Model":
        self = cls.__new__(cls)
        self.classes, self.bias, self.index, self.block, self.threshold = plain
        self.values = memoryview(self.block).cast("f")
        return self

    def row(self, name: str) -> list[float] | None:
        number = self.index.get(name)
        if number is None:
            return None
        width = len(self.classes)
        return list(self.values[number * width:(number + 1) * width])

    def probabilities(self, found: set[str]) -> list[float]:
        """P(class) for each of self.classes (softmax of the summed weights)."""
        totals = list(self.bias)
        width = len(totals)
        index, values = self.index, self.values
        for name in found:
            number = index.get(name)
            if number is not None:
                base = number * width
                for k in range(width):
                    totals[k] += values[base + k]
        top = max(totals)
        exps = [_E ** (value - top) for value in totals]  # no `import math` on the hook path
        whole = sum(exps)
        return [value / whole for value in exps]

    def decide(self, found: set[str]) -> tuple[str | None, float, list[str]]:
        """(agent or None, P(some agent), the features that pushed most toward that agent)."""
        probs = self.probabilities(found)
        p_agent = 1.0 - probs[0]
        if p_agent < self.threshold:
            return None, p_agent, []
        best = max(range(1, len(self.classes)), key=lambda k: probs[k])
        pushes = []
        for name in found:
            row = self.row(name)
            if row is not None and row[best] - row[0] > 0 and not name.startswith(("rules:", "!")):
                pushes.append((row[best] - row[0], name))
        pushes.sort(reverse=True)
        candidates: list[str] = []
        for _, name in pushes:
            term = _readable(name)
            if term and term not in candidates:
                candidates.append(term)
            if len(candidates) == 8:
                break
        # Two words that the model also weighs as a pair read better as the phrase: "takes forever",
        # not "takes", "forever"; a word inside a chosen phrase is not repeated.
        pushing = {name for _, name in pushes}
        terms: list[str] = []
        for term in candidates:
            if any(term in chosen.split(" ") for chosen in terms):
                continue
            for i, chosen in enumerate(terms):
                pair = next((p for p in (f"{chosen} {term}", f"{term} {chosen}") if p in pushing), None)
                if " " not in chosen and pair:
                    terms[i] = pair
                    break
            else:
                terms.append(term)
        phrase_words = {word for chosen in terms if " " in chosen for word in chosen.split(" ")}
        terms = [term for term in dict.fromkeys(terms) if " " in term or term not in phrase_words]
        return self.classes[best], p_agent, terms[:4]


_FILLERS = frozenset(["a", "an", "the", "is", "are", "was", "be", "it", "its", "this", "that", "to", "of",
                      "in", "on", "at", "for", "and", "or", "so", "my", "our", "we", "i", "you", "can", "why",
                      "what", "how", "do", "does", "with", "under", "from", "up"])


def _readable(name: str) -> str:
    """A feature as the words a person would recognise: "^ why" -> "why", "<n> seconds" -> "N seconds",
    "the checkout" -> "checkout".

    Filler words are weights of the model but no explanation: they are trimmed from the ends, and a
    feature of filler words alone ("is", "the") gives "".
    """
    words = [word for word in name.split(" ") if word != "^" and not word.startswith("!")]
    while words and words[0] in _FILLERS:
        words.pop(0)
    while words and words[-1] in _FILLERS:
        words.pop()
    return " ".join("N" if word == "<n>" else word for word in words)


def train(examples: list[tuple[set[str], int]], classes: list[str], *, epochs: int = 25, rate: float = 0.1,
          l2: float = 1e-4, min_count: int = 2, min_weight: float = 0.2, seed: int = 7) -> dict:
    """Fit multinomial logistic regression by SGD; returns the model document (JSON-ready).

    examples: (features, index of the true class). Features seen fewer than `min_count` times are dropped,
    and so are features whose weights all stay under `min_weight`: the hook loads every kept weight on
    each prompt (~0.75 ms per 1,000 features); at 0.2 no decision on the training prompts changes.
    Deterministic for a given input and seed.
    """
    import math
    import random

    counts: dict[str, int] = {}
    for found, _ in examples:
        for name in found:
            counts[name] = counts.get(name, 0) + 1
    kept = {name for name, count in counts.items() if count >= min_count}
    data = [(sorted(found & kept), label) for found, label in examples]
    width = len(classes)
    weights: dict[str, list[float]] = {name: [0.0] * width for name in sorted(kept)}
    bias = [0.0] * width
    order = random.Random(seed)
    for epoch in range(epochs):
        order.shuffle(data)
        step = rate / (1 + epoch * 0.2)
        for names, label in data:
            totals = list(bias)
            for name in names:
                row = weights[name]
                for k in range(width):
                    totals[k] += row[k]
            top = max(totals)
            exps = [math.exp(value - top) for value in totals]
            whole = sum(exps)
            for k in range(width):
                gradient = exps[k] / whole - (1.0 if k == label else 0.0)
                bias[k] -= step * gradient
                for name in names:
                    row = weights[name]
                    row[k] -= step * (gradient + l2 * row[k])
    rounded = {}
    for name, row in weights.items():
        values = [round(value, 3) for value in row]
        if max(abs(value) for value in values) >= min_weight:
            rounded[name] = values
    return {"version": MODEL_VERSION, "classes": classes, "bias": [round(b, 4) for b in bias],
            "threshold": 0.5, "weights": rounded}
