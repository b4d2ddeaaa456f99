"""Import time and cold start, each in fresh processes.

Import: the wall time of the import statement inside the child (interpreter start-up
excluded), and which heavy modules it loaded: ``import skillroute`` must not load torch.

Cold start: process spawn to the first `RouteResult`, the way a CLI call or a new agent
process pays it, with the embedding cache warm (only the task should be encoded) and
empty (every skill text is encoded too). The child counts the texts given to
`SentenceTransformerEncoder.embed`, which proves what the cache saved. Warm and empty
runs alternate, so a change in the machine's load hits both alike.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.speed.child import PEAK_RSS_FUNCTIONS, ChildEnv, ChildResult, run_child
from benchmarks.speed.stats import median

__all__ = ["COLD_TASK", "HEAVY_MODULES", "measure_cold_start", "measure_imports"]

HEAVY_MODULES = ("torch", "sentence_transformers", "transformers", "sklearn", "scipy", "numpy")
COLD_TASK = "add retries with exponential backoff to my celery task"
IMPORTS = {
    "import skillroute": "import skillroute",
    "from skillroute import Router, route": "from skillroute import Router, route",
}

_IMPORT_SNIPPET = """\
import time
_start = time.perf_counter()
{statement}
_elapsed = time.perf_counter() - _start
import json, sys
{peak}
print(json.dumps({{
    "seconds": _elapsed,
    "modules": {{name: name in sys.modules for name in {heavy!r}}},
    "peak_rss_kb": _peak_rss_kb(),
    "ru_maxrss_kb": _ru_maxrss_kb(),
}}))
"""

_COLD_SNIPPET = """\
import os, time
_spawned = float(os.environ["SRB_SPAWN_EPOCH"])
_start = time.time()
from skillroute import Router
import skillroute.encoders as _encoders
_batches = []
_embed = _encoders.SentenceTransformerEncoder.embed
def _counting_embed(self, texts):
    _batches.append(len(texts))
    return _embed(self, texts)
_encoders.SentenceTransformerEncoder.embed = _counting_embed
_loads = []
_load = _encoders.SentenceTransformerEncoder._load
def _timed_load(self):
    if not _loads:
        _t = time.time()
        import sentence_transformers
        _loads.append(time.time() - _t)
        _t = time.time()
        model = _load(self)
        _loads.append(time.time() - _t)
        return model
    return _load(self)
_encoders.SentenceTransformerEncoder._load = _timed_load
_imported = time.time()
router = Router.from_catalog()
_built = time.time()
result = router.route({task!r})
_routed = time.time()
import json, torch
{peak}
print(json.dumps({{
    "spawn_to_result_s": _routed - _spawned,
    "interpreter_s": _start - _spawned,
    "import_s": _imported - _start,
    "router_s": _built - _imported,
    "first_route_s": _routed - _built,
    "encoder_batches": _batches,
    "import_model_libraries_s": _loads[0] if _loads else None,
    "load_model_s": _loads[1] if _loads else None,
    "skill_texts": sum(len(texts) for texts in router.catalog.routing_texts()),
    "fitted": router.calibration.fit is not None,
    "decision": result.decision,
    "skill": result.skill,
    "torch_threads": torch.get_num_threads(),
    "peak_rss_kb": _peak_rss_kb(),
    "ru_maxrss_kb": _ru_maxrss_kb(),
}}))
"""


def _import_runs(env: ChildEnv, statement: str, runs: int) -> list[dict[str, Any]]:
    code = _IMPORT_SNIPPET.format(statement=statement, heavy=HEAVY_MODULES, peak=PEAK_RSS_FUNCTIONS)
    run_child(code, env)  # untimed: writes the bytecode cache
    return [run_child(code, env).payload for _ in range(runs)]


def _import_summary(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    ms = [1000.0 * p["seconds"] for p in payloads]
    modules = payloads[0]["modules"]
    return {
        "runs": len(ms),
        "median_ms": median(ms),
        "min_ms": min(ms),
        "max_ms": max(ms),
        "modules_loaded": modules,
        "modules_consistent": all(p["modules"] == modules for p in payloads),
        "peak_rss_mb": median([p["peak_rss_kb"] / 1024 for p in payloads]),
        "ru_maxrss_mb": median([p["ru_maxrss_kb"] / 1024 for p in payloads]),
    }


def measure_imports(env: ChildEnv, runs: int) -> dict[str, Any]:
    """Median import time of each statement in `IMPORTS`, over ``runs`` fresh processes."""
    return {
        label: _import_summary(_import_runs(env, stmt, runs)) for label, stmt in IMPORTS.items()
    }


def _cold_summary(results: list[ChildResult]) -> dict[str, Any]:
    payloads = [r.payload for r in results]
    phases = (
        "spawn_to_result_s",
        "interpreter_s",
        "import_s",
        "router_s",
        "first_route_s",
        "import_model_libraries_s",
        "load_model_s",
    )
    summary: dict[str, Any] = {
        f"median_{name}": median([p[name] for p in payloads]) for name in phases
    }
    batches = [p["encoder_batches"] for p in payloads]
    summary.update(
        runs=len(payloads),
        min_spawn_to_result_s=min(p["spawn_to_result_s"] for p in payloads),
        max_spawn_to_result_s=max(p["spawn_to_result_s"] for p in payloads),
        median_process_wall_s=median([r.wall_s for r in results]),
        encoder_batches=batches[0],
        encoder_batches_consistent=all(b == batches[0] for b in batches),
        texts_encoded=sum(batches[0]),
        skill_texts=payloads[0]["skill_texts"],
        fitted_calibration=payloads[0]["fitted"],
        decision=payloads[0]["decision"],
        skill=payloads[0]["skill"],
        torch_threads=payloads[0]["torch_threads"],
        peak_rss_mb=median([p["peak_rss_kb"] / 1024 for p in payloads]),
        ru_maxrss_mb=median([p["ru_maxrss_kb"] / 1024 for p in payloads]),
    )
    return summary


def measure_cold_start(
    env: ChildEnv, runs: int, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Spawn to first result with a pre-warmed cache and with an empty one, alternating."""
    code = _COLD_SNIPPET.format(task=COLD_TASK, peak=PEAK_RSS_FUNCTIONS)
    warm: list[ChildResult] = []
    empty: list[ChildResult] = []
    with tempfile.TemporaryDirectory(dir=env.work_dir, prefix="warm-cache-") as warm_dir:
        run_child(code, env, cache_dir=Path(warm_dir))  # untimed: fills the cache and bytecode
        for i in range(runs):
            warm.append(run_child(code, env, cache_dir=Path(warm_dir)))
            with tempfile.TemporaryDirectory(dir=env.work_dir, prefix="empty-cache-") as fresh:
                empty.append(run_child(code, env, cache_dir=Path(fresh)))
            log(
                f"  cold start {i + 1}/{runs}: warm cache "
                f"{warm[-1].payload['spawn_to_result_s']:.1f} s, empty cache "
                f"{empty[-1].payload['spawn_to_result_s']:.1f} s"
            )
    return {
        "task": COLD_TASK,
        "warm_cache": _cold_summary(warm),
        "empty_cache": _cold_summary(empty),
    }
