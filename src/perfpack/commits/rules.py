"""The atomic-commit rules: policy from configuration, message parsing, and the checks themselves.

Standard library only (re, fnmatch): the PreToolUse hook imports this on every `git commit`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from perfpack import rules as registry
from perfpack.errors import PerfpackError
from perfpack.findings import ERROR, Finding

# The rules, registered in perfpack's one registry (perfpack.rules). Ids are stable: users select or ignore
# rules by id (or name) in [tool.perfpack.commits] `select` / `ignore` (`disable` is kept as an alias).
_RULES = (
    registry.Rule(
        "PC101", "max-files", ERROR,
        "More files than `max-files` (default 5), not counting `exclude` globs (lock and generated files).",
        why="A commit that touches many files usually mixes concerns: hard to review, bisect and revert.",
        fix="split it into commits of one concern each (`git add -p`, `git restore --staged PATH`)",
        family="commits"),
    registry.Rule(
        "PC102", "max-lines", ERROR,
        "More added + deleted lines than `max-lines` (default 500), same exclusions.",
        why="Large diffs hide mistakes in review; small commits keep each change verifiable.",
        fix="split it into smaller commits; a generated or lock file's glob goes in `exclude`",
        family="commits"),
    registry.Rule(
        "PC201", "mixed-concerns", ERROR,
        "A `mixed-words` word in the subject (default and, also, various): whole words, case-insensitive "
        "(\"Android\", \"expand\", \"sandbox\" do not match).",
        why="\"Add caching and fix tests\" is two commits: each concern should stand and revert alone.",
        fix="make one commit per concern, each with a subject that names only that change",
        family="commits"),
    registry.Rule(
        "PC301", "signed-off-by", ERROR,
        "No `Signed-off-by:` trailer (`require-signoff`, on by default as in the seed).",
        why="The project's convention certifies each commit's origin (Developer Certificate of Origin).",
        fix="commit with `git commit -s` (or `git commit --amend -s --no-edit` for the last commit)",
        family="commits"),
    registry.Rule(
        "PC302", "assisted-by-format", ERROR,
        "An `Assisted-By:` trailer in none of the accepted formats; also `Assisted By:` (a key with a space "
        "is not a trailer) or an `Assisted-By:` line outside the final trailer block.",
        why="A malformed trailer is not machine-readable: tools that count assisted commits miss it.",
        fix="write it as `Assisted-By: agent (model / a1b2c3d)` or `Assisted-by: AGENT:MODEL [TOOLS]`",
        family="commits"),
    registry.Rule(
        "PC303", "assisted-by-missing", ERROR,
        "No `Assisted-By:` trailer while `require-assisted-by = true` (off by default).",
        why="The project asks every agent-assisted commit to say so.",
        fix="add `Assisted-By: agent (model / a1b2c3d)` to the trailer block",
        family="commits"),
)
registry.register(*_RULES)

DEFAULT_EXCLUDE = [
    "*.lock", "package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock", "go.sum",
    "*.min.js", "*.min.css", "*.map", "*_pb2.py", "*_pb2.pyi", "*.pb.go", "*.snap",
]
SKIP_KINDS = ("merge", "revert", "fixup", "squash", "amend")
ASSISTED_FORMATS = ("seed", "kernel")

# `Assisted-By: agent-name (model / shorthash)` — the seed's form.
_SEED_RE = re.compile(r"^(?P<agent>[A-Za-z0-9][\w.+-]*) "
                      r"\((?P<model>[^\s()/][^()/]*?) / (?P<hash>[0-9a-fA-F]{7,40})\)$")
# `Assisted-by: AGENT:MODEL [TOOL ...]` — the Linux kernel's form for coding assistants.
_KERNEL_RE = re.compile(r"^(?P<agent>[A-Za-z0-9][\w.+-]*):(?P<model>[\w.+/-]+)(?P<tools>(?: +[^\s]+)*)$")
_FORMAT_RES = {"seed": _SEED_RE, "kernel": _KERNEL_RE}
_FORMAT_EXAMPLES = {"seed": "Assisted-By: perf-engineer (claude-sonnet-4 / a1b2c3d)",
                    "kernel": "Assisted-by: Claude:claude-sonnet-4 ruff"}

_TRAILER_RE = re.compile(r"^(?P<key>[A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(?P<value>.*)$")
_ASSISTED_WORD_RE = re.compile(r"assisted", re.IGNORECASE)
_ALMOST_ASSISTED_RE = re.compile(r"^\s*assisted[ _-]by\s*:", re.IGNORECASE)

# [tool.perfpack.commits] keys -> (Policy attribute, type). Old spellings are aliases.
CONFIG_KEYS: dict[str, tuple[str, type]] = {
    "max-files": ("max_files", int), "max-lines": ("max_lines", int), "mixed-words": ("mixed_words", list),
    "require-signoff": ("require_signoff", bool), "require-assisted-by": ("require_assisted_by", bool),
    "assisted-by-formats": ("assisted_by_formats", list), "skip": ("skip", list),
    "exclude": ("exclude", list), "extra-exclude": ("exclude", list),
    "select": ("select", list), "ignore": ("ignore", list), "hook-mode": ("hook_mode", str),
}
CONFIG_ALIASES = {"disable": "ignore", "extra-ignore": "extra-exclude"}


@dataclass
class Policy:
    """What a project asks of its commits; built from `[tool.perfpack.commits]` by `Policy.from_config`."""

    max_files: int = 5
    max_lines: int = 500
    mixed_words: list[str] = field(default_factory=lambda: ["and", "also", "various"])
    require_signoff: bool = True
    require_assisted_by: bool = False
    assisted_by_formats: list[str] = field(default_factory=lambda: list(ASSISTED_FORMATS))
    skip: list[str] = field(default_factory=lambda: list(SKIP_KINDS))
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))  # files that do not count
    select: list[str] = field(default_factory=list)  # rule ids to run (empty: all)
    ignore: list[str] = field(default_factory=list)  # rule ids not to run
    hook_mode: str = "context"  # context: add advice for the agent; deny: refuse the tool call

    _mixed_re: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _excluded_cache: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Policy:
        """Build a policy from a config table; unknown keys and wrong types are errors naming the key."""
        from perfpack.project import check_config_keys

        config = check_config_keys("commits", config, CONFIG_KEYS, CONFIG_ALIASES)
        policy = cls()
        for key, value in config.items():
            attribute, kind = CONFIG_KEYS[key]
            if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise PerfpackError(f"configuration [commits]: {key} must be a whole number >= 0, "
                                    f"not {value!r}")
            if kind is not int and not isinstance(value, kind):
                raise PerfpackError(f"configuration [commits]: {key} must be a {kind.__name__}, "
                                    f"not {value!r}")
            if kind is list and not all(isinstance(item, str) for item in value):
                raise PerfpackError(f"configuration [commits]: {key} must be a list of strings")
            if key == "extra-exclude":
                value = policy.exclude + list(value)
            setattr(policy, attribute, value)
        bad = set(policy.assisted_by_formats) - set(ASSISTED_FORMATS)
        if bad or not policy.assisted_by_formats:
            raise PerfpackError(f"configuration [commits]: assisted-by-formats must be a non-empty subset of "
                                f"{list(ASSISTED_FORMATS)}, not {policy.assisted_by_formats!r}")
        if set(policy.skip) - set(SKIP_KINDS):
            raise PerfpackError(f"configuration [commits]: skip may hold only {list(SKIP_KINDS)}, "
                                f"not {sorted(set(policy.skip) - set(SKIP_KINDS))}")
        if policy.hook_mode not in ("context", "deny"):
            raise PerfpackError(f"configuration [commits]: hook-mode must be \"context\" or \"deny\", "
                                f"not {policy.hook_mode!r}")
        for key in ("select", "ignore"):
            try:
                setattr(policy, key, sorted(registry.select(getattr(policy, key), "commits")))
            except PerfpackError as exc:
                hint = exc.hint
                if key == "ignore" and any(ch in "".join(getattr(policy, key)) for ch in "*./"):
                    hint = "`ignore` names rules; file globs that do not count go in `exclude`"
                raise PerfpackError(f"configuration [commits]: {key}: {exc.message}", hint=hint) from None
        return policy

    def enabled(self, rule_id: str) -> bool:
        return (not self.select or rule_id in self.select) and rule_id not in self.ignore

    @property
    def mixed_re(self) -> re.Pattern[str] | None:
        if self._mixed_re is None and self.mixed_words:
            words = "|".join(re.escape(word) for word in self.mixed_words if word)
            # Whole words only: "Android" and "expand" contain "and" but are not a second concern.
            self._mixed_re = re.compile(rf"(?<![\w])(?:{words})(?![\w])", re.IGNORECASE)
        return self._mixed_re

    def excluded(self, path: str) -> bool:
        """True for files that do not count toward size (lock files, generated code).

        A glob matches the whole path (`*` crosses `/`) or the file's name: `*.lock` matches `a/b/x.lock`.
        """
        cache = self._excluded_cache
        if cache is None or cache[0] != self.exclude:
            # One compiled regex for all globs, and a per-path memo: paths repeat across a history.
            joined = "|".join(fnmatch.translate(pattern) for pattern in self.exclude) or r"(?!)"
            cache = self._excluded_cache = (list(self.exclude), re.compile(joined), {})
        memo = cache[2]
        hit = memo.get(path)
        if hit is None:
            hit = memo[path] = bool(cache[1].match(path) or cache[1].match(path.rsplit("/", 1)[-1]))
        return hit


@dataclass
class FileChange:
    """One file in a commit's diff. Binary files have added = deleted = 0 (numstat prints `-`)."""

    path: str
    added: int
    deleted: int
    binary: bool = False
    old_path: str | None = None  # set for a rename or copy (detected with -M)


