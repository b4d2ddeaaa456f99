"""MetaTool protocol: description-only routes, top-1 / top-5 over every query, no abstention."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.encoder import CachedEncoder
from benchmarks.measure import Task, measure
from benchmarks.metatool.data import load
from benchmarks.metrics import ranking_metrics
from benchmarks.peers import SystemFactory
from benchmarks.splits import seeded_sample

__all__ = ["QUICK_QUERIES", "run"]

QUICK_QUERIES = 500


def run(
    data_dir: Path,
    factories: Sequence[SystemFactory],
    encoder: CachedEncoder,
    *,
    seed: int = 0,
    latency_n: int = 200,
    throughput_n: int = 500,
    quick: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every system once (no fit split: nothing is calibrated, nothing abstains)."""
    folder = data_dir / "metatool"
    data = load(folder)
    queries = seeded_sample(data.queries, QUICK_QUERIES, seed) if quick else data.queries
    texts = [q for q, _ in queries]
    routes = data.routes()
    start = time.perf_counter()
    encoder.encode([spec.description for spec in routes.values()] + texts)
    prime_s = time.perf_counter() - start
    texts_per_s = encoder.texts_per_second(seeded_sample(texts, 256, seed))
    log(
        f"metatool: {len(routes)} tools, {len(texts)} queries; primed the encoder cache in "
        f"{prime_s:.1f}s; encoder {texts_per_s:.0f} texts/s"
    )
    task = Task(
        name="metatool",
        routes=routes,
        fit_texts=None,
        fit_labels=None,
        eval_texts=texts,
        eval_labels=[tool for _, tool in queries],
        latency_texts=seeded_sample(texts, latency_n, seed),
        throughput_texts=seeded_sample(texts, throughput_n, seed + 1),
        scorer=lambda preds, golds: ranking_metrics(preds, golds, ks=(1, 5)),
    )
    results = []
    for factory in factories:
        result = measure(factory, task, encoder)
        log(_progress(result))
        results.append(result)
    return {
        "benchmark": "metatool",
        "data": str(folder),
        "protocol": {
            "routes": f"{len(routes)} tools, description only (no examples)",
            "queries": f"{len(texts)} of queries_dev.csv"
            + (f" (quick: seeded sample, seed {seed})" if quick else " (all)"),
            "decision": "top candidate, no abstention; no fit split",
        },
        "encoder_texts_per_s": texts_per_s,
        "prime_s": prime_s,
        "configs": [
            {
                "k": None,
                "n_routes": len(routes),
                "n_route_texts": len(routes),
                "route_encode_est_s": len(routes) / texts_per_s,
                "systems": results,
            }
        ],
    }


def _progress(result: dict[str, Any]) -> str:
    if result["status"] != "ok":
        return f"  metatool {result['system']:<28} {result['status']}: {result['error']}"
    m = result["metrics"]
    return (
        f"  metatool {result['system']:<28} top1 {m['top1_accuracy']:.3f} "
        f"top5 {m['top5_accuracy']:.3f} build {result['build_s']:.1f}s "
        f"p50 {result['latency']['p50_ms']:.1f}ms"
    )
