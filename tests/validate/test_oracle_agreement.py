"""The validator against the real Claude Code CLI: every recorded oracle case, every recorded CLI version.

The verdicts in tests/data/oracle/<version>.json were recorded from the real CLI by
`python scripts/record_oracle.py --cli-version X` (offline, scripted stand-in API). This test does not run the
CLI; it checks that the validator predicts what the CLI did on >= 99 % of the cases of each version.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "oracle"))

from cases import generate
from compare import compare, recorded_versions

GOAL = 0.99


def test_the_generator_makes_at_least_500_cases_of_every_kind() -> None:
    cases = generate()
    kinds = {c.kind for c in cases}
    assert len(cases) >= 500 and kinds == {"agent", "command", "skill", "plugin"}
    assert len({c.id for c in cases}) == len(cases)


def test_every_version_the_validator_knows_is_recorded() -> None:
    from perfpack.validate.claude_code import supported_versions

    assert supported_versions() and set(supported_versions()) <= set(recorded_versions())


@pytest.mark.parametrize("version", recorded_versions())
def test_validator_agrees_with_the_real_cli(version: str) -> None:
    agree, total, diffs = compare(version, generate())
    assert total >= 500, f"only {total} recorded cases for {version}"
    shown = "\n".join(f"  {cid} {note}: CLI {cli} / validator {mine}" for cid, note, cli, mine in diffs[:15])
    assert agree / total >= GOAL, f"{version}: {agree}/{total} agree ({agree / total:.1%}); first:\n{shown}"