@dataclass
class CommitInfo:
    """What the rules need about one commit (or a staged change, or a message file)."""

    ref: str  # short hash, "(staged)", or the message file's path
    message: str
    parents: list[str] = field(default_factory=list)
    files: list[FileChange] | None = None  # None: size not known (message-only check)
    ref_kind: str = "commit"  # commit | staged | message
    full_hash: str = ""


@dataclass
class Message:
    subject: str
    subject_line: int
    trailers: list[tuple[str, str, int]]  # key, value, line number (1-based)
    lines: list[str]


def clean_message(text: str) -> str:
    """Strip what git strips from a commit-msg file: comment lines, and everything below a scissors line."""
    out = []
    for line in text.splitlines():
        if line.startswith("# ------------------------ >8 ------------------------"):
            break
        if line.startswith("#"):
            out.append("")  # keep line numbers stable for findings
            continue
        out.append(line)
    return "\n".join(out)


def parse_message(text: str) -> Message:
    """Subject (first non-blank line) and the trailers of the last paragraph, with line numbers."""
    lines = text.replace("\r\n", "\n").split("\n")
    subject, subject_line = "", 1
    first = -1
    for index, line in enumerate(lines):
        if line.strip():
            subject, subject_line, first = line.strip(), index + 1, index
            break
    # Only the last paragraph can hold trailers, and never when it is the subject's own paragraph.
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and lines[start - 1].strip():
        start -= 1
    has_earlier = 0 <= first < start
    trailers: list[tuple[str, str, int]] = []
    if has_earlier and end > start:
        block = lines[start:end]
        found = []
        shaped = 0
        for offset, line in enumerate(block):
            match = _TRAILER_RE.match(line)
            if match:
                shaped += 1
                found.append((match["key"], match["value"].strip(), start + offset + 1))
            elif line[:1] in (" ", "\t") and found:
                key, value, number = found[-1]
                found[-1] = (key, f"{value} {line.strip()}", number)  # continuation line
        # git's rule of thumb: a block is trailers if at least a quarter of its lines are trailer-shaped.
        if found and shaped * 4 >= len(block):
            trailers = found
    return Message(subject=subject, subject_line=subject_line, trailers=trailers, lines=lines)


