"""Compiles the agents' routing triggers (agents/perfpack.toml) into the routes.json the prompt hook reads.

The triggers live in perfpack's own file beside the agents, [agents.NAME.triggers], not in the agents'
frontmatter: Claude Code 2.1.332 warns about every frontmatter key it does not apply. The hook must not
parse TOML or YAML (slow), so rules are turned into plain JSON here, ahead of time, by `perfpack install`
and `perfpack route --compile`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from perfpack.errors import PerfpackError
from perfpack.route.engine import DATA_WORDS, NEGATION_CUES, NEGATION_TAILS, RULES_VERSION, tokenize

TRIGGER_KEYS = {"keywords", "phrases", "patterns", "exclude", "veto", "threshold", "priority", "summary"}
MAX_WEIGHT = 100


MAX_PATTERN_CHARS = 200


def check_pattern(pattern: str, where: str) -> None:
    """Refuse a trigger regex outside the safe subset: one that can backtrack catastrophically.

    The hook runs every pattern on every prompt, so a pattern such as `(a+)+$` or `(a|aa)*b` would hang
    it. Allowed: anything `re` compiles, except a repeat (`*`, `+`, `{m,n}`) of something that itself
    repeats or alternates, and back-references. The engine also bounds the time all patterns may take.
    """
    import re._constants as const
    import re._parser as parser

    if len(pattern) > MAX_PATTERN_CHARS:
        raise PerfpackError(f"{where}: {pattern[:40]!r}...: longer than {MAX_PATTERN_CHARS} characters")
    try:
        parsed = parser.parse(pattern)
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise PerfpackError(f"{where}: {pattern!r} is not a valid regex: {exc}") from None
    repeats = {const.MAX_REPEAT, const.MIN_REPEAT, getattr(const, "POSSESSIVE_REPEAT", const.MAX_REPEAT)}

    def items(node: Any) -> Any:
        """(op, argument) pairs of a parsed (sub)pattern, depth-first."""
        for op, av in node:
            yield op, av
            if op in repeats:
                yield from items(av[2])
            elif op is const.SUBPATTERN:
                yield from items(av[-1])
            elif op is const.BRANCH:
                for branch in av[1]:
                    yield from items(branch)
            elif op in (const.ASSERT, const.ASSERT_NOT):
                yield from items(av[1])
            elif op is getattr(const, "ATOMIC_GROUP", None):
                yield from items(av)

    for op, av in items(parsed):
        if op in (const.GROUPREF, const.GROUPREF_EXISTS):
            raise PerfpackError(f"{where}: {pattern!r}: back-references are refused (they can take "
                                "exponential time on a prompt)")
        if op in repeats and any(inner in repeats or inner is const.BRANCH for inner, _ in items(av[2])):
            raise PerfpackError(f"{where}: {pattern!r}: a repeated group that itself repeats or "
                                "alternates (such as (a+)+ or (a|ab)*) is refused: it can backtrack for "
                                "minutes on one prompt", hint="repeat single characters or classes only, "
                                "e.g. \\bp(50|95|99)\\b or \\d+ms")


def _normalise_phrase(text: str, where: str) -> str:
    words = [w for w in tokenize(text.replace("*", " \x00 ")) if w != "|"]
    words = ["*" if w == "\x00" else w for w in words]
    if not words or all(w == "*" for w in words):
        raise PerfpackError(f"{where}: {text!r} has no words to match")
    if words[0].endswith("*") and len(words) > 1:
        raise PerfpackError(f"{where}: {text!r}: a phrase must start with a plain word, not a wildcard")
    return " ".join(words)


def _weights(value: Any, where: str) -> dict[str, float]:
    if value is None:
        return {}
    if isinstance(value, list):  # a plain list means weight 1 each
        value = {item: 1 for item in value}
    if not isinstance(value, dict):
        raise PerfpackError(f"{where}: must be a mapping of term -> weight, not {type(value).__name__}")
    result = {}
    for term, weight in value.items():
        if not isinstance(term, str) or not term.strip():
            raise PerfpackError(f"{where}: term {term!r} must be non-empty text")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= MAX_WEIGHT:
            raise PerfpackError(f"{where}: weight of {term!r} must be a number in (0, {MAX_WEIGHT}], "
                                f"not {weight!r}")
        result[term] = weight
    return result


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise PerfpackError(f"{where}: must be a list of non-empty strings")
    return value


def compile_triggers(name: str, triggers: Any, where: str) -> tuple[dict[str, Any], list[str], list[str]]:
    """One agent's triggers -> (compiled rule, its exclusions, its vetoes). PerfpackError when invalid."""
    if not isinstance(triggers, dict):
        raise PerfpackError(f"{where}: triggers must be a mapping, not {type(triggers).__name__}")
    unknown = sorted(set(triggers) - TRIGGER_KEYS)
    if unknown:
        raise PerfpackError(f"{where}: unknown key(s) in triggers: {', '.join(map(str, unknown))}",
                            hint=f"allowed: {', '.join(sorted(TRIGGER_KEYS))}")
    keywords: dict[str, float] = {}
    prefixes: dict[str, float] = {}
    phrases: dict[str, float] = {}
    for term, weight in _weights(triggers.get("keywords"), f"{where}: triggers.keywords").items():
        stripped = term.strip().lower()
        if stripped.endswith("*") and len(stripped) > 2 and stripped[:-1].isalnum():
            prefixes[stripped[:-1]] = weight  # "optimiz*": any word that starts with it
            continue
        normal = _normalise_phrase(term, f"{where}: triggers.keywords")
        if " " in normal:
            phrases[normal] = weight  # "memory leak" as a keyword is a phrase
        elif normal.endswith("*") and len(normal) > 2:
            prefixes[normal[:-1]] = weight
        else:
            keywords[normal] = weight
    for term, weight in _weights(triggers.get("phrases"), f"{where}: triggers.phrases").items():
        normal = _normalise_phrase(term, f"{where}: triggers.phrases")
        (phrases if " " in normal or normal == "*" else keywords)[normal] = weight
    patterns = _weights(triggers.get("patterns"), f"{where}: triggers.patterns")
    for pattern in patterns:
        check_pattern(pattern, f"{where}: triggers.patterns")
    threshold = triggers.get("threshold", 3)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1000:
        raise PerfpackError(f"{where}: triggers.threshold must be a number in (0, 1000], not {threshold!r}")
    priority = triggers.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise PerfpackError(f"{where}: triggers.priority must be an integer, not {priority!r}")
    summary = triggers.get("summary", "")
    if not isinstance(summary, str) or len(summary) > 120:
        raise PerfpackError(f"{where}: triggers.summary must be text of at most 120 characters")
    if not (keywords or prefixes or phrases or patterns):
        raise PerfpackError(f"{where}: triggers has no keywords, phrases or patterns")
    exclude = [_normalise_phrase(t, f"{where}: triggers.exclude")
               for t in _strings(triggers.get("exclude"), f"{where}: triggers.exclude")]
    veto = [_normalise_phrase(t, f"{where}: triggers.veto")
            for t in _strings(triggers.get("veto"), f"{where}: triggers.veto")]
    rule = {"name": name, "summary": summary.strip(), "threshold": threshold, "priority": priority,
            "keywords": dict(sorted(keywords.items())), "prefixes": dict(sorted(prefixes.items())),
            "phrases": dict(sorted(phrases.items())), "patterns": dict(sorted(patterns.items()))}
    return rule, exclude, veto


