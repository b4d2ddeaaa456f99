"""Where the bundled catalog and dataset live: inside the wheel, or in a source checkout.

A wheel carries them under ``skillroute/_bundled/`` (copied at build time by setup.py);
an editable install or a plain checkout reads them from the repository's top level.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUNDLED_CATALOG", "bundled_catalog_path", "bundled_data_path"]

BUNDLED_CATALOG = "python-backend"
_PACKAGE = Path(__file__).resolve().parent


def _first_existing(relative: str) -> Path:
    candidates = (_PACKAGE / "_bundled" / relative, _PACKAGE.parents[1] / relative)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


def bundled_catalog_path() -> Path:
    """The Python-backend catalog that ships with skillroute."""
    return _first_existing(f"skills/{BUNDLED_CATALOG}")


def bundled_data_path() -> Path:
    """The labelled intent dataset (train / dev / test splits) and its gates."""
    return _first_existing("data")