def skip_reason(commit: CommitInfo, policy: Policy) -> str | None:
    """Why this commit is not checked (merge, revert, fixup!, squash!, amend!), or None."""
    subject = first_line(commit.message)
    kinds = policy.skip
    # A message file (commit-msg hook) has no parents to look at: recognise git's own merge subject.
    is_merge = len(commit.parents) > 1 or (commit.ref_kind == "message" and subject.startswith("Merge "))
    if "merge" in kinds and is_merge:
        return "merge"
    if "revert" in kinds and subject.startswith('Revert "'):
        return "revert"
    for kind in ("fixup", "squash", "amend"):
        if kind in kinds and subject.startswith(f"{kind}!"):
            return kind
    return None


def first_line(message: str) -> str:
    """The subject: the first non-blank line."""
    return message.lstrip().split("\n", 1)[0].strip()


def counted(files: Iterable[FileChange], policy: Policy) -> list[FileChange]:
    excluded = policy.excluded
    return [change for change in files if not excluded(change.path)]


@dataclass
class Subject:
    """What the rules look at for one commit: the commit, its parsed message, the policy."""

    commit: CommitInfo
    message: Message
    policy: Policy
    examples: str  # the accepted Assisted-By forms, as examples ("" when nothing asks about them)

    @property
    def line(self) -> int:
        return self.message.subject_line


# A check yields (line, message, fix) for each problem it sees; CHECKS maps a rule id to its check.
Problem = tuple[int, str, str]


def _max_files(subject: Subject) -> Iterator[Problem]:
    if subject.commit.files is None:
        return
    files = counted(subject.commit.files, subject.policy)
    if len(files) > subject.policy.max_files:
        yield (subject.line, f"{len(files)} files changed (limit {subject.policy.max_files}): "
               + _preview([change.path for change in files]),
               "split it into commits of one concern each: " + split_advice(files))


