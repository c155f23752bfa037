#!/usr/bin/env python3
"""Validate Claude Code agents, commands, plugin.json and hooks from a checkout: same as `perfpack validate`.

Usage: python scripts/validate_agents.py [PATH...] [--format text|json|github|sarif] [--strict] ...
Needs pyyaml, click and jsonschema; perfpack itself need not be installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from perfpack.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["validate", *sys.argv[1:]]))
