"""Measure routing quality: metrics, gates for CI, and human-readable reports."""

from __future__ import annotations

from skillroute.evaluation.gates import GateResult, Gates, check_gates, load_gates
from skillroute.evaluation.metrics import EvalReport, evaluate
from skillroute.evaluation.report import write_report

__all__ = [
    "EvalReport",
    "GateResult",
    "Gates",
    "check_gates",
    "evaluate",
    "load_gates",
    "write_report",
]
