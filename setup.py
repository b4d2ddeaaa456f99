"""Build hook: ship the bundled catalog and dataset inside the wheel.

`skills/` and `data/` live at the top of the repository (the product card fixes that
layout); a wheel must carry them too, so `Router.from_catalog()` works after a plain
`pip install`. They are copied to `skillroute/_bundled/` at build time.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

_ROOT = Path(__file__).resolve().parent
_BUNDLED = ("skills", "data")


class BuildPyWithBundledData(build_py):  # type: ignore[misc]
    """Copy the bundled catalog and dataset next to the package code."""

    def run(self) -> None:
        """Build as usual, then copy the folders a wheel would otherwise leave behind."""
        super().run()
        target = Path(self.build_lib) / "skillroute" / "_bundled"
        for name in _BUNDLED:
            source = _ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithBundledData})
