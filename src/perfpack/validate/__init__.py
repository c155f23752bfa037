"""Validator for Claude Code agent packs: agents, commands, plugin.json and hooks, as Claude Code reads
them."""

from perfpack.validate.engine import ValidationResult, validate_paths

__all__ = ["ValidationResult", "validate_paths"]
