"""Warm latency and batch throughput with the real model, next to the bare encoder.

The encoder dominates both, so each skillroute figure is paired with the same encoder
doing only its own work on the same texts (``router.encoder.encode``), in the same
process, interleaved: the difference is what skillroute adds, and the machine's load
at that moment affects both sides of each pair. The order inside a pair alternates so
neither side always runs with warmer caches.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from benchmarks.speed.stats import load_average, median, summary_ms
from skillroute import Router

__all__ = ["measure_latency", "measure_throughput"]

_WARMUP = 5


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _pair(
    first: Callable[[], object], second: Callable[[], object], swap: bool
) -> tuple[float, float]:
    """Time two calls back to back; ``swap`` runs the second one first."""
    if swap:
        b = _timed(second)
        return _timed(first), b
    a = _timed(first)
    return a, _timed(second)


def measure_latency(router: Router, texts: Sequence[str], rounds: int) -> dict[str, Any]:
    """p50 / p99 of ``router.route(text)`` and of ``router.encoder.encode([text])``."""
    prepared = [router.prepare_task(text) for text in texts]  # what route() encodes
    for text, ready in zip(texts[:_WARMUP], prepared, strict=False):
        router.route(text)
        router.encoder.encode([ready])
    routed: list[float] = []
    encoded: list[float] = []
    for r in range(rounds):
        for i, (text, ready) in enumerate(zip(texts, prepared, strict=True)):
            a, b = _pair(
                partial(router.route, text),
                partial(router.encoder.encode, [ready]),
                swap=(i + r) % 2 == 1,
            )
            routed.append(a)
            encoded.append(b)
    difference = np.asarray(routed) - np.asarray(encoded)
    return {
        "texts": len(texts),
        "rounds": rounds,
        "route": summary_ms(routed),
        "encoder": summary_ms(encoded),
        "paired_difference_p50_ms": float(np.percentile(difference, 50) * 1000.0),
        "load_average_1min": load_average(),
    }


def measure_throughput(router: Router, texts: Sequence[str], repeats: int) -> dict[str, Any]:
    """``route_batch`` over all texts vs ``encoder.encode`` of them, in back-to-back pairs.

    The ratio is the median of the pairs' ratios (the medians of each side are reported too).
    """
    prepared = [router.prepare_task(text) for text in texts]  # what route_batch() encodes
    router.route_batch(list(texts[:64]))
    router.encoder.encode(prepared[:64])
    routed: list[float] = []
    encoded: list[float] = []
    for r in range(repeats):
        a, b = _pair(
            lambda: router.route_batch(list(texts)),
            lambda: router.encoder.encode(prepared),
            swap=r % 2 == 1,
        )
        routed.append(a)
        encoded.append(b)
    n = len(texts)
    route_tps = n / median(routed)
    encoder_tps = n / median(encoded)
    paired = [e / r for r, e in zip(routed, encoded, strict=True)]
    return {
        "texts": n,
        "repeats": repeats,
        "route_batch_tasks_per_s": route_tps,
        "encoder_texts_per_s": encoder_tps,
        # each pair runs back to back, so a machine whose speed drifts during the run
        # moves both sides of a pair, not their ratio; the medians of the two sides may
        # come from different pairs
        "ratio": median(paired),
        "ratio_of_medians": route_tps / encoder_tps,
        "paired_ratios": paired,
        "route_batch_s": routed,
        "encoder_s": encoded,
        "load_average_1min": load_average(),
    }
