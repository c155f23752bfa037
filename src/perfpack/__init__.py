"""perfpack: a performance-engineering pack for Claude Code and the toolkit its agents call."""

__version__ = "0.1.0"
