"""The speed part of ``python -m benchmarks``: skillroute alone, no peers.

Order: the fresh-process probes first (import, cold start), while this process is still
idle; then, in this process, the real model (latency, throughput), the instant-encoder
routers (overhead at 12, 200 and 10,000 skills), the profiles, and last the memory of the
10,000-skill router in a child. ``threads`` caps torch *and* the BLAS pool of numpy here
and in every child: on a shared 2-core machine an uncapped pool stalls whenever another
process holds a core (measured: a 10,000-skill matrix-vector product goes from 1 ms to
8 ms), so the run also times the largest catalog once with the BLAS library's default
pool, to show that sensitivity.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.speed.child import ChildEnv
from benchmarks.speed.latency import measure_latency, measure_throughput
from benchmarks.speed.memory import measure_interpreter_memory, measure_large_router_memory
from benchmarks.speed.overhead import measure_overhead
from benchmarks.speed.profiling import profile_routes
from benchmarks.speed.startup import measure_cold_start, measure_imports
from benchmarks.speed.stats import load_average
from benchmarks.speed.synthetic import ReferenceVectors, overhead_router
from benchmarks.speed.texts import TaskTexts, load_task_texts
from skillroute import Router

__all__ = ["SpeedConfig", "run_speed"]

Log = Callable[[str], None]


@dataclass(frozen=True)
class SpeedConfig:
    """How many repeats of what; `quick` shrinks everything for a smoke run."""

    import_runs: int = 10
    cold_runs: int = 5
    memory_runs: int = 3
    latency_n: int = 300
    latency_rounds: int = 2
    batch_n: int = 500
    batch_repeats: int = 9  # the encoder call alone varies ~10%: more pairs
    overhead_rounds: int = 3
    catalog_sizes: tuple[int, ...] = (12, 200, 10_000)
    profile_routes: int = 2_000
    profile_routes_large: int = 300

    def quick(self) -> SpeedConfig:
        """A smoke-run version: the same measurements, far fewer repeats."""
        return replace(
            self,
            import_runs=3,
            cold_runs=1,
            memory_runs=1,
            latency_n=60,
            latency_rounds=1,
            batch_n=128,
            batch_repeats=2,
            overhead_rounds=1,
            profile_routes=300,
            profile_routes_large=50,
        )


@contextlib.contextmanager
def _blas_threads(threads: int | None) -> Iterator[dict[str, Any]]:
    """Cap numpy's BLAS pool (threadpoolctl ships with scikit-learn); yield what is in use."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def pools() -> dict[str, Any]:
        return {
            info["internal_api"]: info["num_threads"]
            for info in threadpool_info()
            if info["user_api"] == "blas"
        }

    if threads is None:
        yield pools()
        return
    with threadpool_limits(limits=threads, user_api="blas"):
        yield pools()


def _children(env: ChildEnv, config: SpeedConfig, log: Log) -> dict[str, Any]:
    log("speed: import time (fresh processes)")
    imports = measure_imports(env, config.import_runs)
    log("speed: cold start (fresh processes, warm and empty embedding cache)")
    cold = measure_cold_start(env, config.cold_runs, log)
    return {"imports": imports, "cold_start": cold}


def _model_part(
    texts: TaskTexts, config: SpeedConfig, log: Log
) -> tuple[dict[str, Any], ReferenceVectors]:
    """Latency and throughput with the real model; also returns the reference vectors."""
    log("speed: warm latency and batch throughput (default model)")
    router = Router.from_catalog(cache=False)
    _ = router.index  # encode the skill texts before any timing
    latency = measure_latency(router, texts.latency, config.latency_rounds)
    throughput = measure_throughput(router, texts.batch, config.batch_repeats)
    return {"latency": latency, "throughput": throughput}, _reference(router, texts)


def _reference(router: Router, texts: TaskTexts) -> ReferenceVectors:
    """The real vectors of the bundled skill texts (from the index) and of every task.

    A task with a homonym may be embedded a second time without it (the everyday-sense
    check), so those texts get their real vectors too.
    """
    # the texts as the encoder reads them: catalog texts and tasks spelled by the router
    skill_texts = [
        router.speller.correct(text) for group in router.catalog.routing_texts() for text in group
    ]
    tasks = list(dict.fromkeys(router.prepare_task(task) for task in texts.distinct()))
    masked = (router.everyday.masked(router.rules.detect(task).text) for task in tasks)
    encoded = list(dict.fromkeys([*tasks, *(m.text for m in masked if m is not None)]))
    vectors = np.concatenate([router.index.embeddings, router.encoder.encode(encoded)])
    return ReferenceVectors(
        router.encoder.model_id, (*skill_texts, *encoded), vectors.astype(np.float32), tuple(tasks)
    )


def _overhead_part(
    reference: ReferenceVectors, texts: TaskTexts, config: SpeedConfig, seed: int, log: Log
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows, profiles = [], []
    for n in config.catalog_sizes:
        log(f"speed: routing overhead, {n} skills (instant encoder)")
        router = overhead_router(n, reference, seed)
        rows.append(measure_overhead(router, texts.latency, texts.batch, config.overhead_rounds))
        if n == min(config.catalog_sizes) or n == max(config.catalog_sizes):
            count = config.profile_routes if n < 1000 else config.profile_routes_large
            profiles.append(profile_routes(router, texts.latency, count))
    return rows, profiles


def run_speed(
    *,
    repo_root: Path,
    work_dir: Path,
    seed: int = 0,
    threads: int | None = None,
    quick: bool = False,
    log: Log = print,
) -> dict[str, Any]:
    """Run every speed measurement; returns the ``speed`` entry of the results JSON."""
    config = SpeedConfig().quick() if quick else SpeedConfig()
    work_dir.mkdir(parents=True, exist_ok=True)
    env = ChildEnv(work_dir=work_dir, threads=threads, repo_root=repo_root)
    texts = load_task_texts(
        repo_root / "data", latency_n=config.latency_n, batch_n=config.batch_n, seed=seed
    )
    load_start = load_average()
    children = _children(env, config, log)
    with _blas_threads(threads) as blas:
        model, reference = _model_part(texts, config, log)
        overhead, profiles = _overhead_part(reference, texts, config, seed, log)
    largest = max(config.catalog_sizes)
    sensitivity = None
    if threads is not None:
        log(f"speed: routing overhead, {largest} skills, BLAS library default threads")
        with _blas_threads(None) as default_blas:
            row = measure_overhead(
                overhead_router(largest, reference, seed),
                texts.latency,
                texts.batch,
                1,
            )
            sensitivity = {**row, "blas_threads": default_blas}
    log("speed: peak memory (fresh processes)")
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="vectors-") as tmp:
        vectors_file = reference.save(Path(tmp) / "reference.npz")
        large_memory = measure_large_router_memory(
            env, vectors_file, largest, seed, config.memory_runs
        )
    memory = {
        "interpreter": measure_interpreter_memory(env, config.memory_runs),
        "large_router": large_memory,
    }
    return {
        "config": asdict(config),
        "seed": seed,
        "threads": threads,
        "blas_threads": blas,
        "task_texts": {
            "pool": len(texts.pool),
            "latency": len(texts.latency),
            "batch": len(texts.batch),
        },
        "load_average_start": load_start,
        "load_average_end": load_average(),
        **children,
        **model,
        "overhead": overhead,
        "overhead_blas_default": sensitivity,
        "memory": memory,
        "profiles": profiles,
    }