MODEL_FILE = "route-model.json"  # in the pack's hooks/ folder, beside agents/


def compile_agents(agents_dir: Path, *, model: Path | None | bool = True) -> dict[str, Any]:
    """Build the routes document from agents_dir/perfpack.toml's [agents.NAME.triggers] tables.

    Every NAME must be an agent file of agents_dir (its `name:`, else its file name). `model`: the second
    stage's model file to embed; True = the pack's own (agents_dir/../hooks/route-model.json) when it
    exists; False or None = rules only.
    """
    from perfpack.packmeta import read_pack_meta

    agents_dir = Path(agents_dir)
    if not agents_dir.is_dir():
        raise PerfpackError(f"{agents_dir}: not a folder of agent files")
    meta = read_pack_meta(agents_dir)
    names = agent_names(agents_dir)
    rules: list[dict[str, Any]] = []
    exclude: set[str] = set()
    veto: set[str] = set()
    for name, agent in sorted(meta.agents.items()):
        if not agent.triggers:
            continue
        where = f"{meta.path}:{meta.line_of('agents', name, 'triggers')}"
        if name not in names:
            raise PerfpackError(f"{where}: triggers for {name!r}, which is not an agent in {agents_dir}",
                                hint=f"agents there: {', '.join(sorted(names)) or 'none'}")
        rule, excl, vet = compile_triggers(name, agent.triggers, where)
        rules.append(rule)
        exclude.update(excl)
        veto.update(vet)
    document = {"version": RULES_VERSION, "generated_by": "perfpack route --compile",
                "agents": sorted(rules, key=lambda r: r["name"]), "exclude": sorted(exclude),
                "veto": sorted(veto), "negation_cues": list(NEGATION_CUES),
                "negation_tails": list(NEGATION_TAILS),
                "data_words": list(DATA_WORDS)}
    if model is True:
        model = agents_dir.parent / "hooks" / MODEL_FILE
        model = model if model.is_file() else None
    if model:
        document["model"] = read_model(Path(model), {rule["name"] for rule in rules})
    return document


