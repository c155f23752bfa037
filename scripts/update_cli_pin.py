#!/usr/bin/env python3
"""Move the end-to-end tests' newest Claude Code pin (NEWEST_CLI in tests/e2e/e2e_harness.py).

    python scripts/update_cli_pin.py               # pin the registry's latest version
    python scripts/update_cli_pin.py --to 2.1.340  # pin a given version
    python scripts/update_cli_pin.py --check       # CI: a notice if the registry is ahead; always exit 0

The next e2e run installs the new version into the cache (~/.cache/perfpack/claude-code-VERSION) once.
`--check` asks npm with a time bound and stays silent when npm or the network is missing: a newer CLI on the
registry is news for a maintainer, never a reason to fail a build.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1] / "tests" / "e2e" / "e2e_harness.py"
PACKAGE = "@anthropic-ai/claude-code"
PIN_LINE = re.compile(r'^NEWEST_CLI = "(\d+\.\d+\.\d+)"$', re.MULTILINE)
OLDEST_LINE = re.compile(r'^OLDEST_CLI = "(\d+\.\d+\.\d+)"$', re.MULTILINE)
VERSION = re.compile(r"\d+\.\d+\.\d+")
NPM_TIMEOUT = 20  # seconds; `npm view` answers in ~1 s when the registry is reachable


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def pinned() -> str:
    match = PIN_LINE.search(HARNESS.read_text(encoding="utf-8"))
    if match is None:
        raise SystemExit(f'update_cli_pin: no `NEWEST_CLI = "X.Y.Z"` line in {HARNESS}')
    return match.group(1)


def registry_latest() -> str | None:
    """The registry's `latest` version, or None when npm is missing, offline or slow."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        proc = subprocess.run(
            [npm, "view", PACKAGE, "version"],
            check=False,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = proc.stdout.strip()
    return version if proc.returncode == 0 and VERSION.fullmatch(version) else None


def set_pin(version: str) -> None:
    text = HARNESS.read_text(encoding="utf-8")
    HARNESS.write_text(PIN_LINE.sub(f'NEWEST_CLI = "{version}"', text, count=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--to", metavar="VERSION", help="pin this version instead of the registry's latest")
    parser.add_argument("--check", action="store_true", help="only print a notice when the registry is ahead")
    args = parser.parse_args(argv)
    current = pinned()
    if args.check:
        latest = registry_latest()
        if latest is not None and _key(latest) > _key(current):
            print(
                f"::notice title=Claude Code {latest} is out::the e2e tests pin {current}; "
                f"run `python scripts/update_cli_pin.py` to move the pin"
            )
        return 0
    target = args.to or registry_latest()
    if target is None:
        print("update_cli_pin: npm could not tell the latest version; give one with --to X.Y.Z",
              file=sys.stderr)
        return 2
    if not VERSION.fullmatch(target):
        print(f"update_cli_pin: not a version: {target!r}", file=sys.stderr)
        return 2
    oldest = OLDEST_LINE.search(HARNESS.read_text(encoding="utf-8"))
    if oldest is not None and _key(target) < _key(oldest.group(1)):
        print(
            f"update_cli_pin: {target} is older than the oldest supported CLI {oldest.group(1)}",
            file=sys.stderr,
        )
        return 2
    if target == current:
        print(f"the e2e tests already pin Claude Code {current}")
        return 0
    set_pin(target)
    print(f"the e2e tests now pin Claude Code {target} (was {current}); the next e2e run installs it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
