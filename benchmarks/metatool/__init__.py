"""MetaTool: routing to 199 tools by their one-sentence description alone."""

from __future__ import annotations

from benchmarks.metatool.run import run

__all__ = ["run"]
