#!/usr/bin/env python3
"""Record what the real Claude Code CLI does with the oracle's generated cases: one command per CLI version.

    python scripts/record_oracle.py --cli-version 2.1.332      # writes tests/data/oracle/2.1.332.json

The CLI must be installed under ~/.cache/perfpack/claude-code-VERSION (the e2e tests install it there).
It runs offline against a scripted stand-in API on 127.0.0.1; all cases of a version take a few minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    # the oracle's modules live beside its tests, not in the package
    sys.path.insert(0, str(ROOT / "tests" / "oracle"))
    from cases import generate
    from derive import write_facts
    from harness import record

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli-version", required=True, action="append", help="repeatable")
    parser.add_argument("--only", help="comma-separated case ids (a quick look; nothing is written)")
    parser.add_argument("--merge", action="store_true",
                        help="with --only: record those cases and merge their verdicts into VERSION.json "
                        "(new cases, without re-recording the rest)")
    parser.add_argument("--jobs", type=int, default=2, help="CLI runs at once (default 2)")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "oracle")
    parser.add_argument("--keep", type=Path, help="keep the projects and debug logs here")
    args = parser.parse_args(argv)
    cases = generate()
    if args.only:
        wanted = set(args.only.split(","))
        cases = [c for c in cases if c.id in wanted]
    for version in args.cli_version:
        started = time.monotonic()
        data = record(version, cases, jobs=args.jobs, progress=lambda m: print(m, file=sys.stderr),
                      keep=args.keep)
        data["recorded_in_seconds"] = round(time.monotonic() - started, 1)
        if args.only and args.merge:
            path = args.out / f"{version}.json"
            recorded = json.loads(path.read_text())
            recorded["verdicts"] = dict(sorted({**recorded["verdicts"], **data["verdicts"]}.items()))
            path.write_text(json.dumps(recorded, indent=1, sort_keys=False, ensure_ascii=False) + "\n")
            print(f"{path}: merged {len(data['verdicts'])} cases", file=sys.stderr)
            continue
        if args.only:
            print(json.dumps(data["verdicts"], indent=1))
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / f"{version}.json"
        path.write_text(json.dumps(data, indent=1, sort_keys=False, ensure_ascii=False) + "\n")
        print(f"{path}: {len(data['verdicts'])} cases in {data['recorded_in_seconds']} s", file=sys.stderr)
    if not args.only:
        print(f"{write_facts(args.out, cases)}: the validator's Claude Code facts, re-derived",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
