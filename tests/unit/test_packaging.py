"""A non-editable install must carry the pack (agents, commands, hooks, schemas) inside the wheel."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_the_pack(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("perfpack-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert list((REPO / "agents").glob("*.md")), "the pack has no agents to ship"
    for agent in (REPO / "agents").glob("*.md"):
        assert f"perfpack/data/pack/agents/{agent.name}" in names
    for schema in (REPO / "schemas").glob("*.json"):
        assert f"perfpack/data/pack/schemas/{schema.name}" in names
    assert "perfpack/hook.py" in names
    # every file of the source package ships (a data file outside data/ was once left out: exit 3 on install)
    source = REPO / "src"
    for path in (source / "perfpack").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            assert path.relative_to(source).as_posix() in names
