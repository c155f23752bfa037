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
    Rule("PP104", "no-frontmatter", ERROR, "agent file does not start with a `---` line at byte 0 (dropped)"),
    Rule("PP105", "unclosed-frontmatter", ERROR, "agent frontmatter has no closing `---` line (dropped)"),
    Rule("PP106", "yaml-syntax", ERROR, "agent frontmatter YAML does not parse (project agent dropped, plugin "
         "agent misread); a command's is only ignored (warning)"),
    Rule("PP107", "duplicate-key", WARNING, "a key appears twice in the frontmatter; the last one wins"),
    Rule("PP108", "early-delimiter", ERROR, "a `---` line ends the frontmatter before keys that follow it"),
    Rule("PP109", "schema", WARNING, "a frontmatter value has the wrong type or is not an allowed value (ignored)"),
    Rule("PP110", "unknown-key", WARNING, "key Claude Code does not apply (2.1.332 logs a warning for each)"),
    Rule("PP111", "home-path", WARNING, "hard-coded absolute home path (/Users/x, /home/x, C:\\Users\\x)"),
    Rule("PP112", "description-budget", WARNING, "description longer than the budget (paid on every message)"),
    Rule("PP113", "yaml-limits", ERROR, "frontmatter too large, too deep or an alias bomb (refused unread)"),
    Rule("PP114", "dropping-value", ERROR, "a value of a type that makes Claude Code drop the whole agent"),
    # PP2xx: agents
    Rule("PP201", "missing-required", ERROR, "agent lacks a string `name` or `description` (dropped silently)"),
    Rule("PP202", "name-format", WARNING, "agent name is not kebab-case (it loads; the docs ask for kebab-case)"),
    Rule("PP204", "duplicate-name", ERROR, "two agents of one scope share a name (only one loads)"),
    Rule("PP205", "invalid-model", ERROR, "model is sent to the API verbatim and the API refuses it"),
    Rule("PP207", "removed-tool", WARNING, "tool that the subagent never gets on this CLI version"),
    Rule("PP208", "unknown-tool", WARNING, "tool name Claude Code does not know (the subagent does not get it)"),
    Rule("PP209", "command-key-in-agent", ERROR, "`allowed-tools` in an agent: ignored, the agent gets every tool"),
    Rule("PP210", "missing-skill", WARNING, "skill not found in the validated tree (silent no-op)"),
    Rule("PP211", "unknown-delegate", WARNING, "delegation target that is neither in the pack, a built-in nor external"),
    Rule("PP212", "extension-schema", WARNING, "perfpack extension key (triggers, delegates-to, external-agents) malformed"),
    Rule("PP213", "name-rejected", ERROR, "agent name with `:` or a leading `-` (rejected since 2.1.218)"),
    Rule("PP214", "zero-tools", ERROR, "no tool of `tools` resolves: 2.1.332 refuses the spawn, 2.1.197 spawns "
         "it with no tools"),
    # PP3xx: commands
    Rule("PP301", "bang-not-allowed", ERROR, "!`…` line not allowed by allowed-tools (the whole command aborts)"),
    Rule("PP302", "argument-in-bang", ERROR, "$ARGUMENTS/$N/named argument inside a ! line (shell injection)"),
    Rule("PP304", "agent-key-in-command", WARNING, "agent-only key in a command (ignored)"),
    Rule("PP305", "bang-refused-by-cli", ERROR, "!`…` line the CLI's own safety checks refuse whatever "
         "allowed-tools says (brace expansion, $(...), paths outside the project): the command aborts"),
    # PP4xx: plugin.json, hooks.json, settings.json hooks
    Rule("PP401", "json-syntax", ERROR, "JSON file does not parse (a plugin.json: the plugin is refused)"),
    Rule("PP402", "plugin-schema", ERROR, "plugin.json fails the CLI's manifest check: the whole plugin is refused"),
    Rule("PP403", "hooks-schema", ERROR, "hooks configuration violates its schema"),
    Rule("PP404", "hooks-top-level", ERROR, "hooks.json lacks the top-level `hooks` key"),
    Rule("PP405", "duplicate-hooks-file", ERROR, "plugin.json names ./hooks/hooks.json, which loads automatically"),
    Rule("PP406", "hook-script-missing", ERROR, "hook command runs a script that does not exist"),
    Rule("PP407", "unknown-hook-event", WARNING, "hook event name Claude Code does not know"),
    Rule("PP408", "plugin-metadata", WARNING, "plugin.json value of the wrong shape that the CLI tolerates"),
    Rule("PP409", "unlisted-agent", ERROR, "agent file in a plugin whose plugin.json lists its agents without it "
         "(never loads)"),
    Rule("PP410", "listed-file-missing", ERROR, "plugin.json lists a component file that does not exist"),
]

registry.register(*_RULES)
RULES: dict[str, registry.Rule] = {rule.id: rule for rule in _RULES}
BY_NAME: dict[str, registry.Rule] = {rule.name: rule for rule in _RULES}


def rule(rule_id: str) -> registry.Rule:
    return RULES[rule_id]


def expand_selection(items: list[str] | tuple[str, ...] | None) -> set[str]:
    """Rule ids selected by ids, id prefixes (`PP2`) or names (`home-path`); unknown -> PerfpackError."""
    return registry.select(items, "validate")