def agent_names(agents_dir: Path) -> set[str]:
    """The names of agents_dir's agent files. An agent that still carries perfpack's keys in its
    frontmatter is refused: they belong in perfpack.toml (Claude Code 2.1.332 warns about them)."""
    from perfpack.frontmatter import read_frontmatter
    from perfpack.packmeta import AGENT_KEYS, FILE_NAME

    names = set()
    for path in sorted(Path(agents_dir).glob("*.md")):
        front = read_frontmatter(path)
        if front.unreadable:
            raise PerfpackError(f"{path}: {front.unreadable}")
        if front.error:
            raise PerfpackError(f"{path}:{front.error.line}: invalid frontmatter YAML: {front.error.message}")
        data = front.data or {}
        name = data.get("name") or path.stem
        if not isinstance(name, str):
            raise PerfpackError(f"{path}: name must be text")
        for key in AGENT_KEYS:
            if key in data:
                line = front.positions[key].line if key in front.positions else 1
                raise PerfpackError(f"{path}:{line}: `{key}:` belongs in {agents_dir / FILE_NAME}, not in "
                                    "the agent's frontmatter (Claude Code warns about keys it does not "
                                    "apply)",
                                    hint=f"move it to [agents.{name}] in {FILE_NAME} (docs/agents.md)")
        names.add(name)
    return names


def read_model(path: Path, agents: set[str]) -> dict[str, Any]:
    """The model document at `path`, checked: it must load, and name only agents that have triggers."""
    from perfpack.route.model import NONE, Model

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        Model(document)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PerfpackError(f"{path}: not a usable route model ({exc})",
                            hint="rebuild it: python scripts/train_route_model.py") from None
    unknown = set(document["classes"]) - agents - {NONE}
    if unknown:
        raise PerfpackError(f"{path}: the model routes to agents without triggers: "
                            f"{', '.join(sorted(unknown))}",
                            hint="retrain it after renaming or removing agents: "
                                 "python scripts/train_route_model.py")
    return document


def render_routes(document: dict[str, Any]) -> str:
    # One agent or section a line: diffable, and compact enough that the hook parses it in ~0.1 ms.
    # (The model, when there is one, is one long line; the hook reads it from its marshal cache.)
    # allow_nan=False: NaN/Infinity is not JSON; whatever let one through is refused here, not shipped.
    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)

    lines = [f"{json.dumps(key)}:{compact(value)}" for key, value in document.items() if key != "agents"]
    agents = ",\n".join(compact(rule) for rule in document["agents"])
    return "{" + ",\n".join(lines) + ',\n"agents":[\n' + agents + "\n]}\n"


def write_routes(agents_dir: Path, out_path: Path) -> Path:
    """Compile agents_dir's triggers (perfpack.toml) to out_path (atomic write). Returns out_path.
    Raises PerfpackError."""
    from perfpack.fsutil import atomic_write_text

    text = render_routes(compile_agents(agents_dir))
    out_path = Path(out_path)
    try:
        atomic_write_text(out_path, text, mode=None if out_path.exists() else 0o644)
    except OSError as exc:
        raise PerfpackError(f"{out_path}: cannot write routes: {exc.strerror or exc}") from None
    return out_path
