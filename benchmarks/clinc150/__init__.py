"""CLINC150: few-shot intent routing with out-of-scope abstention."""

from __future__ import annotations

from benchmarks.clinc150.run import run

__all__ = ["run"]
