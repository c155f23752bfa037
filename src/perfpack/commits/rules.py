"""The atomic-commit rules: policy from configuration, message parsing, and the checks themselves.

Standard library only (re, fnmatch): the PreToolUse hook imports this on every `git commit`.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from perfpack import rules as registry
from perfpack.errors import PerfpackError
from perfpack.findings import ERROR, Finding

# rule id -> (short name, description). Ids are stable: users silence rules by id with `disable`.
RULES: dict[str, tuple[str, str]] = {
    "PC101": ("max-files", "A commit changes more files than `max-files` (lock/generated files excluded)."),
    "PC102": ("max-lines", "A commit changes more lines (added + deleted) than `max-lines`."),
    "PC201": ("mixed-concerns", "The subject has a word that signals several concerns (and / also / various)."),
    "PC301": ("signed-off-by", "No `Signed-off-by:` trailer (use `git commit -s`)."),
    "PC302": ("assisted-by-format", "An `Assisted-By:` trailer that matches none of the accepted formats."),
    "PC303": ("assisted-by-missing", "No `Assisted-By:` trailer although `require-assisted-by` is on."),
}
registry.register(*(registry.Rule(rule_id, name, ERROR, summary, family="commits")
                    for rule_id, (name, summary) in RULES.items()))

DEFAULT_IGNORE = [
    "*.lock", "package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock", "go.sum",
    "*.min.js", "*.min.css", "*.map", "*_pb2.py", "*_pb2.pyi", "*.pb.go", "*.snap",
]
SKIP_KINDS = ("merge", "revert", "fixup", "squash", "amend")
ASSISTED_FORMATS = ("seed", "kernel")

# `Assisted-By: agent-name (model / shorthash)` — the seed's form.
_SEED_RE = re.compile(r"^(?P<agent>[A-Za-z0-9][\w.+-]*) \((?P<model>[^\s()/][^()/]*?) / (?P<hash>[0-9a-fA-F]{7,40})\)$")
# `Assisted-by: AGENT:MODEL [TOOL ...]` — the Linux kernel's form for coding assistants.
_KERNEL_RE = re.compile(r"^(?P<agent>[A-Za-z0-9][\w.+-]*):(?P<model>[\w.+/-]+)(?P<tools>(?: +[^\s]+)*)$")
_FORMAT_RES = {"seed": _SEED_RE, "kernel": _KERNEL_RE}
_FORMAT_EXAMPLES = {"seed": "Assisted-By: perf-engineer (claude-sonnet-4 / a1b2c3d)",
                    "kernel": "Assisted-by: Claude:claude-sonnet-4 ruff"}

_TRAILER_RE = re.compile(r"^(?P<key>[A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(?P<value>.*)$")
_ASSISTED_WORD_RE = re.compile(r"assisted", re.IGNORECASE)
_ALMOST_ASSISTED_RE = re.compile(r"^\s*assisted[ _-]by\s*:", re.IGNORECASE)


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
    ignore: list[str] = field(default_factory=lambda: list(DEFAULT_IGNORE))
    disable: list[str] = field(default_factory=list)
    hook_mode: str = "context"  # context: add advice for the agent; deny: refuse the tool call

    _mixed_re: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _ignored_cache: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Policy":
        """Build a policy from a config table; unknown keys and wrong types are errors naming the key."""
        policy = cls()
        known = {
            "max-files": ("max_files", int), "max-lines": ("max_lines", int),
            "mixed-words": ("mixed_words", list), "require-signoff": ("require_signoff", bool),
            "require-assisted-by": ("require_assisted_by", bool),
            "assisted-by-formats": ("assisted_by_formats", list), "skip": ("skip", list),
            "ignore": ("ignore", list), "extra-ignore": ("ignore", list), "disable": ("disable", list),
            "hook-mode": ("hook_mode", str),
        }
        for key, value in config.items():
            if key not in known:
                raise PerfpackError(f"configuration [commits]: unknown key {key!r}",
                                    hint="known keys: " + ", ".join(sorted(known)))
            attribute, kind = known[key]
            if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise PerfpackError(f"configuration [commits]: {key} must be a whole number >= 0, not {value!r}")
            if kind is not int and not isinstance(value, kind):
                raise PerfpackError(f"configuration [commits]: {key} must be a {kind.__name__}, not {value!r}")
            if kind is list and not all(isinstance(item, str) for item in value):
                raise PerfpackError(f"configuration [commits]: {key} must be a list of strings")
            if key == "extra-ignore":
                value = policy.ignore + list(value)
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
        unknown_rules = set(policy.disable) - set(RULES)
        if unknown_rules:
            raise PerfpackError(f"configuration [commits]: disable names unknown rule(s) {sorted(unknown_rules)}",
                                hint="rule ids: " + ", ".join(RULES))
        return policy

    @property
    def mixed_re(self) -> re.Pattern[str] | None:
        if self._mixed_re is None and self.mixed_words:
            words = "|".join(re.escape(word) for word in self.mixed_words if word)
            # Whole words only: "Android" and "expand" contain "and" but are not a second concern.
            self._mixed_re = re.compile(rf"(?<![\w])(?:{words})(?![\w])", re.IGNORECASE)
        return self._mixed_re

    def ignored(self, path: str) -> bool:
        """True for files that do not count toward size (lock files, generated code).

        A glob matches the whole path (`*` crosses `/`) or the file's name: `*.lock` matches `a/b/x.lock`.
        """
        cache = self._ignored_cache
        if cache is None or cache[0] != self.ignore:
            # One compiled regex for all globs, and a per-path memo: paths repeat across a history.
            joined = "|".join(fnmatch.translate(pattern) for pattern in self.ignore) or r"(?!)"
            cache = self._ignored_cache = (list(self.ignore), re.compile(joined), {})
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
    ignored = policy.ignored
    return [change for change in files if not ignored(change.path)]


def check_commit(commit: CommitInfo, policy: Policy) -> list[Finding]:
    """Every rule on one commit. The caller decides about skipping (see `skip_reason`)."""
    findings: list[Finding] = []
    message = parse_message(commit.message)
    line = message.subject_line
    disabled = set(policy.disable)

    def add(rule: str, at: int, text: str, fix: str) -> None:
        if rule not in disabled:
            findings.append(Finding(commit.ref, at, 1, rule, ERROR, text, fix, RULES[rule][0]))

    if commit.files is not None:
        files = counted(commit.files, policy)
        total = sum(change.added + change.deleted for change in files)
        if len(files) > policy.max_files:
            add("PC101", line, f"{len(files)} files changed (limit {policy.max_files}): "
                + _preview([change.path for change in files]),
                "split it into commits of one concern each: " + split_advice(files))
        if total > policy.max_lines:
            biggest = sorted(files, key=lambda change: -(change.added + change.deleted))[:3]
            add("PC102", line, f"{total} lines changed (limit {policy.max_lines}); largest: "
                + ", ".join(f"{change.path} ({change.added + change.deleted})" for change in biggest),
                "split it into smaller commits; if a file is generated or a lock file, add its glob to "
                "`ignore` in [tool.perfpack.commits]")
    regex = policy.mixed_re
    if regex is not None and message.subject:
        words = sorted({match.group(0).lower() for match in regex.finditer(message.subject)})
        if words:
            add("PC201", line, f"subject {message.subject[:72]!r} contains {', '.join(repr(w) for w in words)}: "
                "likely more than one concern",
                "make one commit per concern, each with a subject that names only that change")
    keys = {key.lower() for key, _, _ in message.trailers}
    if policy.require_signoff and "signed-off-by" not in keys:
        add("PC301", line, "no Signed-off-by trailer", "commit with `git commit -s` "
            "(or `git commit --amend -s --no-edit` for the last commit)")
    assisted = [(value, number) for key, value, number in message.trailers if key.lower() == "assisted-by"]
    examples = " or ".join(f"`{_FORMAT_EXAMPLES[name]}`" for name in policy.assisted_by_formats) \
        if assisted or policy.require_assisted_by or _ASSISTED_WORD_RE.search(commit.message) else ""
    for value, number in assisted:
        if not any(_FORMAT_RES[name].match(value) for name in policy.assisted_by_formats):
            add("PC302", number, f"Assisted-By trailer {value!r} matches no accepted format "
                f"({', '.join(policy.assisted_by_formats)})", f"write it as {examples}")
    trailer_lines = {number for _, _, number in message.trailers}
    for index, text in enumerate(message.lines if examples else ()):
        if index + 1 in trailer_lines:
            continue
        if _ALMOST_ASSISTED_RE.match(text):
            add("PC302", index + 1, f"{text.strip()[:60]!r} is not a git trailer (a key has no spaces, and "
                "trailers must be in the last paragraph of the message)",
                f"put it in the final trailer block as {examples}")
    if policy.require_assisted_by and not assisted:
        add("PC303", line, "no Assisted-By trailer", f"add one in the trailer block: {examples}")
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
