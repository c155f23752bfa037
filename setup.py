"""Copies the pack (agents, commands, hooks, schemas, plugin manifest) into the wheel.

The pack's files live once, at the repository root, where Claude Code reads them as a plugin; a
non-editable install needs a copy inside the package so `perfpack install` can find them.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PACK_PARTS = ("agents", "commands", "hooks", "schemas", ".claude-plugin")


class BuildPyWithPack(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "perfpack" / "data" / "pack"
        for part in PACK_PARTS:
            source = root / part
            if source.is_dir():
                shutil.copytree(source, target / part, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithPack})
