"""agents/perfpack.toml: read strictly, one line per problem with FILE:LINE, missing file = empty."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from perfpack.errors import PerfpackError
from perfpack.packmeta import AgentMeta, PackMeta, load_pack_meta, read_pack_meta
from perfpack.resources import pack_root

GOOD = """\
# a comment
[commits]
attribution = "Assisted-By: x"

[agents.performance-engineer]
delegates-to = ["performance-optimization-specialist", "Explore"]
external-agents = { database-specialist = "general-purpose" }

[agents.performance-engineer.triggers]
summary = "latency"
threshold = 3
keywords = { latency = 3, p99 = 3 }
"""


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "perfpack.toml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return tmp_path


def test_missing_file_is_empty_metadata(tmp_path: Path) -> None:
    meta = read_pack_meta(tmp_path)
    assert meta.agents == {} and meta.commit_attribution is None


def test_reads_agents_and_attribution(tmp_path: Path) -> None:
    meta = read_pack_meta(write(tmp_path, GOOD))
    assert meta.commit_attribution == "Assisted-By: x"
    engineer = meta.agents["performance-engineer"]
    assert engineer == AgentMeta(delegates_to=["performance-optimization-specialist", "Explore"],
                                 external_agents={"database-specialist": "general-purpose"},
                                 triggers={"summary": "latency", "threshold": 3,
                                           "keywords": {"latency": 3, "p99": 3}}, line=5)
    assert meta.line_of("agents", "performance-engineer", "external-agents") == 7
    assert meta.line_of("agents", "performance-engineer", "triggers", "keywords") == 12
    assert meta.line_of("agents", "nobody", "triggers") == 5  # falls back to [agents...]
    assert meta.line_of("colours") == 1


@pytest.mark.parametrize(("text", "line", "words"), [
    ("[agents.x]\ndelegates-to = \"Explore\"\n", 2, "delegates-to must be a list"),
    ("[agents.x]\n\nexternal-agents = { db = 3 }\n", 3, "external-agents must map"),
    ("[agents.x]\ntriggers = 3\n", 2, "triggers must be a table"),
    ("[agents.x]\ntrigers = {}\n", 2, "unknown key 'trigers'"),
    ("[commits]\nattribution = 1\n", 2, "commits.attribution must be text"),
    ("[commits]\nsign = true\n", 2, "unknown key 'sign'"),
    ("[colours]\n", 1, "unknown table or key 'colours'"),
    ("agents = 3\n", 1, "[agents] must hold one table per agent"),
    ("[agents]\nx = 3\n", 2, "agents.x must be a table"),
    ("[agents.x\n", 1, "not valid TOML"),
    ("[agents.x]\na = 1\na = 2\n", 3, "not valid TOML"),
])
def test_malformed_is_one_line_with_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    with pytest.raises(PerfpackError) as caught:
        read_pack_meta(write(tmp_path, text))
    message = caught.value.message
    assert "\n" not in message and message.startswith(f"{tmp_path / 'perfpack.toml'}:{line}: ")
    assert words in message


def test_every_problem_is_listed_for_validate(tmp_path: Path) -> None:
    text = "[agents.a]\ndelegates-to = 1\n[agents.b]\nexternal-agents = []\nfoo = 1\n"
    meta, problems = load_pack_meta(write(tmp_path, text) / "perfpack.toml")
    assert [p.line for p in problems] == [2, 4, 5]
    assert set(meta.agents) == {"a", "b"}  # what is valid is kept


def test_not_utf8_and_special_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(PerfpackError, match=r"perfpack.toml:1: not UTF-8"):
        read_pack_meta(write(tmp_path, b"[commits]\nattribution = \"\xff\"\n"))
    fifo_dir = tmp_path / "fifo"
    fifo_dir.mkdir()
    os.mkfifo(fifo_dir / "perfpack.toml")
    with pytest.raises(PerfpackError, match="not a regular file"):
        read_pack_meta(fifo_dir)


def test_the_packs_own_file_is_valid() -> None:
    meta = read_pack_meta(pack_root() / "agents")
    assert isinstance(meta, PackMeta)
    assert meta.commit_attribution and "Assisted-By:" in meta.commit_attribution
    assert "git commit -s" in meta.commit_attribution


def test_validate_checks_the_toml_with_file_and_line(tmp_path: Path) -> None:
    """perfpack validate reads agents/perfpack.toml: unknown agents, bad shapes, bad triggers, unknown
    delegation targets and fallbacks, each a finding at its line; its external-agents count for the body."""
    import subprocess
    import sys

    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "fast.md").write_text("---\nname: fast\ndescription: Use when slow.\ntools: Read, Bash\n---\n"
                                    "| hand to | when |\n|---|---|\n| `db-tuner` | queries |\n")
    (agents / "perfpack.toml").write_text(
        '[agents.fast]\ndelegates-to = ["Explore", "fsat"]\n'
        'external-agents = { db-tuner = "general-purpos" }\n'
        "[agents.ghost]\ndelegates-to = 3\n[agents.ghost.triggers]\nkeywords = { slow = -1 }\n")
    proc = subprocess.run([sys.executable, "-m", "perfpack", "validate", "--select", "PP211,PP212", "."],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    found = {line.split(": warning")[0] + " " + line.split("(")[0].rsplit(" ", 1)[-1]
             for line in proc.stdout.splitlines() if ": warning: " in line}
    assert found == {"agents/perfpack.toml:2:1 PP211", "agents/perfpack.toml:3:1 PP212",
                     "agents/perfpack.toml:4:1 PP212", "agents/perfpack.toml:5:1 PP212",
                     "agents/perfpack.toml:6:1 PP212"}, proc.stdout
    assert "did you mean `fast`" in proc.stdout and "weight of 'slow'" in proc.stdout
    assert "fast.md" not in proc.stdout  # db-tuner in the body is declared external in the toml
