"""CLINC150 protocol: k-shot routes, thresholds fitted on half of val, reported on the rest."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.clinc150.data import fit_report_split, load, routes_for
from benchmarks.encoder import CachedEncoder
from benchmarks.measure import Task, measure
from benchmarks.metrics import abstention_metrics, ranking_metrics
from benchmarks.peers import SystemFactory
from benchmarks.splits import seeded_sample
from benchmarks.systems import Prediction, route_texts

__all__ = ["DEFAULT_KS", "QUICK_INTENTS", "run"]

DEFAULT_KS: tuple[int, ...] = (5, 10, 100)
QUICK_INTENTS = 15


def _score(preds: Sequence[Prediction], golds: Sequence[str | None]) -> dict[str, float | None]:
    return {**abstention_metrics(preds, golds), **ranking_metrics(preds, golds, ks=(1, 5))}


def run(
    data_dir: Path,
    factories: Sequence[SystemFactory],
    encoder: CachedEncoder,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    seed: int = 0,
    latency_n: int = 200,
    throughput_n: int = 500,
    quick: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every system for every k; return the results as plain JSON-able data."""
    path = data_dir / "clinc150" / "clinc150_dev.json"
    clinc = load(path)
    intents = clinc.intents[:QUICK_INTENTS] if quick else clinc.intents
    chosen = set(intents)
    rows = [r for r in clinc.val if r[1] is None or r[1] in chosen]
    fit, report = fit_report_split(rows, seed)
    report_texts = [t for t, _ in report]
    all_route_texts, _ = route_texts(routes_for(clinc, intents, max(ks)))
    start = time.perf_counter()
    encoder.encode(all_route_texts + [t for t, _ in fit] + report_texts)
    prime_s = time.perf_counter() - start
    texts_per_s = encoder.texts_per_second(report_texts[:256])
    log(
        f"clinc150: {len(intents)} intents, fit {len(fit)}, report {len(report)}; "
        f"primed the encoder cache in {prime_s:.1f}s; encoder {texts_per_s:.0f} texts/s"
    )
    configs = []
    for k in ks:
        routes = routes_for(clinc, intents, k)
        n_texts = sum(len(spec.texts) for spec in routes.values())
        task = Task(
            name=f"clinc150 k={k}",
            routes=routes,
            fit_texts=[t for t, _ in fit],
            fit_labels=[y for _, y in fit],
            eval_texts=report_texts,
            eval_labels=[y for _, y in report],
            latency_texts=seeded_sample(report_texts, latency_n, seed),
            throughput_texts=seeded_sample(report_texts, throughput_n, seed + 1),
            scorer=_score,
        )
        results = []
        for factory in factories:
            result = measure(factory, task, encoder)
            log(_progress(task.name, result))
            results.append(result)
        configs.append(
            {
                "k": k,
                "n_routes": len(routes),
                "n_route_texts": n_texts,
                "route_encode_est_s": n_texts / texts_per_s,
                "systems": results,
            }
        )
    return {
        "benchmark": "clinc150",
        "data": str(path),
        "protocol": _protocol(seed, quick, len(intents), fit, report),
        "encoder_texts_per_s": texts_per_s,
        "prime_s": prime_s,
        "configs": configs,
    }


def _protocol(
    seed: int, quick: bool, n_intents: int, fit: list[Any], report: list[Any]
) -> dict[str, Any]:
    return {
        "routes": f"{n_intents} intents; description = intent name with '_' as ' '"
        + (f" (quick: first {n_intents} intents in file order)" if quick else ""),
        "examples": "first k train texts per intent, in file order",
        "split": f"val + oos_val, stratified halves per intent and oos, seed {seed}",
        "n_fit": len(fit),
        "n_fit_oos": sum(y is None for _, y in fit),
        "n_report": len(report),
        "n_report_oos": sum(y is None for _, y in report),
        "oos_train": "not used",
    }


def _progress(task: str, result: dict[str, Any]) -> str:
    if result["status"] != "ok":
        return f"  {task:<18} {result['system']:<28} {result['status']}: {result['error']}"
    m = result["metrics"]
    return (
        f"  {task:<18} {result['system']:<28} in-scope {m['in_scope_accuracy']:.3f} "
        f"oos-F1 {m['oos_f1'] or 0:.3f} top1 {m['top1_accuracy']:.3f} "
        f"build {result['build_s']:.1f}s fit {result['fit_s']:.1f}s "
        f"p50 {result['latency']['p50_ms']:.1f}ms"
    )
