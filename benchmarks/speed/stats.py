"""Summaries of repeated timings.

Medians and high percentiles rather than means: the benchmark machine is shared, and a
few slow samples (another process taking a core) should widen p99, not move p50.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["load_average", "median", "summary_ms"]


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    if not values:
        raise ValueError("median of no values")
    return float(np.median(np.asarray(values, dtype=np.float64)))


def summary_ms(seconds: Sequence[float]) -> dict[str, Any]:
    """p50 / p90 / p99 / mean / min / max in milliseconds, with the sample size."""
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    if ms.size == 0:
        raise ValueError("no timings to summarise")
    return {
        "n": int(ms.size),
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "p99_ms": float(np.percentile(ms, 99)),
        "mean_ms": float(ms.mean()),
        "min_ms": float(ms.min()),
        "max_ms": float(ms.max()),
    }


def load_average() -> float | None:
    """The 1-minute load average: above the core count, the timings were contended."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None
