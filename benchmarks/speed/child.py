"""Run a snippet of Python in a fresh interpreter and read back one JSON line.

Import time, cold start and peak memory only mean something in a new process: the
parent has already imported numpy, torch and skillroute. Snippets are passed with
``python -c`` so nothing but the standard library's ``time`` runs before the import
under test. Every child gets the same environment (`ChildEnv`):

- bytecode is written to a private ``PYTHONPYCACHEPREFIX`` (this machine sets
  ``PYTHONDONTWRITEBYTECODE=1`` and the editable ``src/`` has no ``__pycache__``, so
  without it every import would recompile skillroute, which no installed copy does);
- the default model (``SKILLROUTE_MODEL`` unset), offline, and the torch thread count
  of the run;
- ``SRB_SPAWN_EPOCH``: the parent's wall clock just before the spawn, so a child can
  report "process start to first result" including interpreter start-up.

Peak memory is read from ``VmHWM`` in ``/proc/self/status`` (`PEAK_RSS_FUNCTIONS`), not
from ``resource.getrusage(RUSAGE_SELF).ru_maxrss``: on Linux a child started by
``subprocess`` (vfork + exec) inherits the parent's peak in ``ru_maxrss`` (measured: a
bare interpreter reports 408 MB when its parent holds 400 MB, against a true 14 MB), and
this parent holds the model and a 10,000-skill router. ``VmHWM`` belongs to the new
process image only. ``ru_maxrss`` is still recorded, for comparison.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PEAK_RSS_FUNCTIONS", "ChildEnv", "ChildResult", "run_child"]

SPAWN_VAR = "SRB_SPAWN_EPOCH"

# appended to snippets after the timed part: defines _peak_rss_kb() and _ru_maxrss_kb()
PEAK_RSS_FUNCTIONS = """
def _ru_maxrss_kb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

def _peak_rss_kb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return _ru_maxrss_kb()
"""


@dataclass(frozen=True)
class ChildEnv:
    """How every benchmark child process is started."""

    work_dir: Path  # the children's working directory; bytecode goes under it
    threads: int | None
    repo_root: Path  # put on sys.path by snippets that import `benchmarks`

    def variables(self, cache_dir: Path | None = None) -> dict[str, str]:
        """The environment of a child (``cache_dir``: its ``SKILLROUTE_CACHE_DIR``)."""
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("SKILLROUTE_MODEL", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.work_dir / "pycache")
        env["HF_HUB_OFFLINE"] = "1"
        env["TRANSFORMERS_OFFLINE"] = "1"
        env["TOKENIZERS_PARALLELISM"] = "false"
        if self.threads:
            env["OMP_NUM_THREADS"] = str(self.threads)
            env["MKL_NUM_THREADS"] = str(self.threads)
        if cache_dir is not None:
            env["SKILLROUTE_CACHE_DIR"] = str(cache_dir)
        return env


@dataclass(frozen=True)
class ChildResult:
    """The child's JSON payload and the parent's view of its lifetime."""

    payload: dict[str, Any]
    wall_s: float  # spawn to exit, as the parent saw it


def run_child(
    code: str, env: ChildEnv, *, cache_dir: Path | None = None, timeout_s: float = 600.0
) -> ChildResult:
    """Run ``code`` with ``python -c``; its last stdout line must be a JSON object.

    A failing child raises `RuntimeError` with the end of its stderr: a speed figure from
    a process that crashed would be meaningless.
    """
    variables = env.variables(cache_dir)
    variables[SPAWN_VAR] = repr(time.time())
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=variables,
        cwd=env.work_dir,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    wall = time.perf_counter() - start
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"benchmark child exited with {proc.returncode}: {proc.stderr.strip()[-2000:]}"
        )
    return ChildResult(json.loads(lines[-1]), wall)
