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


class _EncoderClock:
    """Times the calls a router makes to its encoder while the block runs.

    The wrapper is an attribute of the encoder instance, removed on exit, so calls to
    ``router.encoder.encode`` outside the block are the bare method.
    """

    def __init__(self, router: Router) -> None:
        self.encoder = router.encoder
        self.seconds = 0.0

    def __enter__(self) -> _EncoderClock:
        encode = self.encoder.encode

        def timed(batch: Sequence[str]) -> Any:
            start = time.perf_counter()
            try:
                return encode(batch)
            finally:
                self.seconds += time.perf_counter() - start

        self.encoder.encode = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self.encoder.encode


def measure_throughput(router: Router, texts: Sequence[str], repeats: int) -> dict[str, Any]:
    """``route_batch`` over all texts vs ``encoder.encode`` of them, in back-to-back pairs.

    The ratio is the median of the pairs' ratios (the medians of each side are reported too).
    The same 500-text encoder call varies by about 10% from call to call, more than the
    target's margin, so each ``route_batch`` also times its own encoder calls: what it
    spends outside them is skillroute's share, free of that variance, and its encoder
    call against the bare one shows whether encoding inside ``route_batch`` is slower.
    """
    prepared = [router.prepare_task(text) for text in texts]  # what route_batch() encodes
    router.route_batch(list(texts[:64]))
    router.encoder.encode(prepared[:64])
    routed: list[float] = []
    encoded: list[float] = []
    inside: list[float] = []  # seconds each route_batch spent in its encoder calls

    def route_batch() -> None:
        with _EncoderClock(router) as clock:
            router.route_batch(list(texts))
        inside.append(clock.seconds)

    for r in range(repeats):
        a, b = _pair(route_batch, lambda: router.encoder.encode(prepared), swap=r % 2 == 1)
        routed.append(a)
        encoded.append(b)
    n = len(texts)
    route_tps = n / median(routed)
    encoder_tps = n / median(encoded)
    paired = [e / r for r, e in zip(routed, encoded, strict=True)]
    outside = [r - i for r, i in zip(routed, inside, strict=True)]
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
        "route_batch_encoder_s": inside,
        # skillroute's own share of a route_batch: outside its encoder calls
        "outside_encoder_share": median([o / r for o, r in zip(outside, routed, strict=True)]),
        "outside_encoder_ms_per_task": 1000.0 * median(outside) / n,
        # route_batch's encoder calls against the bare call of the same pair
        "inside_vs_bare_encoder": median([i / e for i, e in zip(inside, encoded, strict=True)]),
        "load_average_1min": load_average(),
    }
