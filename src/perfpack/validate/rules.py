"""The validator's rules: stable ids (PP1xx frontmatter, PP2xx agents, PP3xx commands, PP4xx plugin/hooks)."""

from __future__ import annotations

from functools import partial

from perfpack import rules as registry
from perfpack.findings import ERROR, WARNING

Rule = partial(registry.Rule, family="validate")

_RULES = [
    # PP1xx: the file and its frontmatter
    Rule("PP101", "unreadable", ERROR, "file is binary, not UTF-8, too big or cannot be read"),
    Rule("PP102", "bom", WARNING, "file starts with a UTF-8 BOM (Claude Code before 2.1.239 did not see the file)"),
    Rule("PP103", "crlf", WARNING, "CRLF line endings (with `: ` in a description they dropped agents)"),
    Rule("PP104", "no-frontmatter", ERROR, "agent file does not start with a `---` line at byte 0"),
    Rule("PP105", "unclosed-frontmatter", ERROR, "frontmatter has no closing `---` line"),
    Rule("PP106", "yaml-syntax", ERROR, "frontmatter YAML does not parse"),
    Rule("PP107", "duplicate-key", WARNING, "a key appears twice in the frontmatter; the last one wins"),
    Rule("PP108", "early-delimiter", ERROR, "a `---` line ends the frontmatter before keys that follow it"),
    Rule("PP109", "schema", ERROR, "a frontmatter value has the wrong type or an allowed-values violation"),
    Rule("PP110", "unknown-key", WARNING, "key Claude Code does not know (ignored silently)"),
    Rule("PP111", "home-path", WARNING, "hard-coded absolute home path (/Users/x, /home/x, C:\\Users\\x)"),
    Rule("PP112", "description-budget", WARNING, "description longer than the budget (paid on every message)"),
    # PP2xx: agents
    Rule("PP201", "missing-required", ERROR, "agent lacks `name` or `description` (skipped silently)"),
    Rule("PP202", "name-format", ERROR, "agent name is not kebab-case"),
    Rule("PP203", "name-file-mismatch", WARNING, "agent name differs from its file name"),
    Rule("PP204", "duplicate-name", ERROR, "two agents share one name (one silently wins)"),
    Rule("PP205", "invalid-model", ERROR, "model is neither an alias nor a full claude- id"),
    Rule("PP206", "tools-list", WARNING, "tools given as a YAML list (entries were lost in some versions)"),
    Rule("PP207", "removed-tool", WARNING, "tool that Claude Code no longer has"),
    Rule("PP208", "unknown-tool", WARNING, "tool name Claude Code does not know"),
    Rule("PP209", "command-key-in-agent", ERROR, "command-only key in an agent (e.g. allowed-tools)"),
    Rule("PP210", "missing-skill", WARNING, "skill not found in the validated tree (silent no-op)"),
    Rule("PP211", "unknown-delegate", WARNING, "delegation target that is neither in the pack, a built-in nor external"),
    Rule("PP212", "extension-schema", WARNING, "perfpack extension key (triggers, delegates-to, external-agents) malformed"),
    # PP3xx: commands
    Rule("PP301", "bang-not-allowed", ERROR, "!`…` line not allowed by allowed-tools (the whole command aborts)"),
    Rule("PP302", "argument-in-bang", ERROR, "$ARGUMENTS/$N/named argument inside a ! line (shell injection)"),
    Rule("PP303", "argument-hint-list", ERROR, "argument-hint parses as a YAML list"),
    Rule("PP304", "agent-key-in-command", WARNING, "agent-only key in a command (ignored)"),
    # PP4xx: plugin.json, hooks.json, settings.json hooks
    Rule("PP401", "json-syntax", ERROR, "JSON file does not parse"),
    Rule("PP402", "plugin-schema", ERROR, "plugin.json violates its schema"),
    Rule("PP403", "hooks-schema", ERROR, "hooks configuration violates its schema"),
    Rule("PP404", "hooks-top-level", ERROR, "hooks.json lacks the top-level `hooks` key"),
    Rule("PP405", "duplicate-hooks-file", ERROR, "plugin.json names ./hooks/hooks.json, which loads automatically"),
    Rule("PP406", "hook-script-missing", ERROR, "hook command runs a script that does not exist"),
    Rule("PP407", "unknown-hook-event", WARNING, "hook event name Claude Code does not know"),
]

registry.register(*_RULES)
RULES: dict[str, registry.Rule] = {rule.id: rule for rule in _RULES}
BY_NAME: dict[str, registry.Rule] = {rule.name: rule for rule in _RULES}


def rule(rule_id: str) -> registry.Rule:
    return RULES[rule_id]


def expand_selection(items: list[str] | tuple[str, ...] | None) -> set[str]:
    """Rule ids selected by ids, id prefixes (`PP2`) or names (`home-path`); unknown -> PerfpackError."""
    return registry.select(items, "validate")
