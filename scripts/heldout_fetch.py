#!/usr/bin/env python3
"""Fetch the held-out third-party packs listed in benchmarks/heldout_packs.json into DEST (outside the repo).

    python scripts/heldout_fetch.py /tmp/perfpack-heldout
    python benchmarks/heldout.py /tmp/perfpack-heldout          # the measuring step, separate

Files with a repository, path and commit come from raw.githubusercontent.com at that commit (whole files;
the recorded run used shortened copies, see `shortened`). Files known only by a code-search index id cannot
be fetched from here: the script says so and skips them. Nothing is written inside the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "benchmarks" / "heldout_packs.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    dest = args.dest.resolve()
    if dest == ROOT or ROOT in dest.parents:
        parser.error("DEST must be outside the repository (third-party files are never committed)")
    files = json.loads(MANIFEST.read_text(encoding="utf-8"))["files"]
    fetched = skipped = 0
    for entry in files:
        target = dest / entry["dest"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if entry.get("written"):
            target.write_text(json.dumps(entry["content"], indent=2) + "\n", encoding="utf-8")
            continue
        if "repo" not in entry:
            print(f"skipped {entry['dest']}: known only by code-search index id {entry['index_id']} "
                  "(fetch it with the search tool's read_file)", file=sys.stderr)
            skipped += 1
            continue
        url = f"https://raw.githubusercontent.com/{entry['repo']}/{entry['commit']}/{entry['path']}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                target.write_bytes(response.read())
            fetched += 1
        except (urllib.error.URLError, OSError) as exc:
            print(f"perfpack: cannot fetch {url}: {getattr(exc, 'reason', exc)}", file=sys.stderr)
            return 2
    print(f"{fetched} fetched, {skipped} skipped, into {dest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
