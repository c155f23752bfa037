"""Prompt routing: agent `triggers` compiled to JSON, scored by a stdlib-only engine (hook and CLI)."""
