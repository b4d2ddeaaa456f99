"""Where the per-task overhead goes, timed stage by stage without a profiler.

cProfile inflates code made of many small Python calls (rules, phrase matching) far more
than numpy calls, so its shares can mislead. This module replays one task through the
same steps `Router.route` takes (prepare, embed, score, rank and calibrate, rule detection,
the decision and the rules in `RuleEngine.settle`, the arbiter, the everyday-sense check)
and times each with ``perf_counter``; whatever the full ``route`` costs beyond their sum
is building the candidates and the pydantic `RouteResult`.

Replaying internals ties this module to the router's current steps: if `Router` changes,
update `_replay` (the full-route figure stays authoritative either way).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from skillroute import Router
from skillroute.arbiter import OPTION_DEPTH

__all__ = ["stage_breakdown"]

_K = 3  # the default k of Router.route
STAGES = (
    "prepare_task (clean + spelling)",
    "embed (instant encoder + checks)",
    "rules.detect",
    "score (cosine + head + memory)",
    "rank + calibrate",
    "catalog.names (one read)",
    "rules.settle (decide + apply)",
    "arbiter (options + features + choice)",
    "everyday check",
)


def _replay(router: Router, text: str) -> list[float]:
    """One task through the router's steps; the seconds each step took, in `STAGES` order."""
    marks = [time.perf_counter()]

    def mark() -> None:
        marks.append(time.perf_counter())

    prepared = router.prepare_task(text)
    mark()
    queries = router.embed_tasks([prepared])
    mark()
    signals = router.rules.detect(prepared)  # before scoring: a multi-step task skips the memory
    mark()
    batch = router.score(queries, [prepared], [signals])
    mark()
    order = batch.top_k(max(_K, router.rules.depth, OPTION_DEPTH))
    top_scores = batch.score[np.arange(1)[:, None], order]
    confidences = router.calibration.confidence(top_scores)
    mark()
    names = router.catalog.names
    mark()
    ranked = [names[j] for j in order[0]]
    top_confidence = float(confidences[0][0])
    outcome = router.rules.settle(
        signals, ranked, top_scores[0], top_confidence, router.calibration
    )
    mark()
    outcome = router.arbitrate(outcome, ranked, batch, 0, signals)
    mark()
    router.check_everyday(batch, [signals], [outcome])
    mark()
    return [b - a for a, b in pairwise(marks)]


def _p50_us(samples: Sequence[float] | np.ndarray) -> float:
    return float(np.percentile(np.asarray(samples) * 1e6, 50))


def _route_times(route: Callable[[str], object], texts: Sequence[str]) -> list[float]:
    times = []
    for text in texts:
        start = time.perf_counter()
        route(text)
        times.append(time.perf_counter() - start)
    return times


def stage_breakdown(router: Router, texts: Sequence[str]) -> dict[str, Any]:
    """p50 microseconds per stage, the full route's p50, and the remainder (results)."""
    for text in texts[:10]:
        _replay(router, text)
    per_stage = np.array([_replay(router, text) for text in texts])
    stages = {name: _p50_us(per_stage[:, i]) for i, name in enumerate(STAGES)}
    full = _p50_us(_route_times(router.route, texts))
    accounted = sum(stages.values())
    return {
        "p50_us": stages,
        "route_p50_us": full,
        "candidates_and_result_p50_us": max(full - accounted, 0.0),
    }
