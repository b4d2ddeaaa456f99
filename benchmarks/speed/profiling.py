"""cProfile of the single-task hot path, as tables a reader can act on.

Profiled with the instant encoder, so the model does not drown the rest. cProfile adds
a roughly constant cost per call, which inflates code made of many small calls (rules,
pydantic) more than numpy calls: read the tables for where time goes, and the overhead
figures (measured without the profiler) for how much.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections.abc import Sequence
from typing import Any

from skillroute import Router

__all__ = ["profile_routes"]

_TOP = 12


def _label(key: tuple[str, int, str]) -> str:
    """``skillroute/router.py:200(_route_clean)``-style names, without machine paths."""
    path, line, name = key
    if path == "~":
        return name  # a built-in, e.g. "<method 'argsort' of 'numpy.ndarray' objects>"
    for marker in ("/src/", "site-packages/", "/lib/python"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{line}({name})"


def _rows(stats: pstats.Stats, sort_index: int, routes: int) -> list[dict[str, Any]]:
    raw = stats.stats  # type: ignore[attr-defined]  # {key: (cc, nc, tt, ct, callers)}
    ranked = sorted(raw.items(), key=lambda item: item[1][sort_index], reverse=True)
    return [
        {
            "function": _label(key),
            "ncalls": nc,
            "tottime_s": tt,
            "cumtime_s": ct,
            "cum_us_per_route": 1e6 * ct / routes,
            "tot_us_per_route": 1e6 * tt / routes,
        }
        for key, (_cc, nc, tt, ct, _callers) in ranked[:_TOP]
    ]


def profile_routes(router: Router, texts: Sequence[str], routes: int) -> dict[str, Any]:
    """Profile ``routes`` calls of ``router.route`` cycling over ``texts``."""
    for text in texts[:10]:
        router.route(text)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for i in range(routes):
        router.route(texts[i % len(texts)])
    profiler.disable()
    elapsed = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    return {
        "skills": len(router.catalog),
        "routes": routes,
        "profiled_ms_per_route": 1000.0 * elapsed / routes,
        "by_cumulative": _rows(stats, 3, routes),
        "by_total": _rows(stats, 2, routes),
    }