def _max_lines(subject: Subject) -> Iterator[Problem]:
    if subject.commit.files is None:
        return
    files = counted(subject.commit.files, subject.policy)
    total = sum(change.added + change.deleted for change in files)
    if total > subject.policy.max_lines:
        biggest = sorted(files, key=lambda change: -(change.added + change.deleted))[:3]
        yield (subject.line, f"{total} lines changed (limit {subject.policy.max_lines}); largest: "
               + ", ".join(f"{change.path} ({change.added + change.deleted})" for change in biggest),
               "split it into smaller commits; if a file is generated or a lock file, add its glob to "
               "`exclude` in [tool.perfpack.commits]")


def _mixed_concerns(subject: Subject) -> Iterator[Problem]:
    regex = subject.policy.mixed_re
    text = subject.message.subject
    if regex is None or not text:
        return
    words = sorted({match.group(0).lower() for match in regex.finditer(text)})
    if words:
        yield (subject.line, f"subject {text[:72]!r} contains {', '.join(repr(w) for w in words)}: "
               "likely more than one concern",
               "make one commit per concern, each with a subject that names only that change")


def _signed_off(subject: Subject) -> Iterator[Problem]:
    keys = {key.lower() for key, _, _ in subject.message.trailers}
    if subject.policy.require_signoff and "signed-off-by" not in keys:
        yield (subject.line, "no Signed-off-by trailer",
               "commit with `git commit -s` (or `git commit --amend -s --no-edit` for the last commit)")


def _assisted_by_format(subject: Subject) -> Iterator[Problem]:
    formats = subject.policy.assisted_by_formats
    for key, value, number in subject.message.trailers:
        if key.lower() == "assisted-by" and not any(_FORMAT_RES[name].match(value) for name in formats):
            yield (number, f"Assisted-By trailer {value!r} matches no accepted format ({', '.join(formats)})",
                   f"write it as {subject.examples}")
    if not subject.examples:
        return
    trailer_lines = {number for _, _, number in subject.message.trailers}
    for index, text in enumerate(subject.message.lines):
        if index + 1 not in trailer_lines and _ALMOST_ASSISTED_RE.match(text):
            yield (index + 1, f"{text.strip()[:60]!r} is not a git trailer (a key has no spaces, and "
                   "trailers must be in the last paragraph of the message)",
                   f"put it in the final trailer block as {subject.examples}")


def _assisted_by_missing(subject: Subject) -> Iterator[Problem]:
    assisted = any(key.lower() == "assisted-by" for key, _, _ in subject.message.trailers)
    if subject.policy.require_assisted_by and not assisted:
        yield subject.line, "no Assisted-By trailer", f"add one in the trailer block: {subject.examples}"


CHECKS: dict[str, Callable[[Subject], Iterator[Problem]]] = {
    "PC101": _max_files,
    "PC102": _max_lines,
    "PC201": _mixed_concerns,
    "PC301": _signed_off,
    "PC302": _assisted_by_format,
    "PC303": _assisted_by_missing,
}


def check_commit(commit: CommitInfo, policy: Policy) -> list[Finding]:
    """Every enabled rule on one commit, in rule order. The caller decides about skipping (`skip_reason`)."""
    message = parse_message(commit.message)
    asks = (policy.require_assisted_by or _ASSISTED_WORD_RE.search(commit.message)
            or any(key.lower() == "assisted-by" for key, _, _ in message.trailers))
    examples = ""
    if asks:
        examples = " or ".join(f"`{_FORMAT_EXAMPLES[name]}`" for name in policy.assisted_by_formats)
    subject = Subject(commit, message, policy, examples)
    context = None
    if commit.ref_kind == "commit":
        context = {"commit": commit.full_hash or commit.ref, "subject": message.subject}
    findings = []
    for rule_id, check in CHECKS.items():
        if not policy.enabled(rule_id):
            continue
        rule = registry.get(rule_id)
        for line, text, fix in check(subject):
            if context and rule_id != "PC201":  # name the commit by its subject too (PC201 quotes it already)
                text = f"{message.subject[:60]!r}: {text}"
            findings.append(rule.finding(commit.ref, line, 1, text, fix, context=context))
    return findings


def _preview(paths: list[str], limit: int = 6) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f", ... (+{len(paths) - limit} more)" if len(paths) > limit else "")


def split_advice(files: list[FileChange]) -> str:
    """Group the files by top-level folder: a first guess at how the change splits into concerns."""
    groups: dict[str, list[FileChange]] = {}
    for change in files:
        top = change.path.split("/", 1)[0] + "/" if "/" in change.path else "(top level)"
        groups.setdefault(top, []).append(change)
    parts = []
    for top, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        lines = sum(change.added + change.deleted for change in members)
        parts.append(f"{top} {len(members)} file(s), {lines} line(s)")
    return "; ".join(parts)
