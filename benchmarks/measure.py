"""Time and score one system on one task, the same way for every system."""

from __future__ import annotations

import gc
import os
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.encoder import CachedEncoder
from benchmarks.peers import SystemFactory
from benchmarks.systems import Prediction, RouteSpec

__all__ = ["Task", "measure"]

Scorer = Callable[[Sequence[Prediction], Sequence[str | None]], dict[str, float | None]]


@dataclass(frozen=True)
class Task:
    """One benchmark configuration: routes, an optional fit split, a report split."""

    name: str
    routes: Mapping[str, RouteSpec]
    fit_texts: Sequence[str] | None
    fit_labels: Sequence[str | None] | None
    eval_texts: Sequence[str]
    eval_labels: Sequence[str | None]
    latency_texts: Sequence[str]  # single-query calls, one at a time
    throughput_texts: Sequence[str]  # one batch call
    scorer: Scorer
    k: int = 5


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _latency(system: Any, texts: Sequence[str], k: int, warmup: int = 3) -> dict[str, Any]:
    """Per-query time of ``predict([text])``; warm-up calls are not counted.

    Wall time is the figure; process CPU time (all threads) and the load average are kept
    beside it so a reader can tell a slow system from a busy machine.
    """
    for text in list(texts)[:warmup]:
        system.predict([text], k=k)
    wall, cpu = [], []
    for text in texts:
        start, start_cpu = time.perf_counter(), time.process_time()
        system.predict([text], k=k)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    ms = np.array(wall) * 1000.0
    return {
        "n": len(wall),
        "p50_ms": float(np.percentile(ms, 50)),
        "p90_ms": float(np.percentile(ms, 90)),
        "mean_ms": float(ms.mean()),
        "cpu_p50_ms": float(np.percentile(np.array(cpu) * 1000.0, 50)),
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def measure(factory: SystemFactory, task: Task, encoder: CachedEncoder) -> dict[str, Any]:
    """Build, fit, predict (cached embeddings), then time queries with caching off.

    Any exception is recorded as ``status: error`` with its traceback on stderr, so one
    broken system never hides the others' numbers.
    """
    if factory.make is None:
        return {"system": factory.name, "status": "unavailable", "error": factory.unavailable}
    try:
        return _measure(factory, task, encoder)
    except Exception as exc:  # report it, go on with the next system
        traceback.print_exc()
        return {"system": factory.name, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
    finally:
        gc.collect()


def _measure(factory: SystemFactory, task: Task, encoder: CachedEncoder) -> dict[str, Any]:
    assert factory.make is not None
    system = factory.make()
    _, build_s = _timed(lambda: system.build(task.routes))
    fit_s = None
    if task.fit_texts is not None and task.fit_labels is not None:
        _, fit_s = _timed(lambda: system.fit(task.fit_texts, task.fit_labels))
    preds, predict_s = _timed(lambda: system.predict(task.eval_texts, k=task.k))
    if len(preds) != len(task.eval_texts):
        raise ValueError(f"{len(preds)} predictions for {len(task.eval_texts)} texts")
    with encoder.uncached():
        latency = _latency(system, task.latency_texts, task.k)
        _, batch_s = _timed(lambda: system.predict(task.throughput_texts, k=task.k))
    describe = getattr(system, "describe", None)
    return {
        "system": factory.name,
        "status": "ok",
        "build_s": build_s,
        "fit_s": fit_s,
        "predict_eval_s": predict_s,
        "latency": latency,
        "throughput_qps": len(task.throughput_texts) / batch_s if batch_s > 0 else None,
        "throughput_n": len(task.throughput_texts),
        "metrics": task.scorer(preds, task.eval_labels),
        "params": describe() if callable(describe) else {},
    }
