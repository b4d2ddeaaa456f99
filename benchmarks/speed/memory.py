"""Peak memory (``VmHWM``, the max RSS of the process image) of fresh processes.

Peak RSS only makes sense per process, so every figure comes from a child (why
``VmHWM`` rather than ``getrusage``: see `benchmarks.speed.child`): a bare interpreter
(the floor), the import probes, the cold-start probe with a warm cache (a router over the
bundled catalog and the default model that has routed one task), and the 10,000-skill
router built here with the instant encoder (no model, so the figure is the catalog, its
index, the widened head and the vector table that stands in for the model; the table's
size is reported beside it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.speed.child import PEAK_RSS_FUNCTIONS, ChildEnv, run_child
from benchmarks.speed.stats import median

__all__ = ["measure_interpreter_memory", "measure_large_router_memory"]

_BARE_SNIPPET = (
    "import json\n"
    + PEAK_RSS_FUNCTIONS
    + 'print(json.dumps({"peak_rss_kb": _peak_rss_kb(), "ru_maxrss_kb": _ru_maxrss_kb()}))\n'
)

_LARGE_SNIPPET = """\
import sys
sys.path.insert(0, {repo!r})
import json
from pathlib import Path
from benchmarks.speed.synthetic import ReferenceVectors, overhead_router
{peak}
reference = ReferenceVectors.load(Path({vectors!r}))
before = _peak_rss_kb()
router = overhead_router({n_skills}, reference, seed={seed})
result = router.route(reference.tasks[0])
print(json.dumps({{
    "peak_rss_kb": _peak_rss_kb(),
    "ru_maxrss_kb": _ru_maxrss_kb(),
    "before_router_kb": before,
    "encoder_table_bytes": router.encoder.nbytes,
    "skills": len(router.catalog),
    "torch_loaded": "torch" in sys.modules,
    "decision": result.decision,
}}))
"""


def measure_interpreter_memory(env: ChildEnv, runs: int) -> dict[str, Any]:
    """Peak RSS of a Python that imports only json: the floor of every row."""
    payloads = [run_child(_BARE_SNIPPET, env).payload for _ in range(runs)]
    return {
        "runs": runs,
        "peak_rss_mb": median([p["peak_rss_kb"] / 1024 for p in payloads]),
        "ru_maxrss_mb": median([p["ru_maxrss_kb"] / 1024 for p in payloads]),
    }


def measure_large_router_memory(
    env: ChildEnv, vectors_file: Path, n_skills: int, seed: int, runs: int
) -> dict[str, Any]:
    """Peak RSS of a process that built an ``n_skills`` router and routed one task."""
    code = _LARGE_SNIPPET.format(
        repo=str(env.repo_root),
        vectors=str(vectors_file),
        n_skills=n_skills,
        seed=seed,
        peak=PEAK_RSS_FUNCTIONS,
    )
    payloads = [run_child(code, env).payload for _ in range(runs)]
    return {
        "runs": runs,
        "skills": payloads[0]["skills"],
        "peak_rss_mb": median([p["peak_rss_kb"] / 1024 for p in payloads]),
        "ru_maxrss_mb": median([p["ru_maxrss_kb"] / 1024 for p in payloads]),
        "peak_before_router_mb": median([p["before_router_kb"] / 1024 for p in payloads]),
        "encoder_table_mb": payloads[0]["encoder_table_bytes"] / 2**20,
        "torch_loaded": payloads[0]["torch_loaded"],
        "decision": payloads[0]["decision"],
    }
